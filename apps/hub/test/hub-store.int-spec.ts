// HubStore on real databases (a SQLite file, and PostgreSQL at 127.0.0.1:5432 in its own schema):
// what a received bundle leaves in the hub's record tables.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import type { IndicatorRecord } from '../../../libs/protocol/src/index.js';
import type { HubConfig } from '../src/config/hub.config.js';
import { openHubDatabase } from '../src/persistence/data-source.js';
import { HubStore } from '../src/persistence/hub.store.js';
import { dropHubDatabase, hubDatabases, storedRecord } from './hub-databases.js';

const databases = hubDatabases('hub-store');

const record = (n: number, version: number): IndicatorRecord =>
  storedRecord(n, `hub-store-${n}.example`, { version, validUntil: '2027-12-28T10:00:00.000Z' });

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
    await dropHubDatabase(config);
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
