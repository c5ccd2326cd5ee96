// The page size of SQLite files opened through libs/persistence (ADR 0060), on real files.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { openDatabase, SQLITE_PAGE_SIZE } from '../src/index.js';

class Notes1764000000001 implements MigrationInterface {
  name = 'Notes1764000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE note (id integer PRIMARY KEY, body text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE note');
  }
}

const schema = { entities: [], migrations: [Notes1764000000001] };

/** The page size of the file as a fresh connection reads it from the header. */
function headerPageSize(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('SQLite page size', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'persistence-pages-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a new database is created with 16 KiB pages, in WAL mode, and keeps them on reopening', async () => {
    const path = join(dir, 'new.sqlite');
    const ds = await openDatabase({ kind: 'sqlite', path }, schema);
    try {
      await ds.query('INSERT INTO note (body) VALUES (?)', ['x'.repeat(40_000)]);
      expect(await ds.query('PRAGMA page_size')).toEqual([{ page_size: SQLITE_PAGE_SIZE }]);
      expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    } finally {
      await ds.destroy();
    }
    expect(SQLITE_PAGE_SIZE).toBe(16_384);
    expect(headerPageSize(path)).toBe(16_384);

    const again = await openDatabase({ kind: 'sqlite', path }, schema);
    try {
      expect(await again.query('SELECT length(body) AS n FROM note')).toEqual([{ n: 40_000 }]);
    } finally {
      await again.destroy();
    }
    expect(headerPageSize(path)).toBe(16_384);
  });

  it('an existing database keeps the page size it was created with, and its data', async () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE keep (v text)');
    old.prepare('INSERT INTO keep (v) VALUES (?)').run('from before ADR 0060');
    old.close();
    expect(headerPageSize(path)).toBe(4096);

    const ds = await openDatabase({ kind: 'sqlite', path }, schema);
    try {
      await ds.query('INSERT INTO note (body) VALUES (?)', ['y'.repeat(20_000)]);
      expect(await ds.query('SELECT v FROM keep')).toEqual([{ v: 'from before ADR 0060' }]);
    } finally {
      await ds.destroy();
    }
    expect(headerPageSize(path)).toBe(4096);
  });
});
