// The hub's own tamper-evident log (docs/audit.md, "The hub's log"), over a live federation:
// receipts, combinations, disclosures (feeds), consultations with a purpose, erasure on
// retraction, auditor-only access, signed checkpoints, and an export that `fedctl audit verify`
// checks offline exactly as it checks a node's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import {
  directoryKeyResolver,
  fromB64u,
  leafHash,
  canonicalBytes,
  verifyInclusion,
} from '../../../libs/protocol/src/index.js';
import {
  verifyExport,
  type AuditEntry,
  type ExportManifestFile,
} from '../../../libs/audit/src/index.js';
import { HubAuditService, aggregateDigest } from '../../../apps/hub/src/audit/hub-audit.service.js';
import { eventually, type TestFederation } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';

const VALUE = 'hub-audit-grep-5150.example';
const CLI = join(process.cwd(), 'dist/apps/cli/src/main.js');

describe("the hub's own audit log", () => {
  let f: TestFederation;
  let hub: TestHub;
  let stop: () => Promise<void>;
  let id: string;
  let auditor: string;

  async function entries(query: Record<string, string>): Promise<AuditEntry[]> {
    const r = await request(hub.url)
      .get('/api/v1/audit/entries')
      .query(query)
      .set('Authorization', auditor);
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    return r.body.items as AuditEntry[];
  }

  const ref = (v: number) => `kr/${id}@${v}`;

  beforeAll(async () => {
    ({ f, hub, stop } = await startHubFederation());
    auditor = `Bearer ${await hub.token(['auditor'])}`;
    const kr = f.nodes.kr!;
    const res = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
      .send({
        type: 'domain',
        value: VALUE,
        categories: ['webtoon'],
        reliability: 'B',
        accuracy: 2,
        tlp: 'GREEN',
        handling: { code: 'H0' },
        confidence: 80,
        firstSeen: '2026-10-01T00:00:00.000Z',
        scope: { addressees: ['all'] },
      });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    id = res.body.indicator.id as string;
    await eventually(
      async () =>
        (await hub.get(`/api/v1/aggregates/domain/${VALUE}`)).status === 200 ? true : undefined,
      60000,
      'the aggregate at the hub',
    );
  }, 120000);

  afterAll(async () => {
    await stop();
  });

  it('logs the receipt of the bundle and the combination that aggregated it, by reference', async () => {
    const receipts = await entries({ op: 'receipt', partner: 'kr' });
    expect(receipts.some((e) => e.records?.includes(ref(1)))).toBe(true);
    expect(receipts[0]).toMatchObject({ log: 'hub', actor: 'kr', bundle: expect.any(Object) });
    const combos = await entries({ op: 'combination', record: id });
    expect(combos[0]).toMatchObject({
      actor: 'system',
      reason: 'created',
      detail: { aggregate: aggregateDigest('domain', VALUE), sources: 1 },
    });
    expect(combos[0]!.records).toContain(ref(1));
  });

  it('logs each feed message committed for a member as a disclosure', async () => {
    const feeds = await eventually(async () => {
      const es = await entries({ op: 'disclosure', record: id });
      return es.length > 0 ? es : undefined;
    });
    expect(feeds[0]).toMatchObject({ actor: 'system', detail: { feed: expect.any(String) } });
    expect(['kr', 'vn', 'th']).toContain(feeds[0]!.partner);
  });

  it('refuses an operator read without a purpose and logs a read with one, with the user', async () => {
    const token = `Bearer ${await hub.token(['hub-operator'])}`;
    const refused = await request(hub.url)
      .get(`/api/v1/aggregates/domain/${VALUE}`)
      .set('Authorization', token);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'PURPOSE_REQUIRED' });
    await request(hub.url)
      .get(`/api/v1/aggregates/domain/${VALUE}`)
      .set('Authorization', token)
      .set('X-Purpose', 'investigation:HUB-2026-9')
      .expect(200);
    const reads = await entries({ op: 'consultation', actor: 'hub-operator.test' });
    expect(reads.at(-1)).toMatchObject({
      purpose: 'investigation:HUB-2026-9',
      records: [ref(1)],
      detail: { route: 'aggregate' },
    });
  });

  it('keeps the log to auditors (read-only) and logs their reads', async () => {
    for (const role of ['hub-operator', 'analyst'] as const) {
      const r = await request(hub.url)
        .get('/api/v1/audit/entries')
        .set('Authorization', `Bearer ${await hub.token([role])}`);
      expect(r.status).toBe(403);
    }
    const w = await request(hub.url).post('/api/v1/audit/entries').set('Authorization', auditor);
    expect([403, 404]).toContain(w.status);
    const own = await entries({ op: 'audit', actor: 'auditor.test' });
    expect(own.length).toBeGreaterThan(0);
  });

  it('logs the retraction that removes a record from its aggregate as an erasure', async () => {
    const kr = f.nodes.kr!;
    await request(kr.url)
      .post(`/api/v1/indicators/${id}/retract`)
      .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
      .expect(200);
    const erased = await eventually(
      async () => {
        const es = await entries({ op: 'erasure', record: id });
        return es.length > 0 ? es : undefined;
      },
      60000,
      'the erasure entry at the hub',
    );
    expect(erased[0]).toMatchObject({ actor: 'system', reason: 'retraction' });
    expect(erased[0]!.records).toContain(ref(1));
    const removed = await entries({ op: 'combination', record: id });
    expect(removed.length).toBeGreaterThanOrEqual(1);
  });

  it('signs checkpoints, proves inclusion, and exports a log fedctl verifies offline', async () => {
    await hub.app.get(HubAuditService).checkpointPass();
    const cps = await request(hub.url)
      .get('/api/v1/audit/checkpoints')
      .set('Authorization', auditor);
    expect(cps.status).toBe(200);
    expect(cps.body.items.length).toBeGreaterThan(0);
    const size = cps.body.items.at(-1).size as number;
    const inc = await request(hub.url)
      .get('/api/v1/audit/proofs/inclusion')
      .query({ seq: 0, size })
      .set('Authorization', auditor);
    expect(inc.status).toBe(200);
    const leaf = leafHash(canonicalBytes(inc.body.entry));
    expect(
      verifyInclusion(leaf, 0, size, inc.body.path.map(fromB64u), fromB64u(inc.body.root)),
    ).toBe(true);

    const m = await request(hub.url)
      .get('/api/v1/audit/export/manifest')
      .set('Authorization', auditor);
    const file = m.body as ExportManifestFile;
    const signed = JSON.parse(Buffer.from(file.manifest.split('.')[1]!, 'base64url').toString());
    const text = (
      await request(hub.url)
        .get('/api/v1/audit/export/entries')
        .query({ size: signed.size })
        .set('Authorization', auditor)
        .buffer(true)
        .parse((res, cb) => {
          let t = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (t += c));
          res.on('end', () => cb(null, t));
        })
    ).body as string;
    expect(text).not.toContain(VALUE);
    const at = new Date();
    const result = await verifyExport({
      file,
      lines: text.split('\n').filter((l) => l !== ''),
      resolveLogKey: directoryKeyResolver(f.fed.directory, {
        at,
        mode: 'historical',
        member: 'hub',
      }),
    });
    expect(result).toMatchObject({ ok: true, size: signed.size });
    expect(result.checkpointsMatched).toBeGreaterThan(0);

    // The auditor's tool, as for a node: verify the hub's log over its API.
    // The hub answers in this process: the CLI runs asynchronously beside it.
    const cli = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const args = ['audit', 'verify', hub.url, '--token', auditor.slice('Bearer '.length)];
      args.push('--governance', f.fed.governanceKeysFile);
      const p = spawn(process.execPath, [CLI, ...args]);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (status) => resolve({ status, out }));
    });
    expect(cli.out).toContain('log hub');
    expect(cli.status).toBe(0);
  }, 60000);
});
