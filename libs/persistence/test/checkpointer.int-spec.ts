// WAL checkpoints in a worker thread (ADR 0056), on real SQLite files through openDatabase.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { BACKSTOP_PAGES, openDatabase, startWalCheckpointer } from '../src/index.js';

class Blobs1764000000000 implements MigrationInterface {
  name = 'Blobs1764000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE blob (n integer PRIMARY KEY, body text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE blob');
  }
}

const schema = { entities: [], migrations: [Blobs1764000000000] };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const size = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

describe('WAL checkpoints off the application thread', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies committed pages into the database file while the application only appends', async () => {
    const path = join(dir, 'a.sqlite');
    const logged: string[] = [];
    const ds: DataSource = await openDatabase(
      { kind: 'sqlite', path },
      schema,
      (m) => void logged.push(m),
    );
    // The application's own connection checkpoints only as a backstop now.
    const [auto] = await ds.query<{ wal_autocheckpoint: number }[]>('PRAGMA wal_autocheckpoint');
    expect(auto!.wal_autocheckpoint).toBe(BACKSTOP_PAGES);
    const before = size(path);
    // ~6 MB in 6 transactions: more than SQLite's default automatic checkpoint (1000 pages,
    // ~4 MB) would let grow, far less than the backstop (~40 MB) at which the application's
    // connection would checkpoint itself.
    const body = 'x'.repeat(1000);
    for (let t = 0; t < 6; t++) {
      await ds.transaction(async (m) => {
        for (let i = 0; i < 1000; i++) {
          await m.query('INSERT INTO blob (n, body) VALUES (?, ?)', [t * 1000 + i, body]);
        }
      });
    }
    // Within a few intervals the worker has copied everything committed into the file.
    let grown = 0;
    for (let i = 0; i < 50 && grown < 5_000_000; i++) {
      await sleep(100);
      grown = size(path) - before;
    }
    expect(grown).toBeGreaterThan(5_000_000);
    const [cp] = await ds.query<{ busy: number; log: number; checkpointed: number }[]>(
      'PRAGMA wal_checkpoint(PASSIVE)',
    );
    expect(cp!.checkpointed).toBe(cp!.log);
    expect(logged).toEqual([]);
    await ds.destroy();
    // Closed cleanly: the last connection's close folded the WAL away; nothing was lost.
    expect(size(`${path}-wal`)).toBe(0);
    const again = await openDatabase({ kind: 'sqlite', path }, schema);
    const [count] = await again.query<{ c: number }[]>('SELECT COUNT(*) AS c FROM blob');
    expect(Number(count!.c)).toBe(6000);
    await again.destroy();
  });

  it('leaves SQLite checkpointing by itself when the worker cannot start', async () => {
    const path = join(dir, 'b.sqlite');
    const ds = await openDatabase({ kind: 'sqlite', path }, schema);
    await expect(startWalCheckpointer(ds, join(dir, 'missing.sqlite'))).rejects.toThrow();
    const [auto] = await ds.query<{ wal_autocheckpoint: number }[]>('PRAGMA wal_autocheckpoint');
    // openDatabase's own checkpointer set the backstop; the failed second one changed nothing.
    expect(auto!.wal_autocheckpoint).toBe(BACKSTOP_PAGES);
    await ds.destroy();
  });

  it('goes back to the default automatic checkpoint once stopped', async () => {
    const path = join(dir, 'c.sqlite');
    const ds = await openDatabase({ kind: 'sqlite', path }, schema);
    const extra = await startWalCheckpointer(ds, path);
    await extra.stop();
    const [auto] = await ds.query<{ wal_autocheckpoint: number }[]>('PRAGMA wal_autocheckpoint');
    expect(auto!.wal_autocheckpoint).toBe(1000);
    await ds.destroy();
  });
});
