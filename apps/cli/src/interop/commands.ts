import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { CliIo } from '../cli.js';
import { UsageError, parsePositiveInt } from '../usage-error.js';
import {
  exportIndicators,
  importFile,
  parseDefaults,
  parseListType,
  type ImportFormat,
} from './import-file.js';

/** Per-line problems printed on stderr; the rest goes to `--report`. */
const SHOWN_PROBLEMS = 100;

/** `fedctl import` and `fedctl export` (docs/interop.md). */
export function registerInteropCommands(program: Command, io: CliIo): void {
  const line = (t: string) => io.out(`${t}\n`);
  program
    .command('import')
    .description(
      'import a CSV, plain list, STIX 2.1 bundle or MISP event into a node as indicators held ' +
        'for review (nothing is shared until an analyst sets a scope); re-importing creates nothing new',
    )
    .argument('<file>', 'file to import')
    .addOption(
      new Option('--format <format>', 'file format')
        .choices(['csv', 'list', 'stix', 'misp'])
        .makeOptionMandatory(),
    )
    .requiredOption('--node <url>', "the node's API base URL, e.g. http://127.0.0.1:3101")
    .requiredOption('--token <token>', 'bearer token with the analyst role (fedctl token issue)')
    .option('--dry-run', 'validate and normalize, report what would be created, store nothing')
    .option('--type <type>', 'indicator type of every line of a list', 'domain')
    .option('--subtype <subtype>', 'subtype of every line of a list (e.g. iban, handle)')
    .option('--chain <chain>', 'chain of every line of a crypto-address list (bitcoin, ethereum)')
    .option('--tlp <tlp>', 'TLP where the file says none', 'AMBER')
    .option('--confidence <n>', 'confidence where the file says none', '50')
    .option('--reliability <r>', 'source reliability A, B, C or X', 'X')
    .option('--accuracy <n>', 'information accuracy 1..4', '3')
    .option('--categories <list>', 'content categories, comma-separated (e.g. webtoon,film)')
    .option('--batch <n>', 'rows per request (at most 5000)', '5000')
    .option('--report <file>', 'write every problem (line, code, reason) as JSON')
    .action(
      async (
        file: string,
        o: {
          format: ImportFormat;
          node: string;
          token: string;
          dryRun?: boolean;
          type: string;
          subtype?: string;
          chain?: string;
          tlp: string;
          confidence: string;
          reliability: string;
          accuracy: string;
          categories?: string;
          batch: string;
          report?: string;
        },
      ) => {
        if (!/^https?:\/\/[^\s]+$/.test(o.node)) throw new UsageError('--node', 'an http(s) URL');
        const totals = await importFile({
          file,
          format: o.format,
          node: o.node,
          token: o.token,
          dryRun: o.dryRun === true,
          defaults: parseDefaults(o),
          listType: parseListType(o.type),
          ...(o.subtype ? { subtype: o.subtype } : {}),
          ...(o.chain ? { chain: o.chain } : {}),
          batch: parsePositiveInt(o.batch, '--batch', 5000),
          err: io.err,
          tty: process.stderr.isTTY === true,
        });
        for (const p of totals.problems.slice(0, SHOWN_PROBLEMS)) {
          io.err(
            `${p.ref}: ${p.outcome}${p.code ? ` ${p.code}` : ''}${p.detail ? ` - ${p.detail}` : ''}${p.value ? ` [${p.value}]` : ''}\n`,
          );
        }
        if (totals.problems.length > SHOWN_PROBLEMS) {
          io.err(`... and ${totals.problems.length - SHOWN_PROBLEMS} more (see --report)\n`);
        }
        if (o.report) writeFileSync(o.report, `${JSON.stringify(totals.problems, null, 2)}\n`);
        const rate = totals.seconds > 0 ? Math.round(totals.read / totals.seconds) : totals.read;
        line(
          `${o.dryRun ? 'dry run: ' : ''}${totals.read} ${o.format === 'stix' ? 'objects' : o.format === 'misp' ? 'attributes' : 'rows'} read: ` +
            `${totals.created} ${o.dryRun ? 'would be created' : 'created'}, ${totals.existing} already held, ` +
            `${totals.invalid} invalid, ${totals.skipped} skipped (${totals.seconds.toFixed(2)} s, ${rate} rows/s)`,
        );
        if (!o.dryRun && totals.created > 0) {
          line('held for review: addressed to this node only until an analyst sets a scope');
        }
      },
    );

  program
    .command('export')
    .description("export a node's indicators as CSV, a STIX 2.1 bundle or a MISP event")
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['csv', 'stix', 'misp'])
        .makeOptionMandatory(),
    )
    .requiredOption('--node <url>', "the node's API base URL")
    .requiredOption('--token <token>', 'bearer token with the analyst role')
    .option('--type <type>', 'only this indicator type')
    .option('--since <time>', 'only indicators changed after this RFC 3339 time (UTC, ms)')
    .option('--limit <n>', 'at most this many indicators', '10000')
    .option(
      '--purpose <purpose>',
      'why the records are read (audited): investigation[:case-ref], analysis, quality-review, ...',
      'analysis',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .action(
      async (o: {
        format: 'csv' | 'stix' | 'misp';
        node: string;
        token: string;
        type?: string;
        since?: string;
        limit: string;
        purpose: string;
        out?: string;
      }) => {
        if (!/^https?:\/\/[^\s]+$/.test(o.node)) throw new UsageError('--node', 'an http(s) URL');
        const text = await exportIndicators({
          node: o.node,
          token: o.token,
          format: o.format,
          ...(o.type ? { type: o.type } : {}),
          ...(o.since ? { since: o.since } : {}),
          limit: parsePositiveInt(o.limit, '--limit', 100000),
          purpose: o.purpose,
        });
        if (o.out) {
          writeFileSync(o.out, text);
          io.err(`wrote ${o.out}\n`);
        } else io.out(text.endsWith('\n') ? text : `${text}\n`);
      },
    );
}
