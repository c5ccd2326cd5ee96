// Audit entries commit in the operation's own transaction (docs/audit.md, ADR 0044), and the
// expiry sweep names expired records once: on real databases (a SQLite file, and PostgreSQL at
// 127.0.0.1:5432 in its own schema).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  type IndicatorRecord,
} from '../../../libs/protocol/src/index.js';
import {
  LogVerifier,
  openCheckpoint,
  recordRef,
  type AuditEntry,
} from '../../../libs/audit/src/index.js';
import { AuditService } from '../src/audit/audit.service.js';
import { AuditStore } from '../src/audit/audit.store.js';
import { ExpirySweep } from '../src/audit/expiry.sweep.js';
import type { NodeConfig } from '../src/config/node.config.js';
import type { FederationContext } from '../src/federation/federation.context.js';
import { openNodeDatabase } from '../src/persistence/data-source.js';
import { NodeStore } from '../src/persistence/node.store.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const T0 = new Date('2026-11-28T10:00:00.000Z');

const databases: [string, () => NodeConfig['database']][] = [
  ['SQLite', () => ({ kind: 'sqlite', path: join(dir, `audit-${Date.now()}.sqlite`) })],
  [
    'PostgreSQL',
    () => ({ kind: 'postgres', url: PG_URL, schema: `audit_atomic_${process.pid}_${Date.now()}` }),
  ],
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-atomic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function record(over: Partial<IndicatorRecord> = {}): IndicatorRecord {
  n++;
  return {
    origin: 'vn',
    id: `0b8a6c2e-1f7d-4c59-9a57-${String(n).padStart(12, '0')}`,
    version: 1,
    status: 'active',
    type: 'domain',
    value: `atomic-${n}.example`,
    tlp: 'amber',
    categories: ['fraud'],
    validUntil: '2026-12-28T10:00:00.000Z',
    ...over,
  } as unknown as IndicatorRecord;
}

describe.each(databases)('audit entries in the operation transaction on %s', (_name, config) => {
  let ds: DataSource;
  let store: NodeStore;
  let audit: AuditService;
  let publicKey: ReturnType<typeof importPublicKey>;
  let db: NodeConfig['database'];

  beforeAll(async () => {
    db = config();
    ds = await openNodeDatabase(db);
    store = new NodeStore(ds);
    const sig = await generateSigningKey();
    publicKey = importPublicKey(sig.publicJwk, 'Ed25519');
    const federation = {
      memberId: 'kr',
      signingKey: { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') },
      directoryJws: 'x.y.z',
    } as unknown as FederationContext;
    const cfg = {
      audit: { checkpointIntervalMs: 60000, retentionDays: 1095, expirySweepIntervalMs: 60000 },
    } as NodeConfig;
    audit = new AuditService(new AuditStore(ds), federation, cfg);
    await audit.onModuleInit();
  });

  afterAll(async () => {
    await ds.destroy();
    if (db.kind === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${db.schema}" CASCADE`);
      await client.end();
    }
  });

  const count = async (sql: string): Promise<number> =>
    Number((await ds.query<{ n: string | number }[]>(sql))[0]?.n);

  async function receive(
    seq: bigint,
    records: IndicatorRecord[],
    receivedAt = '2026-11-28T10:00:00.000Z',
  ): Promise<void> {
    const events = audit.receivedEvents('vn', String(seq), 'R'.repeat(43), records, [], T0);
    await audit.within(events, (hook) =>
      store.storeReceivedBundle(
        {
          origin: 'vn',
          seq,
          root: 'R'.repeat(43),
          count: records.length,
          kid: 'k1',
          receivedAt,
          records: records.map((r) => ({ record: r, text: JSON.stringify(r), proofJson: '[]' })),
          gap: null,
        },
        hook,
      ),
    );
  }

  /** Every stored entry verifies against a checkpoint signed now (positions, canonical form). */
  async function verifyAll(): Promise<void> {
    const msg = await audit.checkpoint(new Date());
    const jws = msg?.checkpoint ?? (await audit.lastCheckpointMessage())!.checkpoint;
    const cp = await openCheckpoint(jws, () => publicKey);
    const v = new LogVerifier('kr', [cp]);
    for await (const line of audit.exportLines(audit.size)) v.push(line.slice(0, -1));
    expect(v.finish()).toMatchObject({ ok: true, size: audit.size, uncovered: 0 });
  }

  it('commits a receipt entry with the bundle it records', async () => {
    const before = audit.size;
    const r = record();
    await receive(1n, [r]);
    expect(audit.size).toBe(before + 1);
    expect(await count("SELECT COUNT(*) AS n FROM inbound_bundle WHERE seq LIKE '%1'")).toBe(1);
    const [entry] = await ds.query<
      {
        entry_json: string;
      }[]
    >(`SELECT entry_json FROM audit_entry WHERE seq = ${before}`);
    expect(JSON.parse(entry!.entry_json)).toMatchObject({
      op: 'receipt',
      records: [recordRef('vn', r.id, 1)],
    });
  });

  it('rolls the operation back when its audit entry cannot be written', async () => {
    const before = audit.size;
    const bundles = await count('SELECT COUNT(*) AS n FROM inbound_bundle');
    // Another writer took the next position: the append fails inside the transaction.
    await ds.query(
      `INSERT INTO audit_entry (seq, at, actor, op, partner, agreement, records, entry_json)
       VALUES (${before}, '2026-11-28T10:00:00.000Z', 'x', 'audit', NULL, NULL, ',,', '{}')`,
    );
    const r = record();
    await expect(receive(2n, [r])).rejects.toThrow();
    expect(await count('SELECT COUNT(*) AS n FROM inbound_bundle')).toBe(bundles);
    expect(await count(`SELECT COUNT(*) AS n FROM indicator WHERE record_id = '${r.id}'`)).toBe(0);
    expect(audit.size).toBe(before);
    await ds.query(`DELETE FROM audit_entry WHERE seq = ${before}`);
    // The same bundle goes through once the position is free: nothing half-written remained.
    await receive(2n, [r]);
    expect(await count(`SELECT COUNT(*) AS n FROM indicator WHERE record_id = '${r.id}'`)).toBe(1);
    expect(audit.size).toBe(before + 1);
  });

  it('leaves neither the operation nor its entries when the transaction fails after them', async () => {
    const before = audit.size;
    const events = audit.rejectedMessageEvents('vn', 'SIGNATURE_INVALID', T0);
    await expect(
      audit.within(events, (hook) =>
        ds.transaction(async (m) => {
          await m.query("INSERT INTO node_state (key, value) VALUES ('crash-test', 'x')");
          await hook(m);
          throw new Error('crash before commit');
        }),
      ),
    ).rejects.toThrow('crash before commit');
    expect(audit.size).toBe(before);
    expect(await count("SELECT COUNT(*) AS n FROM node_state WHERE key = 'crash-test'")).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM audit_entry WHERE seq >= ${before}`)).toBe(0);
    await verifyAll();
  });

  it('keeps positions contiguous under concurrent operations and reads', async () => {
    const before = audit.size;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      work.push(receive(BigInt(10 + i), [record()]));
      work.push(audit.consulted('analyst.kim', 'investigation', [], { route: 'get' }, T0));
    }
    await Promise.all(work);
    await audit.flush();
    expect(audit.size).toBe(before + 40);
    await verifyAll();
  });

  it('names each expired record once in an erasure entry (reason expiry)', async () => {
    const sweep = new ExpirySweep(store, audit, {
      audit: { expirySweepIntervalMs: 60000 },
    } as NodeConfig);
    const soon = record({ validUntil: '2026-11-28T11:00:00.000Z' });
    const later = record({ validUntil: '2026-11-28T13:00:00.000Z' });
    await receive(100n, [soon, later]);
    await sweep.sweep(new Date('2026-11-28T10:30:00.000Z')); // first pass: sets the mark
    const named = async (): Promise<string[]> =>
      (
        await ds.query<
          {
            entry_json: string;
          }[]
        >("SELECT entry_json FROM audit_entry WHERE op = 'erasure'")
      ).flatMap((r) => (JSON.parse(r.entry_json) as AuditEntry).records ?? []);
    expect(await named()).not.toContain(recordRef('vn', soon.id, 1));
    expect(await sweep.sweep(new Date('2026-11-28T12:00:00.000Z'))).toBeGreaterThanOrEqual(1);
    expect(await named()).toContain(recordRef('vn', soon.id, 1));
    expect(await named()).not.toContain(recordRef('vn', later.id, 1));
    // A record stored after its validUntil passed is named at the next pass; none twice.
    const late = record({ validUntil: '2026-11-28T11:30:00.000Z' });
    await receive(101n, [late], '2026-11-28T12:30:00.000Z');
    await sweep.sweep(new Date('2099-01-01T00:00:00.000Z'));
    const all = await named();
    expect(all).toContain(recordRef('vn', late.id, 1));
    expect(all).toContain(recordRef('vn', later.id, 1));
    expect(all.filter((r) => r === recordRef('vn', soon.id, 1))).toHaveLength(1);
    const [last] = await ds.query<{ entry_json: string }[]>(
      "SELECT entry_json FROM audit_entry WHERE op = 'erasure' ORDER BY seq DESC LIMIT 1",
    );
    expect(JSON.parse(last!.entry_json)).toMatchObject({ actor: 'system', reason: 'expiry' });
    await verifyAll();
  });
});
