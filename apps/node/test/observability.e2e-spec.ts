// Observability during a real exchange: Prometheus counters move, readiness follows the database
// and the NATS leaf, request ids are echoed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

const TOKEN = 'metrics-scraper-token-0123456789';

/** Sum of the samples of `name` whose labels include every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    seen = true;
  }
  return seen ? sum : Number.NaN;
}

async function scrape(n: RunningNode): Promise<string> {
  const r = await request(n.url).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
  if (r.status !== 200) throw new Error(`metrics ${r.status}`);
  return r.text;
}

describe('observability of a node during a real exchange', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({
      members: ['kr', 'vn'],
      env: { FEDINTEL_METRICS_TOKEN: TOKEN, FEDINTEL_AUDIT_CHECKPOINT_INTERVAL_MS: '500' },
    });
  }, 90_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('counters move: KR created and sent, VN received and stored, latency observed', async () => {
    const kr = f.nodes.kr!;
    const vn = f.nodes.vn!;
    const before = { kr: await scrape(kr), vn: await scrape(vn) };
    expect(sample(before.vn, 'fedintel_directory_version', { member: 'vn' })).toBe(1);
    const created0 = sample(before.kr, 'fedintel_records_created');
    const received0 = sample(before.vn, 'fedintel_records_received_total') || 0;

    const token = await kr.token(['analyst']);
    for (const v of ['metrics-one.example', 'metrics-two.example', 'metrics-three.example']) {
      const r = await request(kr.url)
        .post('/api/v1/indicators')
        .set('Authorization', `Bearer ${token}`)
        .send(indicatorBody({ value: v }));
      expect(r.status).toBe(201);
    }
    const after = await eventually(
      async () => {
        const text = await scrape(vn);
        return sample(text, 'fedintel_records_received_total') - received0 >= 3 ? text : undefined;
      },
      30_000,
      'VN counts three received records',
    );
    expect(sample(after, 'fedintel_records_received_total') - received0).toBe(3);
    expect(
      sample(after, 'fedintel_inbound_messages_total', { kind: 'records', status: 'stored' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'fedintel_inbound_verify_store_seconds_count', { kind: 'records' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'fedintel_records_held')).toBeGreaterThanOrEqual(3);
    expect(sample(after, 'fedintel_inbox_consumer_pending')).toBeGreaterThanOrEqual(0);
    // Checkpoints every 500 ms here: the newest one is recent.
    const age = await eventually(
      async () => {
        const a = sample(await scrape(vn), 'fedintel_audit_checkpoint_age_seconds');
        return a >= 0 ? a : undefined;
      },
      20_000,
      'a first audit checkpoint at VN',
    );
    expect(age).toBeLessThan(30);
    expect([0, 1]).toContain(sample(after, 'fedintel_audit_checkpoint_witnessed'));

    const krAfter = await eventually(
      async () => {
        const text = await scrape(kr);
        return sample(text, 'fedintel_outbox', { state: 'acknowledgedBundles' }) >= 1
          ? text
          : undefined;
      },
      30_000,
      "KR's outbox acknowledged by VN's receipt",
    );
    expect(sample(krAfter, 'fedintel_records_created') - created0).toBe(3);
    expect(sample(krAfter, 'fedintel_outbox', { state: 'queuedItems' })).toBe(0);
    expect(sample(krAfter, 'fedintel_outbox_oldest_queued_age_seconds')).toBe(0);
  }, 90_000);

  it('metrics need the configured token', async () => {
    await request(f.nodes.kr!.url).get('/metrics').expect(401);
    await request(f.nodes.kr!.url).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
  });

  it('readiness follows the NATS leaf; liveness does not; request ids are echoed', async () => {
    const kr = f.nodes.kr!;
    const ok = await request(kr.url)
      .get('/health/ready')
      .set('X-Request-Id', 'probe-1')
      .expect(200);
    expect(ok.body).toEqual({ status: 'ready', checks: { database: 'ok', nats: 'ok' } });
    expect(ok.headers['x-request-id']).toBe('probe-1');
    const generated = await request(kr.url).get('/health/live').set('X-Request-Id', 'bad id!');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    await f.brokers.leaves.kr!.stop();
    try {
      const down = await eventually(
        async () => {
          const r = await request(kr.url).get('/health/ready');
          return r.status === 503 ? r : undefined;
        },
        20_000,
        'KR not ready without its leaf',
      );
      expect(down.text).toContain('not-ready');
      await request(kr.url).get('/health/live').expect(200);
    } finally {
      await f.brokers.leaves.kr!.restart();
    }
    await eventually(
      async () => ((await request(kr.url).get('/health/ready')).status === 200 ? true : undefined),
      30_000,
      'KR ready again',
    );
  }, 90_000);
});
