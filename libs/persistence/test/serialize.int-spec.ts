// Transactions on a real SQLite file, concurrently, through openDatabase (ADR 0052).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { openDatabase } from '../src/index.js';

class Items1764000000000 implements MigrationInterface {
  name = 'Items1764000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE item (owner varchar(8) NOT NULL, n integer NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE item');
  }
}

const pause = () => new Promise<void>((r) => setTimeout(r, 2));

describe('SQLite transactions opened through libs/persistence', () => {
  let dir: string;
  let ds: DataSource;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'persistence-'));
    ds = await openDatabase(
      { kind: 'sqlite', path: join(dir, 'db.sqlite') },
      { entities: [], migrations: [Items1764000000000] },
    );
  });
  afterAll(async () => {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (owner: string): Promise<number> => {
    const rows = await ds.query<{ c: number }[]>('SELECT COUNT(*) AS c FROM item WHERE owner = ?', [
      owner,
    ]);
    return Number(rows[0]?.c);
  };

  it('run one after another when started together: each commits or rolls back alone', async () => {
    const writer = (owner: string, fail: boolean) =>
      ds.transaction(async (m) => {
        for (let n = 0; n < 5; n++) {
          await m.query('INSERT INTO item (owner, n) VALUES (?, ?)', [owner, n]);
          await pause(); // another caller gets the event loop in the middle of this transaction
        }
        if (fail) throw new Error(`${owner} fails`);
      });
    const results = await Promise.allSettled([
      writer('a', false),
      writer('b', true),
      writer('c', false),
      writer('d', true),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    // Without serialization the second BEGIN fails, or b's rows ride in a's transaction.
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('b fails'));
    expect([await count('a'), await count('b'), await count('c'), await count('d')]).toEqual([
      5, 0, 5, 0,
    ]);
  });

  it('lets a transaction started inside another run at once (no deadlock)', async () => {
    await ds.transaction(async (m) => {
      await m.query('INSERT INTO item (owner, n) VALUES (?, ?)', ['outer', 1]);
      await ds.transaction(async (inner) => {
        await inner.query('INSERT INTO item (owner, n) VALUES (?, ?)', ['inner', 1]);
      });
    });
    expect([await count('outer'), await count('inner')]).toEqual([1, 1]);
  });
});
