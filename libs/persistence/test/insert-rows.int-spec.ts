// insertRows on a real SQLite file and a real PostgreSQL schema: the same rows come back, with
// NULLs, quotes, non-ASCII text and integers, across chunks, and the ON CONFLICT suffix applies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { insertRows, openDatabase, type RowColumn } from '../src/index.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

class Things1764000000001 implements MigrationInterface {
  name = 'Things1764000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE thing (id varchar(16) NOT NULL PRIMARY KEY, n integer NOT NULL,
      label varchar(64), body text)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE thing');
  }
}

const COLUMNS: readonly RowColumn[] = [
  ['id', 'text'],
  ['n', 'integer'],
  ['label', 'text'],
  ['body', 'text'],
];

const dir = mkdtempSync(join(tmpdir(), 'insert-rows-'));
const schema = `insert_rows_${process.pid}_${Date.now()}`;
const databases = [
  ['SQLite', () => ({ kind: 'sqlite' as const, path: join(dir, 'db.sqlite') })],
  ['PostgreSQL', () => ({ kind: 'postgres' as const, url: PG_URL, schema })],
] as const;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe.each(databases)('insertRows on %s', (name, config) => {
  let ds: DataSource;
  const pgMode = name === 'PostgreSQL';
  beforeAll(async () => {
    ds = await openDatabase(config(), { entities: [], migrations: [Things1764000000001] });
  });
  afterAll(async () => {
    await ds.destroy();
  });

  const all = async () =>
    (
      await ds.query<
        { id: string; n: number | string; label: string | null; body: string | null }[]
      >('SELECT id, n, label, body FROM thing ORDER BY id')
    ).map((r) => [r.id, Number(r.n), r.label, r.body]);

  it('stores every row as given, over several chunks', async () => {
    const rows = Array.from({ length: 23 }, (_, i) => [
      `t${String(i).padStart(3, '0')}`,
      i * 1000,
      i % 3 === 0 ? null : `it's "#${i}", 수사 ${i}`,
      i % 4 === 0 ? null : `{"a":[1,2],"b":"\\\\ \\n ${'é'.repeat(i)}"}`,
    ]);
    await ds.transaction((m) => insertRows(m, pgMode, 'thing', COLUMNS, rows, '', 5));
    expect(await all()).toEqual(rows);
  });

  it('applies the suffix: ON CONFLICT DO NOTHING keeps the first, DO UPDATE changes it', async () => {
    await ds.transaction((m) =>
      insertRows(
        m,
        pgMode,
        'thing',
        COLUMNS,
        [['t000', -1, 'changed', null]],
        'ON CONFLICT DO NOTHING',
      ),
    );
    expect((await all())[0]).toEqual(['t000', 0, null, null]);
    await ds.transaction((m) =>
      insertRows(
        m,
        pgMode,
        'thing',
        COLUMNS,
        [
          ['t001', 7, 'updated', 'x'],
          ['t999', 9, 'new', 'y'],
        ],
        'ON CONFLICT (id) DO UPDATE SET n = excluded.n, label = excluded.label WHERE excluded.n > thing.n',
      ),
    );
    const rows = await all();
    expect(rows.find((r) => r[0] === 't001')).toEqual([
      't001',
      1000,
      `it's "#1", 수사 1`,
      expect.any(String),
    ]);
    expect(rows.find((r) => r[0] === 't999')).toEqual(['t999', 9, 'new', 'y']);
  });

  it('writes nothing, and sends nothing, for no rows', async () => {
    const before = await all();
    await ds.transaction((m) => insertRows(m, pgMode, 'thing', COLUMNS, []));
    expect(await all()).toEqual(before);
  });

  it('rolls back with the transaction when a row breaks a constraint', async () => {
    const before = await all();
    const outcome = await ds
      .transaction((m) =>
        insertRows(m, pgMode, 'thing', COLUMNS, [
          ['t500', 1, 'ok', null],
          ['t501', null, 'n is NOT NULL', null],
        ]),
      )
      .then(
        () => 'stored',
        (e: unknown) => String((e as { message?: unknown }).message),
      );
    expect(outcome).toMatch(/NOT NULL|not-null/);
    expect(await all()).toEqual(before);
  });
});
