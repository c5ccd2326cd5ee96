import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { TAXII_MEDIA_TYPE, TaxiiModule, type TaxiiAccount } from '../src/index.js';
import { MemorySource } from './memory-source.js';

const DOMAINS = '4e0b7c2a-1f3d-4a5e-9b6c-7d8e9f0a1b2c';
const PAYMENTS = '5f1c8d3b-2a4e-4b6f-8c7d-8e9f0a1b2c3d';
const INBOX = '6a2d9e4c-3b5f-4c7a-9d8e-9f0a1b2c3d4e';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const accounts: TaxiiAccount[] = [
  {
    name: 'adnet',
    passwordSha256: sha('ad-secret'),
    read: [DOMAINS],
    write: [],
    purpose: 'analysis',
  },
  {
    name: 'payproc',
    tokenSha256: sha('pay-token'),
    read: [PAYMENTS],
    write: [],
    purpose: 'analysis',
  },
  {
    name: 'partner',
    passwordSha256: sha('partner-secret'),
    read: [INBOX],
    write: [INBOX],
    purpose: 'analysis',
  },
];
const AD = { Authorization: `Basic ${Buffer.from('adnet:ad-secret').toString('base64')}` };
const PARTNER = {
  Authorization: `Basic ${Buffer.from('partner:partner-secret').toString('base64')}`,
};
const ACCEPT = { Accept: TAXII_MEDIA_TYPE };

const indicator = (n: number, modified = '2026-11-01T00:00:00.000Z') => ({
  type: 'indicator',
  spec_version: '2.1',
  id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-11-01T00:00:00.000Z',
  modified,
  pattern: `[domain-name:value = 'site${n}.example']`,
  pattern_type: 'stix',
  valid_from: '2026-11-01T00:00:00.000Z',
});

describe('TAXII 2.1 server (libs/taxii over HTTP)', () => {
  let app: INestApplication;
  let http: ReturnType<INestApplication['getHttpServer']>;
  const source = new MemorySource([
    { id: DOMAINS, title: 'Confirmed piracy domains (TLP:CLEAR/GREEN)', writable: false },
    { id: PAYMENTS, title: 'Payment accounts', writable: false },
    { id: INBOX, title: 'Partner submissions', writable: true },
  ]);

  beforeAll(async () => {
    for (let i = 1; i <= 5; i++) source.put(DOMAINS, indicator(i));
    source.put(PAYMENTS, indicator(100));
    @Module({
      imports: [
        TaxiiModule.forRoot({
          title: 'FedIntel test',
          apiRoot: 'api',
          accounts,
          source: { useFactory: () => source },
        }),
      ],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false });
    await app.init();
    http = app.getHttpServer();
  });
  afterAll(async () => app?.close());

  it('refuses requests without credentials or with a wrong password, as TAXII errors', async () => {
    const none = await request(http).get('/taxii2/').set(ACCEPT);
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe(TAXII_MEDIA_TYPE);
    expect(none.headers['www-authenticate']).toMatch(/Basic/);
    const wrong = await request(http)
      .get('/taxii2/')
      .set(ACCEPT)
      .set('Authorization', `Basic ${Buffer.from('adnet:nope').toString('base64')}`);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text)).toMatchObject({ http_status: '401' });
  });

  it('a client walks discovery, API root and collections with the exact media type', async () => {
    const d = await request(http).get('/taxii2/').set(ACCEPT).set(AD);
    expect(d.status).toBe(200);
    expect(d.headers['content-type']).toBe(TAXII_MEDIA_TYPE);
    const disc = JSON.parse(d.text) as { api_roots: string[]; default: string };
    expect(disc.api_roots).toHaveLength(1);
    const rootPath = new URL(disc.api_roots[0]!).pathname;
    expect(rootPath).toBe('/taxii2/api/');
    const root = JSON.parse((await request(http).get(rootPath).set(ACCEPT).set(AD)).text) as {
      versions: string[];
    };
    expect(root.versions).toEqual([TAXII_MEDIA_TYPE]);
    const cols = JSON.parse(
      (await request(http).get(`${rootPath}collections/`).set(ACCEPT).set(AD)).text,
    ) as { collections: { id: string; can_read: boolean; can_write: boolean }[] };
    expect(cols.collections.map((c) => [c.id, c.can_read, c.can_write])).toEqual([
      [DOMAINS, true, false],
    ]);
  });

  it('an advertiser account cannot see or read the payment collection', async () => {
    for (const path of ['', 'objects/', 'manifest/']) {
      const r = await request(http)
        .get(`/taxii2/api/collections/${PAYMENTS}/${path}`)
        .set(ACCEPT)
        .set(AD);
      expect(r.status).toBe(404);
    }
  });

  it('token authentication (taxii2-client "Token" and "Bearer") sees its own collection', async () => {
    for (const scheme of ['Token', 'Bearer']) {
      const r = await request(http)
        .get(`/taxii2/api/collections/${PAYMENTS}/objects/`)
        .set(ACCEPT)
        .set('Authorization', `${scheme} pay-token`);
      expect(r.status).toBe(200);
      expect((JSON.parse(r.text) as { objects: unknown[] }).objects).toHaveLength(1);
    }
  });

  it('answers 406 to a wrong Accept and 415 to a wrong Content-Type', async () => {
    const r406 = await request(http)
      .get('/taxii2/api/collections/')
      .set(AD)
      .set('Accept', 'application/json');
    expect(r406.status).toBe(406);
    const r406v = await request(http)
      .get('/taxii2/api/collections/')
      .set(AD)
      .set('Accept', 'application/taxii+json;version=2.0');
    expect(r406v.status).toBe(406);
    const r415 = await request(http)
      .post(`/taxii2/api/collections/${INBOX}/objects/`)
      .set(ACCEPT)
      .set(PARTNER)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ objects: [indicator(900)] }));
    expect(r415.status).toBe(415);
  });

  it('pages with limit/next stay complete and duplicate-free while new objects arrive', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    let extra = 50;
    for (let i = 0; i < 20; i++) {
      const r = await request(http)
        .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
        .query({ limit: 2, ...(next ? { next } : {}) })
        .set(ACCEPT)
        .set(AD);
      expect(r.status).toBe(200);
      const env = JSON.parse(r.text) as {
        more: boolean;
        next?: string;
        objects?: { id: string }[];
      };
      seen.push(...(env.objects ?? []).map((o) => o.id));
      // An object arrives between page requests.
      if (extra < 53) source.put(DOMAINS, indicator(extra++));
      if (!env.more) break;
      expect(env.next).toBeDefined();
      next = env.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const n of [1, 2, 3, 4, 5, 50, 51, 52]) expect(seen).toContain(indicator(n).id);
  });

  it('added_after from X-TAXII-Date-Added-Last returns only what came later', async () => {
    const first = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .set(ACCEPT)
      .set(AD);
    const last = first.headers['x-taxii-date-added-last'] as string;
    expect(first.headers['x-taxii-date-added-first']).toBeDefined();
    expect(last).toMatch(/Z$/);
    source.put(DOMAINS, indicator(60));
    const later = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .query({ added_after: last })
      .set(ACCEPT)
      .set(AD);
    const env = JSON.parse(later.text) as { objects: { id: string }[] };
    expect(env.objects.map((o) => o.id)).toEqual([indicator(60).id]);
  });

  it('serves the manifest, versions, one object by id and match filters', async () => {
    source.put(DOMAINS, indicator(1, '2026-11-20T00:00:00.000Z'));
    const id = indicator(1).id;
    const manifest = JSON.parse(
      (
        await request(http)
          .get(`/taxii2/api/collections/${DOMAINS}/manifest/`)
          .query({ 'match[id]': id, 'match[version]': 'all' })
          .set(ACCEPT)
          .set(AD)
      ).text,
    ) as { objects: { id: string; version: string; media_type: string; date_added: string }[] };
    expect(manifest.objects.map((o) => o.version)).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-11-20T00:00:00.000Z',
    ]);
    expect(manifest.objects[0]?.media_type).toBe('application/stix+json;version=2.1');
    const versions = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/${id}/versions/`)
      .set(ACCEPT)
      .set(AD);
    expect(JSON.parse(versions.text)).toEqual({
      more: false,
      versions: ['2026-11-01T00:00:00.000Z', '2026-11-20T00:00:00.000Z'],
    });
    const one = JSON.parse(
      (
        await request(http)
          .get(`/taxii2/api/collections/${DOMAINS}/objects/${id}/`)
          .set(ACCEPT)
          .set(AD)
      ).text,
    ) as { objects: { modified: string }[] };
    expect(one.objects.map((o) => o.modified)).toEqual(['2026-11-20T00:00:00.000Z']);
    const first = JSON.parse(
      (
        await request(http)
          .get(`/taxii2/api/collections/${DOMAINS}/objects/${id}/`)
          .query({ 'match[version]': 'first' })
          .set(ACCEPT)
          .set(AD)
      ).text,
    ) as { objects: { modified: string }[] };
    expect(first.objects.map((o) => o.modified)).toEqual(['2026-11-01T00:00:00.000Z']);
    const none = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .query({ 'match[type]': 'malware' })
      .set(ACCEPT)
      .set(AD);
    expect(JSON.parse(none.text)).toEqual({ more: false });
    const missing = await request(http)
      .get(
        `/taxii2/api/collections/${DOMAINS}/objects/indicator--9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a/`,
      )
      .set(ACCEPT)
      .set(AD);
    expect(missing.status).toBe(404);
  });

  it('refuses a malformed next token and an unknown filter', async () => {
    const bad = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .query({ next: '!!!' })
      .set(ACCEPT)
      .set(AD);
    expect(bad.status).toBe(400);
    const unknown = await request(http)
      .get(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .query({ 'match[colour]': 'red' })
      .set(ACCEPT)
      .set(AD);
    expect(unknown.status).toBe(400);
  });

  it('POST to a writable collection answers 202 with a status resource, readable by its owner only', async () => {
    const post = await request(http)
      .post(`/taxii2/api/collections/${INBOX}/objects/`)
      .set(ACCEPT)
      .set(PARTNER)
      .set('Content-Type', TAXII_MEDIA_TYPE)
      .send(JSON.stringify({ objects: [indicator(700), { type: 'malware', id: 'malware--1' }] }));
    expect(post.status).toBe(202);
    const status = JSON.parse(post.text) as {
      id: string;
      success_count: number;
      failure_count: number;
    };
    expect(status).toMatchObject({ status: 'complete', success_count: 1, failure_count: 1 });
    const again = await request(http)
      .get(`/taxii2/api/status/${status.id}/`)
      .set(ACCEPT)
      .set(PARTNER);
    expect(JSON.parse(again.text)).toEqual(status);
    const other = await request(http).get(`/taxii2/api/status/${status.id}/`).set(ACCEPT).set(AD);
    expect(other.status).toBe(404);
    const ro = await request(http)
      .post(`/taxii2/api/collections/${DOMAINS}/objects/`)
      .set(ACCEPT)
      .set(AD)
      .set('Content-Type', TAXII_MEDIA_TYPE)
      .send(JSON.stringify({ objects: [indicator(701)] }));
    expect(ro.status).toBe(403);
  });
});
