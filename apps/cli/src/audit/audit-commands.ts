import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  directoryKeyResolver,
  parseDirectory,
  parseStrictJson,
  verifyDirectory,
  type Directory,
  type KeyResolver,
} from '../../../../libs/protocol/src/index.js';
import { readGovernanceKeyFile } from '../../../../libs/keystore/src/index.js';
import {
  reconcile,
  verifyExport,
  type ExportManifestFile,
  type ExportVerifyResult,
  type ReconcileReport,
  type WitnessView,
} from '../../../../libs/audit/src/index.js';
import { MEMBER_ID, UsageError } from '../usage-error.js';
import {
  fetchEntries,
  fetchEntryLines,
  fetchManifest,
  fileLines,
  manifestPathOf,
  nodeBase,
  readManifestFile,
  type NodeApi,
} from './audit-client.js';

/** The demo's `federation.json`: each member's API URL and auditor token, the trust anchors. */
interface FederationJson {
  governanceKeysFile?: string;
  members: Record<string, { api: string; tokens: { auditor?: string } }>;
}

function readFederation(file: string): FederationJson {
  if (!existsSync(file)) throw new UsageError('--federation', `${file} does not exist`);
  const v = parseStrictJson(readFileSync(file, 'utf8')) as FederationJson;
  if (typeof v !== 'object' || v === null || typeof v.members !== 'object') {
    throw new UsageError('--federation', `${file} is not a federation.json (no members)`);
  }
  return v;
}

function memberApi(fed: FederationJson, id: string, argument: string): NodeApi {
  const m = fed.members[id];
  if (!m) throw new UsageError(argument, `"${id}" is not a member of the federation file`);
  if (!m.tokens.auditor) throw new UsageError(argument, `no auditor token for ${id}`);
  return { url: nodeBase(m.api, argument), token: m.tokens.auditor };
}

/** The directory the manifest's signatures are checked in: verified when trust anchors are given. */
async function directoryOf(
  file: ExportManifestFile,
  governanceKeys: string | undefined,
  warn: (t: string) => void,
): Promise<Directory> {
  if (governanceKeys) {
    const keys = readGovernanceKeyFile(governanceKeys).keys;
    return verifyDirectory(file.directory, { governanceKeys: keys, now: new Date() });
  }
  warn(
    'WARNING: no --governance keys: the directory embedded in the export is used unverified; ' +
      'signatures prove consistency, not who signed',
  );
  const payload = file.directory.split('.')[1] ?? '';
  return parseDirectory(parseStrictJson(Buffer.from(payload, 'base64url')));
}

/**
 * `--witness-state` files: each is what a witness's `GET /api/v1/audit/witness` answered (a
 * member's view of the hub's log, or the hub's view of members' logs). Keeps the checkpoint the
 * witness holds of `log`, if any (ADR 0062).
 */
export function readWitnessViews(
  files: readonly string[],
  log: string,
): { views: WitnessView[]; without: string[] } {
  const views: WitnessView[] = [];
  const without: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) throw new UsageError('--witness-state', `${file} does not exist`);
    let v: { witness?: unknown; heads?: unknown };
    try {
      v = parseStrictJson(readFileSync(file, 'utf8')) as typeof v;
    } catch (e) {
      throw new UsageError(
        '--witness-state',
        `${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    if (
      typeof v !== 'object' ||
      v === null ||
      typeof v.witness !== 'string' ||
      !MEMBER_ID.test(v.witness) ||
      !Array.isArray(v.heads)
    ) {
      throw new UsageError(
        '--witness-state',
        `${file} is not a witness state ({witness, heads}, as GET /api/v1/audit/witness answers)`,
      );
    }
    const head = (v.heads as unknown[]).find(
      (h) => (h as { log?: unknown } | null)?.log === log,
    ) as { checkpoint?: unknown } | undefined;
    if (head === undefined) {
      without.push(v.witness);
      continue;
    }
    if (typeof head.checkpoint !== 'string') {
      throw new UsageError('--witness-state', `${file}: the head of ${log} has no checkpoint`);
    }
    views.push({ witness: v.witness, checkpoint: head.checkpoint });
  }
  return { views, without };
}

/** Who should countersign `log`: every active member for the hub's log, the hub for a member's. */
function expectedWitnesses(directory: Directory, log: string): string[] {
  return log === 'hub'
    ? directory.members.filter((m) => m.id !== 'hub' && m.status === 'active').map((m) => m.id)
    : ['hub'];
}

/** How far each expected witness countersigned, and each witness view's outcome, as lines. */
export function describeWitnessing(
  r: ExportVerifyResult,
  expected: readonly string[],
  without: readonly string[] = [],
): string[] {
  const out: string[] = [];
  if (r.newestCheckpoint > 0) {
    const names = [...new Set([...expected, ...Object.keys(r.cosignedUpTo)])].sort();
    const parts = names.map((w) => {
      const upTo = r.cosignedUpTo[w];
      if (upTo === undefined) return `${w} none`;
      const behind = r.newestCheckpoint - upTo;
      return behind > 0 ? `${w} up to ${upTo} (${behind} entries behind)` : `${w} up to ${upTo}`;
    });
    out.push(`countersigned (newest checkpoint at ${r.newestCheckpoint}): ${parts.join(', ')}`);
  }
  for (const v of r.views) {
    const what = `${v.witness} holds a checkpoint at ${v.size}`;
    switch (v.status) {
      case 'matched':
        out.push(`${what}: this export has the same root there`);
        break;
      case 'forked':
        out.push(`${what} with root ${v.root}: this export has another root there (FORK)`);
        break;
      case 'beyond':
        out.push(
          `${what}: beyond this export (${r.manifest?.size ?? 0} entries); export again to check it`,
        );
        break;
      case 'pruned':
        out.push(`${what}: before the retained entries; not checkable`);
        break;
      case 'unchecked':
        out.push(`${what}: not checked (verification stopped first)`);
        break;
    }
  }
  for (const w of without) out.push(`${w} holds no checkpoint of this log`);
  return out;
}

function describeVerify(log: string, r: ExportVerifyResult): string[] {
  const m = r.manifest;
  const head = m
    ? `log ${m.log}: entries ${m.start}..${m.size - 1} (${r.entries} read), root ${m.root}`
    : `log ${log}`;
  if (!r.ok) {
    return [head, `FAILED at position ${r.failure?.position ?? '?'}: ${r.failure?.reason ?? ''}`];
  }
  return [
    head,
    `OK: manifest and ${r.checkpointsMatched} checkpoint(s) verified` +
      (r.checkpointsBeforeStart
        ? `, ${r.checkpointsBeforeStart} before the retained entries`
        : '') +
      `, ${r.witnessed} countersigned` +
      (r.witnesses.length > 0 ? ` (witnesses: ${r.witnesses.join(', ')})` : ' by no witness'),
    ...(m && m.start > 0
      ? [`entries before ${m.start} were pruned (retention); their right edge verified`]
      : []),
  ];
}

/**
 * Whose cosignatures count for a log (ADR 0061): the hub's for a member's log, any member's in
 * the directory for the hub's own log; each verified with the claimed witness's own keys.
 */
export function witnessKeys(
  directory: Directory,
  log: string,
  at: Date,
): (witness: string) => KeyResolver | undefined {
  return (witness) => {
    const allowed =
      log === 'hub'
        ? witness !== 'hub' && directory.members.some((m) => m.id === witness)
        : witness === 'hub';
    return allowed
      ? directoryKeyResolver(directory, { at, mode: 'historical', member: witness })
      : undefined;
  };
}

/** The differences of a reconciliation as lines. */
export function describeReconcile(r: ReconcileReport): string[] {
  const out = [
    `${r.sender} → ${r.receiver}: ${r.bundlesDisclosed} bundle(s), ${r.recordsDisclosed} record(s) disclosed, ${r.recordsMatched} matched`,
  ];
  for (const kind of ['lost', 'duplicated', 'unexpected', 'digest-mismatch'] as const) {
    const fs = r.findings.filter((f) => f.kind === kind);
    out.push(`${kind}: ${fs.length}`);
    for (const f of fs) out.push(`  ${f.record} (bundle #${f.bundles.join(', #')}): ${f.detail}`);
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function time(v: string | undefined, argument: string): string | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(argument, `"${v}" is not a date`);
  const s = d.toISOString();
  if (!RFC3339.test(s)) throw new UsageError(argument, `"${v}" is out of range`);
  return s;
}

/** `fedctl audit verify | export | reconcile` (docs/audit.md). */
export function registerAuditCommands(
  program: Command,
  line: (t: string) => void,
  warn: (t: string) => void,
): void {
  const audit = program.command('audit').description("auditor's tools: verify, export, reconcile");

  audit
    .command('verify')
    .description(
      'verify a log export (x.jsonl next to x.manifest.json) or a node (URL) offline: manifest, ' +
        'checkpoints, every entry; exits 1 with the first bad position',
    )
    .argument('<export-or-url>', 'export file (.jsonl) or node URL')
    .option('--token <token>', 'auditor token (when verifying a node URL)')
    .option('--governance <file>', 'governance public keys: verify the embedded directory')
    .option('--federation <file>', 'demo federation.json (auditor token and governance keys)')
    .option('--member <id>', 'member of --federation to verify')
    .option(
      '--witness-state <file>',
      "a witness's GET /api/v1/audit/witness answer, saved to a file: the checkpoint it holds of " +
        'this log must match the export (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(
      async (
        target: string,
        o: {
          token?: string;
          governance?: string;
          federation?: string;
          member?: string;
          witnessState: string[];
        },
      ) => {
        let api: NodeApi | undefined;
        let governance = o.governance;
        if (o.federation) {
          const fed = readFederation(o.federation);
          governance ??= fed.governanceKeysFile;
          if (o.member) api = memberApi(fed, o.member, '--member');
        }
        if (!api && /^https?:/.test(target)) {
          if (!o.token) throw new UsageError('--token', 'needed to verify a node URL');
          api = { url: nodeBase(target, '<export-or-url>'), token: o.token };
        }
        const file = api ? await fetchManifest(api) : readManifestFile(manifestPathOf(target));
        const directory = await directoryOf(file, governance, warn);
        const size = (
          parseStrictJson(Buffer.from(file.manifest.split('.')[1] ?? '', 'base64url')) as {
            size?: unknown;
          }
        ).size;
        if (typeof size !== 'number') throw new Error('the manifest has no size');
        const log = (
          parseStrictJson(Buffer.from(file.manifest.split('.')[1] ?? '', 'base64url')) as {
            log?: unknown;
          }
        ).log;
        if (typeof log !== 'string' || !MEMBER_ID.test(log))
          throw new Error('the manifest names no log');
        const { views, without } = readWitnessViews(o.witnessState, log);
        const at = new Date();
        const result = await verifyExport({
          file,
          lines: api ? fetchEntryLines(api, size) : fileLines(target),
          resolveLogKey: directoryKeyResolver(directory, { at, mode: 'historical', member: log }),
          witnessKeyFor: witnessKeys(directory, log, at),
          views,
          onProgress: (n, total) => warn(`verified ${n} / ${total} entries`),
        });
        for (const l of describeVerify(log, result)) line(l);
        for (const l of describeWitnessing(result, expectedWitnesses(directory, log), without)) {
          line(l);
        }
        if (!result.ok) {
          throw new Error(
            `audit log of ${log} failed verification at position ${result.failure?.position ?? '?'}`,
          );
        }
      },
    );

  audit
    .command('export')
    .description("export a node's log: <out>/audit-<member>-<size>.jsonl and .manifest.json")
    .option('--node <url>', 'node URL')
    .option('--token <token>', 'auditor token')
    .option('--federation <file>', 'demo federation.json')
    .option('--member <id>', 'member of --federation')
    .option('--out <dir>', 'output folder', '.')
    .action(
      async (o: {
        node?: string;
        token?: string;
        federation?: string;
        member?: string;
        out: string;
      }) => {
        let api: NodeApi;
        if (o.federation) {
          if (!o.member) throw new UsageError('--member', 'needed with --federation');
          api = memberApi(readFederation(o.federation), o.member, '--member');
        } else {
          if (!o.node || !o.token) throw new UsageError('--node', '--node and --token are needed');
          api = { url: nodeBase(o.node, '--node'), token: o.token };
        }
        const file = await fetchManifest(api);
        const m = parseStrictJson(Buffer.from(file.manifest.split('.')[1] ?? '', 'base64url')) as {
          log: string;
          size: number;
        };
        mkdirSync(o.out, { recursive: true });
        const base = join(o.out, `audit-${m.log}-${m.size}`);
        const out = createWriteStream(`${base}.jsonl`);
        let n = 0;
        for await (const ls of fetchEntryLines(api, m.size)) {
          const block = ls.map((l) => `${l}\n`).join('');
          if (!out.write(block)) await new Promise<void>((r) => out.once('drain', r));
          n += ls.length;
        }
        await new Promise<void>((resolve, reject) =>
          out.end((e?: Error | null) => (e ? reject(e) : resolve())),
        );
        writeFileSync(`${base}.manifest.json`, `${JSON.stringify(file, null, 2)}\n`);
        line(`wrote ${base}.jsonl (${n} entries) and ${base}.manifest.json`);
      },
    );

  audit
    .command('reconcile')
    .description(
      "compare a sender's disclosures with a receiver's receipts: lost, duplicated, unexpected, " +
        'digest mismatch; exits 1 when there is any difference',
    )
    .requiredOption('--sender <id>', 'sending member id')
    .requiredOption('--receiver <id>', 'receiving member id')
    .option('--federation <file>', 'demo federation.json (URLs and auditor tokens)')
    .option('--sender-url <url>', 'sender node URL')
    .option('--sender-token <token>', 'auditor token at the sender')
    .option('--receiver-url <url>', 'receiver node URL')
    .option('--receiver-token <token>', 'auditor token at the receiver')
    .option('--since <time>', 'disclosures at or after (ISO 8601)')
    .option('--until <time>', 'disclosures before (ISO 8601)')
    .option('--json', 'print the report as JSON')
    .action(
      async (o: {
        sender: string;
        receiver: string;
        federation?: string;
        senderUrl?: string;
        senderToken?: string;
        receiverUrl?: string;
        receiverToken?: string;
        since?: string;
        until?: string;
        json?: boolean;
      }) => {
        for (const [arg, id] of [
          ['--sender', o.sender],
          ['--receiver', o.receiver],
        ] as const) {
          if (!MEMBER_ID.test(id)) throw new UsageError(arg, `"${id}" is not a member id`);
        }
        let sender: NodeApi;
        let receiver: NodeApi;
        if (o.federation) {
          const fed = readFederation(o.federation);
          sender = memberApi(fed, o.sender, '--sender');
          receiver = memberApi(fed, o.receiver, '--receiver');
        } else {
          if (!o.senderUrl || !o.senderToken || !o.receiverUrl || !o.receiverToken) {
            throw new UsageError(
              '--federation',
              'give --federation, or both nodes with --*-url and --*-token',
            );
          }
          sender = { url: nodeBase(o.senderUrl, '--sender-url'), token: o.senderToken };
          receiver = { url: nodeBase(o.receiverUrl, '--receiver-url'), token: o.receiverToken };
        }
        const since = time(o.since, '--since');
        const until = time(o.until, '--until');
        const window = { ...(since ? { since } : {}), ...(until ? { until } : {}) };
        const disclosed = await fetchEntries(sender, {
          op: 'disclosure',
          partner: o.receiver,
          ...window,
        });
        // Receptions are matched by bundle number, whenever they happened (a bundle disclosed at
        // the end of the window may be received after it).
        const receipts = await fetchEntries(receiver, { op: 'receipt', partner: o.sender });
        const rejections = await fetchEntries(receiver, { op: 'rejection', partner: o.sender });
        const report = reconcile({
          sender: o.sender,
          receiver: o.receiver,
          senderEntries: disclosed,
          receiverEntries: [...receipts, ...rejections],
        });
        if (o.json) line(JSON.stringify(report, null, 2));
        else for (const l of describeReconcile(report)) line(l);
        if (report.findings.length > 0) {
          throw new Error(
            `${report.findings.length} difference(s) between ${o.sender} and ${o.receiver}`,
          );
        }
      },
    );
}
