import type { Command } from 'commander';
import {
  BackupError,
  backupDatabase,
  databaseLocation,
  repackDatabase,
  restoreDatabase,
} from '../../../../libs/backup/src/index.js';
import { UsageError } from '../usage-error.js';

function location(database: string, schema: string | undefined) {
  try {
    return databaseLocation(database, schema);
  } catch (e) {
    if (e instanceof BackupError) throw new UsageError('--database', e.message);
    throw e;
  }
}

/**
 * Registers `fedctl backup`, `fedctl restore` (docs/operations.md, "Backup and restore") and
 * `fedctl repack` ("SQLite page size").
 */
export function registerBackupCommands(program: Command, line: (t: string) => void): void {
  program
    .command('backup')
    .description(
      "consistent copy of a node's database (records, outbox, inbound state, audit log); SQLite " +
        'online, PostgreSQL with pg_dump of the node schema',
    )
    .requiredOption('--database <url>', 'as FEDINTEL_DATABASE_URL: sqlite:<path> or postgres://...')
    .option('--schema <name>', 'as FEDINTEL_DATABASE_SCHEMA (PostgreSQL)')
    .requiredOption('--out <file>', 'backup file to write (must not exist)')
    .action(async (o: { database: string; schema?: string; out: string }) => {
      const started = Date.now();
      const bytes = await backupDatabase(location(o.database, o.schema), o.out);
      line(`wrote ${o.out} (${bytes} bytes) in ${Date.now() - started} ms`);
    });

  program
    .command('restore')
    .description(
      "replace a STOPPED node's database with a backup; on its next start the node reads its " +
        'inbox again and resumes its bundle numbering after what its outbox streams hold',
    )
    .requiredOption('--database <url>', 'as FEDINTEL_DATABASE_URL: sqlite:<path> or postgres://...')
    .option('--schema <name>', 'as FEDINTEL_DATABASE_SCHEMA (PostgreSQL)')
    .requiredOption('--from <file>', 'backup file (fedctl backup)')
    .action(async (o: { database: string; schema?: string; from: string }) => {
      await restoreDatabase(location(o.database, o.schema), o.from, new Date());
      line(`restored ${o.from}; start the node: it replays its inbox and checks its numbering`);
    });

  program
    .command('repack')
    .description(
      "rewrite a STOPPED node's or hub's SQLite database with 16 KiB pages (ADR 0060); files " +
        'created before it keep 4 KiB pages otherwise',
    )
    .requiredOption('--database <url>', 'as FEDINTEL_DATABASE_URL: sqlite:<path>')
    .action((o: { database: string }) => {
      if (!o.database.startsWith('sqlite:')) {
        throw new UsageError('--database', 'repack rewrites a SQLite file: sqlite:<path>');
      }
      const path = o.database.slice('sqlite:'.length);
      const started = Date.now();
      const r = repackDatabase(path);
      const mib = (n: number) => (n / 2 ** 20).toFixed(1);
      line(
        r.rewritten
          ? `${path}: ${r.pageSizeBefore}-byte pages -> ${r.pageSizeAfter}, ${mib(r.bytesBefore)} MiB -> ${mib(r.bytesAfter)} MiB, integrity ok (${Date.now() - started} ms)`
          : `${path} already has ${r.pageSizeAfter}-byte pages: nothing to do`,
      );
    });
}
