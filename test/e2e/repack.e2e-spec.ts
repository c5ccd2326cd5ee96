// `fedctl repack`: an old node database (4 KiB pages) rewritten with 16 KiB pages, on real
// SQLite files through the node's own migrations, and refused while the node has it open.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_PAGE_SIZE } from '../../libs/persistence/src/index.js';
import { openNodeDatabase } from '../../apps/node/src/persistence/data-source.js';
import { fedctl } from './fedctl.js';

const dir = mkdtempSync(join(tmpdir(), 'fedctl-repack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a node keeps in the tables written here, in a stable order. */
function contents(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const rows = (sql: string) => db.prepare(sql).all();
    return JSON.stringify([
      rows('SELECT * FROM indicator ORDER BY origin, record_id'),
      rows('SELECT * FROM indicator_version ORDER BY origin, record_id, version'),
      rows('SELECT * FROM node_state ORDER BY key'),
    ]);
  } finally {
    db.close();
  }
}

function pageSize(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

/** A node database as a release before ADR 0060 created it: 4 KiB pages, WAL, some records. */
async function oldNodeDatabase(path: string, records: number): Promise<void> {
  const seed = new Database(path);
  seed.pragma('page_size = 4096');
  seed.pragma('journal_mode = WAL');
  seed.close();
  const ds = await openNodeDatabase({ kind: 'sqlite', path });
  const text = 'x'.repeat(600);
  await ds.transaction(async (m) => {
    for (let i = 0; i < records; i++) {
      const id = `01a22731-0000-7000-8000-${String(i).padStart(12, '0')}`;
      await m.query(
        `INSERT INTO indicator (origin, record_id, version, status, type, value, tlp, categories,
           valid_until, record_text, local_json, received_from, updated_at)
         VALUES ('kr', ?, 1, 'active', 'domain', ?, 'GREEN', ',webtoon,',
           '2027-01-01T00:00:00.000Z', ?, NULL, NULL, '2026-11-29T00:00:00.000Z')`,
        [id, `site-${i}.example`, `{"i":${i},"pad":"${text}"}`],
      );
      await m.query(
        `INSERT INTO indicator_version (origin, record_id, version, record_text, recorded_at, actor)
         VALUES ('kr', ?, 1, '', '2026-11-29T00:00:00.000Z', 'analyst')`,
        [id],
      );
    }
  });
  await ds.destroy();
}

describe('fedctl repack', () => {
  let path: string;
  let before: string;

  beforeAll(async () => {
    path = join(dir, 'kr.sqlite');
    await oldNodeDatabase(path, 2000);
    before = contents(path);
  });

  it('refuses a database another connection holds open, and leaves it as it was', async () => {
    const node = new Database(path);
    node.pragma('journal_mode = WAL');
    try {
      const r = await fedctl(['repack', '--database', `sqlite:${path}`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('is in use: stop the node');
    } finally {
      node.close();
    }
    expect(pageSize(path)).toBe(4096);
    expect(contents(path)).toBe(before);
  });

  it('rewrites the file with 16 KiB pages, keeps every row and WAL mode, and the node opens it', async () => {
    const r = await fedctl(['repack', '--database', `sqlite:${path}`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`4096-byte pages -> ${SQLITE_PAGE_SIZE}`);
    expect(r.out).toContain('integrity ok');
    expect(pageSize(path)).toBe(SQLITE_PAGE_SIZE);
    expect(contents(path)).toBe(before);
    const ds = await openNodeDatabase({ kind: 'sqlite', path });
    try {
      const [mode] = await ds.query<{ journal_mode: string }[]>('PRAGMA journal_mode');
      expect(mode!.journal_mode).toBe('wal');
      const [n] = await ds.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM indicator');
      expect(n!.n).toBe(2000);
    } finally {
      await ds.destroy();
    }
  });

  it('leaves a file that already has the page size untouched', async () => {
    const bytes = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    const r = await fedctl(['repack', '--database', `sqlite:${path}`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`already has ${SQLITE_PAGE_SIZE}-byte pages: nothing to do`);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses what it cannot repack with a clear message', async () => {
    const pgUrl = await fedctl(['repack', '--database', 'postgres://postgres@127.0.0.1/test']);
    expect(pgUrl.code).toBe(2);
    expect(pgUrl.err).toContain('repack rewrites a SQLite file');
    const missing = await fedctl(['repack', '--database', `sqlite:${join(dir, 'none.sqlite')}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('does not exist');
    const notSqlite = join(dir, 'notes.txt');
    writeFileSync(notSqlite, 'not a database at all\n');
    const text = await fedctl(['repack', '--database', `sqlite:${notSqlite}`]);
    expect(text.code).toBe(1);
    expect(text.err).toContain('is not an SQLite database');
  });
});
