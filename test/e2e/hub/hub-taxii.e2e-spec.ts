// The hub's TAXII 2.1 server on a live federation: members report the same domain to the hub,
// the hub aggregates it, and a TAXII client (curl-like, with the exact headers) discovers, pages
// and fetches it from the advertiser collection; every object served validates as STIX 2.1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import request from 'supertest';
import { TAXII_MEDIA_TYPE } from '../../../libs/taxii/src/index.js';
import { stixSchemaErrors } from '../../../libs/interop/test/stix-validator.js';
import { eventually, type RunningNode } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';

const ADS = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const AD = {
  Authorization: `Basic ${Buffer.from('adnet:adnet-demo-password').toString('base64')}`,
};
const ACCEPT = { Accept: TAXII_MEDIA_TYPE };

describe('hub TAXII 2.1 over a live federation', () => {
  let hub: TestHub;
  let stop: () => Promise<void>;
  let nodes: Record<string, RunningNode>;

  beforeAll(async () => {
    // The hub reads its TAXII configuration from the environment at start-up.
    process.env.FEDINTEL_HUB_TAXII_CONFIG = join(
      process.cwd(),
      'samples',
      'interop',
      'hub-taxii.json',
    );
    try {
      const started = await startHubFederation();
      hub = started.hub;
      stop = started.stop;
      nodes = started.f.nodes;
    } finally {
      delete process.env.FEDINTEL_HUB_TAXII_CONFIG;
    }
    for (const id of ['kr', 'vn']) {
      const node = nodes[id]!;
      const res = await request(node.url)
        .post('/api/v1/indicators')
        .set('Authorization', `Bearer ${await node.token(['analyst'])}`)
        .send({
          type: 'domain',
          value: 'taxii-cross-border.example',
          categories: ['webtoon'],
          confidence: 80,
          reliability: 'B',
          accuracy: 2,
          tlp: 'GREEN',
          handling: { code: 'H0' },
          scope: { addressees: ['hub'] },
        });
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    }
    await eventually(
      async () => {
        const r = await hub.get('/api/v1/aggregates/domain/taxii-cross-border.example');
        return r.status === 200 && (r.body.sources as unknown[]).length === 2 ? true : undefined;
      },
      60000,
      'the aggregate at the hub',
    );
  }, 120000);

  afterAll(async () => stop?.());

  it('a client discovers the API root, lists its collection and fetches the aggregated domain', async () => {
    const disc = await request(hub.url).get('/taxii2/').set(ACCEPT).set(AD);
    expect(disc.status).toBe(200);
    expect(disc.headers['content-type']).toBe(TAXII_MEDIA_TYPE);
    const root = new URL((JSON.parse(disc.text) as { api_roots: string[] }).api_roots[0]!).pathname;
    const cols = JSON.parse(
      (await request(hub.url).get(`${root}collections/`).set(ACCEPT).set(AD)).text,
    ) as {
      collections: { id: string }[];
    };
    expect(cols.collections.map((c) => c.id)).toEqual([ADS]);
    const seen: Record<string, unknown>[] = [];
    let next: string | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await request(hub.url)
        .get(`${root}collections/${ADS}/objects/`)
        .query({ limit: 3, ...(next ? { next } : {}) })
        .set(ACCEPT)
        .set(AD);
      expect(r.status).toBe(200);
      const env = JSON.parse(r.text) as {
        more: boolean;
        next?: string;
        objects?: Record<string, unknown>[];
      };
      seen.push(...(env.objects ?? []));
      if (!env.more) break;
      next = env.next;
    }
    const indicator = seen.find((o) => o.type === 'indicator')!;
    expect(indicator).toMatchObject({
      pattern: "[domain-name:value = 'taxii-cross-border.example']",
      confidence: 96,
    });
    expect(
      stixSchemaErrors({
        type: 'bundle',
        id: 'bundle--0b7c7f4e-6a0e-4b8e-9a51-00000000000a',
        objects: seen.filter((o) => o.type !== 'extension-definition'),
      } as never),
    ).toEqual([]);
  });

  it('logs each TAXII read as a consultation with the consumer, the collection and a purpose', async () => {
    const objects = `/taxii2/hub/collections/${ADS}/objects/`;
    await request(hub.url).get(objects).set(ACCEPT).set(AD).expect(200);
    await request(hub.url)
      .get(objects)
      .set(ACCEPT)
      .set(AD)
      .set('X-Purpose', 'investigation:WIPO-2026-3')
      .expect(200);
    const bad = await request(hub.url).get(objects).set(ACCEPT).set(AD).set('X-Purpose', 'x y');
    expect(bad.status).toBe(400);
    const auditor = `Bearer ${await hub.token(['auditor'])}`;
    const r = await request(hub.url)
      .get('/api/v1/audit/entries')
      .query({ op: 'consultation', actor: 'taxii:adnet' })
      .set('Authorization', auditor);
    expect(r.status).toBe(200);
    const reads = r.body.items as { purpose: string; detail: Record<string, unknown> }[];
    // The purpose configured for the account (samples/interop/hub-taxii.json), then the header's.
    expect(reads.map((e) => e.purpose)).toEqual(
      expect.arrayContaining(['analysis:ad-placement-screening', 'investigation:WIPO-2026-3']),
    );
    expect(reads.at(-1)!.detail).toMatchObject({ route: 'taxii/objects', collection: ADS });
    expect(JSON.stringify(r.body)).not.toContain('taxii-cross-border.example');
  });

  it('the hub operator API still wants its bearer token, and TAXII its own accounts', async () => {
    await request(hub.url).get('/api/v1/aggregates').set(AD).expect(401);
    const r = await request(hub.url)
      .get('/taxii2/')
      .set(ACCEPT)
      .set('Authorization', `Bearer ${await hub.token()}`);
    expect(r.status).toBe(401);
  });
});
