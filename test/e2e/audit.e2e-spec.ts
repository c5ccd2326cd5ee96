import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import request from 'supertest';
import { provisionStreams, streamPlan } from '../../libs/broker/src/index.js';
import { readStream } from '../../libs/testing/src/index.js';
import { fedctl } from './fedctl.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from '../../apps/node/test/federation.harness.js';

async function create(kr: RunningNode, value: string): Promise<string> {
  const r = await request(kr.url)
    .post('/api/v1/indicators')
    .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
    .send(indicatorBody({ value }));
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body.indicator.id as string;
}

async function arrived(vn: RunningNode, id: string): Promise<true> {
  const token = await vn.token(['analyst']);
  return eventually(
    async () => {
      const r = await request(vn.url)
        .get(`/api/v1/indicators/kr/${id}`)
        .set('X-Purpose', 'quality-review')
        .set('Authorization', `Bearer ${token}`);
      return r.status === 200 ? true : undefined;
    },
    30000,
    `${id} at ${vn.id}`,
  );
}

describe('fedctl audit on a federation (KR → VN, a message deleted in transit)', () => {
  let f: TestFederation;
  const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };

  beforeAll(async () => {
    // VN's node is not running yet: what KR sends waits in VN's inbox stream, on VN's leaf.
    f = await startTestFederation({ members: ['kr', 'vn'], nodes: ['kr'] });
    const kr = f.nodes.kr!;
    const creds = f.brokers.nodeCredentials.vn!;
    const nc = await connect({ servers: creds.url, user: creds.user, pass: creds.password });
    try {
      await provisionStreams(nc, streamPlan(['kr', 'vn'], 'vn'));
      // One record per bundle: each is created once the previous one is in the inbox.
      const inbox: { seq: number }[] = [];
      for (const k of ['a', 'b', 'c'] as const) {
        ids[k] = await create(kr, `audit-${k}.example`);
        inbox.push(
          await eventually(
            async () => {
              const all = await readStream(nc, 'INBOX');
              return all.length > inbox.length ? all[all.length - 1] : undefined;
            },
            30000,
            `bundle of ${k} in the VN inbox`,
          ),
        );
      }
      // Lost in transit: B's bundle is removed from the inbox before VN's node reads it.
      await (await jetstreamManager(nc)).streams.deleteMessage('INBOX', inbox[1]!.seq);
    } finally {
      await nc.close();
    }
    const vn = await f.startNode('vn');
    await arrived(vn, ids.c);
    await eventually(
      async () => {
        const r = await request(kr.url)
          .get('/api/v1/audit/entries')
          .query({ op: 'disclosure', partner: 'vn' })
          .set('Authorization', `Bearer ${await kr.token(['auditor'])}`);
        const acks = (r.body.items as { reason?: string }[]).filter(
          (e) => e.reason === 'acknowledged',
        );
        return acks.length >= 2 ? true : undefined;
      },
      30000,
      'acknowledgements at KR',
    );
  }, 180000);

  afterAll(async () => {
    await f?.stop();
  });

  it('reconcile finds exactly the deleted record as lost', async () => {
    const kr = f.nodes.kr!;
    const vn = f.nodes.vn!;
    const r = await fedctl([
      'audit',
      'reconcile',
      '--sender',
      'kr',
      '--receiver',
      'vn',
      '--sender-url',
      kr.url,
      '--sender-token',
      await kr.token(['auditor']),
      '--receiver-url',
      `${vn.url}/api/v1`,
      '--receiver-token',
      await vn.token(['auditor']),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as {
      findings: { kind: string; record: string }[];
      recordsMatched: number;
    };
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'lost', record: `kr/${ids.b}@1` }),
    ]);
    expect(report.recordsMatched).toBe(2);
    expect(r.err).toContain('1 difference(s) between kr and vn');
  });

  it('exports a log, verifies it offline, and finds an edited line with its position', async () => {
    const kr = f.nodes.kr!;
    const exported = await fedctl([
      'audit',
      'export',
      '--node',
      kr.url,
      '--token',
      await kr.token(['auditor']),
      '--out',
      join(f.dir, 'exports'),
    ]);
    expect(exported.code).toBe(0);
    const file = /wrote (\S+\.jsonl)/.exec(exported.out)![1]!;
    const governance = ['--governance', f.fed.governanceKeysFile];
    const ok = await fedctl(['audit', 'verify', file, ...governance]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^OK: manifest and \d+ checkpoint/m);
    for (const v of ['audit-a.example', 'audit-b.example', 'audit-c.example']) {
      expect(readFileSync(file, 'utf8')).not.toContain(v);
    }

    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"actor":"', '"actor":"z');
    writeFileSync(file, lines.join('\n'));
    const bad = await fedctl(['audit', 'verify', file, ...governance]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(
      /FAILED at position 0: entries 0\.\.\d+ do not hash to the signed root/,
    );
    expect(bad.err).toContain('failed verification at position 0');
  });

  it('verifies a node over its API and refuses a token without the auditor role', async () => {
    const vn = f.nodes.vn!;
    const ok = await fedctl([
      'audit',
      'verify',
      vn.url,
      '--token',
      await vn.token(['auditor']),
      '--governance',
      f.fed.governanceKeysFile,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('log vn: entries 0..');
    const denied = await fedctl([
      'audit',
      'verify',
      vn.url,
      '--token',
      await vn.token(['analyst']),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('403');
    const usage = await fedctl(['audit', 'verify', vn.url]);
    expect(usage.code).toBe(2);
  });
});
