// The hub's audit entries commit in the transaction of the operation they record (ADR 0044):
// on real databases (a SQLite file, and PostgreSQL at 127.0.0.1:5432 in its own schema).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import {
  generateSigningKey,
  importPrivateKey,
  type IndicatorRecord,
} from '../../../libs/protocol/src/index.js';
import { HubAuditService } from '../src/audit/hub-audit.service.js';
import { HubAuditStore } from '../src/audit/hub-audit.store.js';
import type { HubConfig } from '../src/config/hub.config.js';
import type { FederationContext } from '../src/federation/federation.context.js';
import { openHubDatabase } from '../src/persistence/data-source.js';
import { HubStore } from '../src/persistence/hub.store.js';
import { dropHubDatabase, hubDatabases, storedRecord } from './hub-databases.js';

const NOW = new Date('2026-11-28T10:00:00.000Z');

const databases = hubDatabases('hub-audit');

const record = (n: number): IndicatorRecord => storedRecord(n, `hub-atomic-${n}.example`);

describe.each(databases)("the hub's audit entries in the operation transaction on %s", (_n, db) => {
  let ds: DataSource;
  let store: HubStore;
  let audit: HubAuditService;
  let config: HubConfig['database'];

  beforeAll(async () => {
    config = db();
    ds = await openHubDatabase(config);
    store = new HubStore(ds);
    const sig = await generateSigningKey();
    const federation = {
      signingKey: { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') },
      directoryJws: 'x.y.z',
    } as unknown as FederationContext;
    audit = new HubAuditService(
      new HubAuditStore(ds),
      federation,
      { audit: { checkpointIntervalMs: 60000, retentionDays: 1095 } } as HubConfig,
      // This spec drives the log directly; checkpoints reach members in test/e2e/hub/witness.
      { publish: () => Promise.reject(new Error('no broker in this spec')) },
    );
    await audit.onModuleInit();
  });

  afterAll(async () => {
    await ds.destroy();
    await dropHubDatabase(config);
  });

  const count = async (sql: string): Promise<number> =>
    Number((await ds.query<{ n: string | number }[]>(sql))[0]?.n);

  function ingest(seq: bigint, r: IndicatorRecord): Promise<void> {
    const events = audit.receivedEvents('kr', String(seq), 'R'.repeat(43), [r], [], NOW);
    return audit.within(events, (hook) =>
      store.storeAcceptedBundle(
        {
          origin: 'kr',
          seq,
          root: 'R'.repeat(43),
          count: 1,
          kid: 'k1',
          receivedAt: '2026-11-28T10:00:00.000Z',
          records: [{ record: r, text: JSON.stringify(r), proofJson: 'null' }],
          gap: null,
        },
        hook,
      ),
    );
  }

  it('stores a bundle and its receipt entry together', async () => {
    const before = audit.size;
    await ingest(1n, record(1));
    expect(audit.size).toBe(before + 1);
    expect(await count('SELECT COUNT(*) AS n FROM hub_inbound_bundle')).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM audit_entry WHERE op = 'receipt'")).toBe(1);
  });

  it('stores neither when the entry cannot be written', async () => {
    const before = audit.size;
    await ds.query(
      `INSERT INTO audit_entry (seq, at, actor, op, partner, agreement, records, entry_json)
       VALUES (${before}, '2026-11-28T10:00:00.000Z', 'x', 'audit', NULL, NULL, ',,', '{}')`,
    );
    await expect(ingest(2n, record(2))).rejects.toThrow();
    expect(await count('SELECT COUNT(*) AS n FROM hub_inbound_bundle')).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM hub_record')).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM hub_dirty_key')).toBe(1);
    await ds.query(`DELETE FROM audit_entry WHERE seq = ${before}`);
    await ingest(2n, record(2));
    expect(await count('SELECT COUNT(*) AS n FROM hub_record')).toBe(2);
    expect(audit.size).toBe(before + 1);
  });

  it('keeps the dirty keys of an aggregation pass whose entries fail', async () => {
    const keys = await store.dirtyKeys(10);
    expect(keys.length).toBe(2);
    const bad = [{ at: 'not a time', actor: 'system', op: 'combination' as const }];
    await expect(
      audit.within(bad, (hook) =>
        store.applyPass(
          {
            processed: keys,
            aggregates: [],
            removed: keys,
            feedChanges: [],
            feedMessages: [],
            at: '2026-11-28T10:00:00.000Z',
          },
          hook,
        ),
      ),
    ).rejects.toThrow(/entry.at/);
    expect((await store.dirtyKeys(10)).length).toBe(2);
  });
  it('signs the root of the size it names when an entry commits while it signs', async () => {
    await ingest(10n, record(10));
    const hubStore = (audit as unknown as { store: HubAuditStore }).store;
    const original = hubStore.checkpoints.bind(hubStore);
    let once = true;
    // Another operation commits while the checkpoint waits for its recent checkpoints.
    hubStore.checkpoints = async (...args: Parameters<HubAuditStore['checkpoints']>) => {
      if (once) {
        once = false;
        await ingest(11n, record(11));
      }
      return original(...args);
    };
    try {
      const msg = await audit.checkpoint(NOW);
      expect(msg).toBeDefined();
      const signed = (await original(1, true))[0]!;
      expect(audit.size).toBe(signed.size + 1);
      const proof = await audit.consistency(signed.size, audit.size, {
        actor: 'auditor.test',
      });
      expect(proof.oldRoot).toBe(signed.root);
    } finally {
      hubStore.checkpoints = original;
    }
  });
});
