import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * Backup and restore of a node's database (records, outbox, inbound state and audit log live in
 * it together, so one consistent copy covers them all). SQLite uses the online backup API (the node
 * may keep running); PostgreSQL uses pg_dump / pg_restore of the node's schema. A restore leaves a
 * marker in the restored database: on its next start the node reads its inbox again from the
 * beginning (what arrived after the backup is stored again, the rest is recognised as duplicate)
 * and resumes its bundle numbering after what its outbox streams already hold.
 */

/** node_state key the node reads at start-up (apps/node, recovery). */
export const RESTORE_PENDING = 'restore.pending';

/** Where a node's database is: as in FEDINTEL_DATABASE_URL (+ FEDINTEL_DATABASE_SCHEMA). */
export type DatabaseLocation =
  { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Parse `sqlite:<path>` or `postgres://...` (+ schema, required for PostgreSQL). */
export function databaseLocation(url: string, schema?: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', path: url.slice('sqlite:'.length) };
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (!schema || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new BackupError(
        'a PostgreSQL node database needs its schema (a lower-case SQL identifier)',
      );
    }
    return { kind: 'postgres', url, schema };
  }
  throw new BackupError(`database must be sqlite:<path> or postgres://..., not ${url}`);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', (e) => reject(new BackupError(`${cmd}: ${e.message}`)));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new BackupError(`${cmd} exited ${code}: ${err.trim()}`)),
    );
  });
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Refuses anything that does not start with SQLite's 16-byte file header. */
export function assertSqliteFile(file: string): void {
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_MAGIC)) throw new BackupError(`${file} is not an SQLite database`);
}

function assertNodeDatabase(db: Database.Database, what: string): void {
  const check = db.pragma('integrity_check', { simple: true });
  if (check !== 'ok')
    throw new BackupError(`${what} fails SQLite's integrity check: ${String(check)}`);
  const t = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'node_state'")
    .get();
  if (!t) throw new BackupError(`${what} is not a FedIntel node database (no node_state table)`);
}

/** A consistent copy of the node's database at `out`; returns its size in bytes. */
export async function backupDatabase(db: DatabaseLocation, out: string): Promise<number> {
  if (existsSync(out)) throw new BackupError(`${out} exists; choose a new file name`);
  if (db.kind === 'sqlite') {
    if (!existsSync(db.path)) throw new BackupError(`${db.path} does not exist`);
    const src = new Database(db.path, { fileMustExist: true });
    try {
      assertNodeDatabase(src, db.path);
      await src.backup(out);
    } finally {
      src.close();
    }
  } else {
    await run('pg_dump', ['--format=custom', `--schema=${db.schema}`, '--file', out, db.url]);
  }
  return statSync(out).size;
}

/**
 * Replace the node's database with a backup (the node must be stopped) and mark it restored.
 * SQLite: the backup is checked, copied next to the database, marked, then renamed over it; the
 * old WAL files are removed. PostgreSQL: pg_restore --clean into the schema, then the marker.
 */
export async function restoreDatabase(
  db: DatabaseLocation,
  from: string,
  now: Date,
): Promise<void> {
  if (!existsSync(from)) throw new BackupError(`${from} does not exist`);
  const marker = now.toISOString();
  if (db.kind === 'sqlite') {
    assertSqliteFile(from);
    const tmp = `${db.path}.restore.tmp`;
    copyFileSync(from, tmp);
    try {
      const copy = new Database(tmp, { fileMustExist: true });
      try {
        assertNodeDatabase(copy, from);
        copy
          .prepare(
            'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          )
          .run(RESTORE_PENDING, marker);
        copy.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        copy.close();
      }
      for (const suffix of ['-wal', '-shm']) rmSync(`${db.path}${suffix}`, { force: true });
      renameSync(tmp, db.path);
    } finally {
      rmSync(tmp, { force: true });
      for (const suffix of ['-wal', '-shm']) rmSync(`${tmp}${suffix}`, { force: true });
    }
    return;
  }
  await run('pg_restore', ['--clean', '--if-exists', '--no-owner', '--dbname', db.url, from]);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO "${db.schema}".node_state (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [RESTORE_PENDING, marker],
    );
  } finally {
    await client.end();
  }
}
