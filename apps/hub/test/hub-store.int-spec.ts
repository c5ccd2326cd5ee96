// HubStore on real databases (a SQLite file, and PostgreSQL at 127.0.0.1:5432 in its own schema):
// what a received bundle leaves in the hub's record tables.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { IndicatorRecord } from '../../../libs/protocol/src/index.js';
import type { HubConfig } from '../src/config/hub.config.js';
import { openHubDatabase } from '../src/persistence/data-source.js';
import { HubStore } from '../src/persistence/hub.store.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-store-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const databases: [string, () => HubConfig['database']][] = [
  ['SQLite', () => ({ kind: 'sqlite', path: join(dir, 'hub.sqlite') })],
  [
    'PostgreSQL',
    () => ({ kind: 'postgres', url: PG_URL, schema: `hub_store_${process.pid}_${Date.now()}` }),
  ],
];

function record(n: number, version: number): IndicatorRecord {
  return {
    origin: 'kr',
    id: `0b8a6c2e-1f7d-4c59-9a57-${String(n).padStart(12, '0')}`,
    version,
    status: 'active',
    type: 'domain',
    value: `hub-store-${n}.example`,
    validUntil: '2027-12-28T10:00:00.000Z',
    relations: [],
  } as unknown as IndicatorRecord;
}

describe.each(databases)('HubStore on %s', (_n, db) => {
  let ds: DataSource;
  let store: HubStore;
  let config: HubConfig['database'];

  beforeAll(async () => {
    config = db();
    ds = await openHubDatabase(config);
    store = new HubStore(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    if (config.kind === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
      await client.end();
    }
  });

  it('keeps the newest as current when one bundle carries several versions of a record', async () => {
    // Versions out of order, another record in between (as a relay may queue them).
    const records = [record(1, 1), record(2, 1), record(1, 3), record(1, 2)].map((r, i) => ({
      record: r,
      text: JSON.stringify(r),
      proofJson: `{"index":${i}}`,
    }));
    await store.storeAcceptedBundle({
      origin: 'kr',
      seq: 1n,
      root: 'root-1',
      count: records.length,
      kid: 'k1',
      receivedAt: '2026-11-28T10:00:00.000Z',
      records,
      gap: null,
    });
    const ids = [record(1, 1).id, record(2, 1).id];
    const current = await store.currentVersions('kr', ids);
    expect(current.get(ids[0]!)).toBe(3);
    expect(current.get(ids[1]!)).toBe(1);
    const versions = await ds.query<{ n: number | string }[]>(
      `SELECT COUNT(*) AS n FROM hub_record_version WHERE record_id = '${ids[0]}'`,
    );
    expect(Number(versions[0]!.n)).toBe(3);
  });
});
