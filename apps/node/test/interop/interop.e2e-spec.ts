// Standards interop on a real node (SQLite, real brokers): STIX/MISP/file imports are stored as
// local indicators held for review and shared with nobody; re-imports create nothing; exports
// validate against the OASIS STIX 2.1 schemas; the optional TAXII server serves each consumer
// only its collection.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { toStixBundle } from '../../../../libs/interop/src/index.js';
import { TAXII_MEDIA_TYPE } from '../../../../libs/taxii/src/index.js';
import { stixSchemaErrors } from '../../../../libs/interop/test/stix-validator.js';
import { makeRecord } from '../../../../libs/interop/test/records.js';
import { startNode } from '../../src/bootstrap.js';
import { loadNodeConfig } from '../../src/config/node.config.js';
import { indicatorBody, startTestFederation, type TestFederation } from '../federation.harness.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../libs/interop/test/fixtures',
);
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const ADS = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const PAY = '1d2e3f4a-5b6c-4d7e-8f80-91a2b3c4d5e6';
const INBOX = '2e3f4a5b-6c7d-4e8f-9091-a2b3c4d5e6f7';

describe('interop on a node: imports held for review, exports, TAXII', () => {
  let f: TestFederation;
  let app: INestApplication;
  let url: string;
  let analyst: string;
  let auditor: string;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'] });
    const kr = f.nodes.kr!;
    analyst = `Bearer ${await kr.token(['analyst'])}`;
    auditor = `Bearer ${await kr.token(['auditor'])}`;
    // Restart KR with its TAXII server enabled (off by default).
    const taxiiFile = join(f.dir, 'taxii.json');
    writeFileSync(
      taxiiFile,
      JSON.stringify({
        title: 'KR node TAXII',
        apiRoot: 'kr',
        settleMs: 0,
        collections: [
          {
            id: ADS,
            title: 'Confirmed piracy domains (advertisers)',
            types: ['domain'],
            maxTlp: 'GREEN',
            minConfidence: 70,
            maxAccuracy: 2,
          },
          { id: PAY, title: 'Payment accounts', types: ['payment-account'], maxTlp: 'AMBER' },
          { id: INBOX, title: 'Partner submissions', writable: true, maxTlp: 'AMBER' },
        ],
        accounts: [
          { name: 'adnet', passwordSha256: sha('ad-secret'), read: [ADS], purpose: 'analysis' },
          { name: 'payproc', tokenSha256: sha('pay-token'), read: [PAY], purpose: 'analysis' },
          {
            name: 'rightsholder',
            tokenSha256: sha('rh-token'),
            read: [],
            write: [INBOX],
            purpose: 'quality-review',
          },
        ],
      }),
    );
    await f.stopNode('kr');
    app = await startNode(loadNodeConfig({ ...kr.env, FEDINTEL_TAXII_CONFIG: taxiiFile }), {
      logger: ['error'],
    });
    url = kr.url;
  }, 90000);

  afterAll(async () => {
    await app?.close();
    await f?.stop();
  });

  it('a STIX bundle imports with a per-object report; nothing is queued for any partner', async () => {
    const bundle = toStixBundle([
      makeRecord({ value: 'stix-import-1.example', tlp: 'GREEN' }),
      makeRecord({ type: 'ip', value: '198.51.100.7' }),
    ]);
    const r = await request(url)
      .post('/api/v1/interop/import/stix')
      .set('Authorization', analyst)
      .send(bundle)
      .expect(200);
    expect(r.body).toMatchObject({ dryRun: false, created: 2, existing: 0, invalid: 0 });
    expect(r.body.mapping.summary.mapped).toBe(2);
    expect(r.body.heldForReview).toMatch(/nothing is shared/);
    const found = await request(url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ type: 'domain', value: 'stix-import-1.example' })
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    const ind = found.body.items[0];
    expect(ind.scope).toEqual({ addressees: ['kr'] });
    expect(ind.tlp).toBe('GREEN');
    expect(ind.local.sources[0]).toMatch(/^stix:bundle--/);
    const detail = await request(url)
      .get(`/api/v1/indicators/kr/${ind.id as string}`)
      .set('X-Purpose', 'investigation')
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    expect(detail.body.disclosures).toEqual([]);
    // Importing the same bundle again creates nothing.
    const again = await request(url)
      .post('/api/v1/interop/import/stix')
      .set('Authorization', analyst)
      .send(bundle)
      .expect(200);
    expect(again.body).toMatchObject({ created: 0, existing: 2 });
  });

  it('the real MISP event imports with its mapping account; a dry run stores nothing', async () => {
    const dry = await request(url)
      .post('/api/v1/interop/import/misp')
      .query({ dryRun: 'true' })
      .set('Authorization', analyst)
      .send(fixture('misp-event-example.json') as object)
      .expect(200);
    expect(dry.body).toMatchObject({ dryRun: true, created: 6, existing: 0 });
    expect(dry.body.mapping.summary).toMatchObject({ mapped: 6, skipped: 6, invalid: 0 });
    const none = await request(url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ type: 'domain', value: 'decrypttoxxx.onion.to' })
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    expect(none.body.total).toBe(0);
    const real = await request(url)
      .post('/api/v1/interop/import/misp')
      .set('Authorization', analyst)
      .send(fixture('misp-event-ursnif-domains.json') as object)
      .expect(200);
    expect(real.body).toMatchObject({ created: 5, existing: 0, invalid: 0 });
  });

  it('refuses a document that is not a bundle with a stable code', async () => {
    const r = await request(url)
      .post('/api/v1/interop/import/stix')
      .set('Authorization', analyst)
      .send({ type: 'report' })
      .expect(400);
    expect(r.body.error).toBe('NOT_A_STIX_BUNDLE');
  });

  it('rows import is idempotent and the dry run validates without writing', async () => {
    const items = ['Row-A.example', 'row-b.example', 'not a domain'].map((value, i) => ({
      ref: `line ${i + 1}`,
      type: 'domain',
      value,
      categories: ['film'],
      confidence: 60,
      tlp: 'AMBER',
      handling: { code: 'H0' },
      reliability: 'C',
      accuracy: 3,
    }));
    const dry = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({ items, dryRun: true })
      .expect(200);
    expect(dry.body).toMatchObject({ created: 2, invalid: 1 });
    const first = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({ items })
      .expect(200);
    expect(first.body).toMatchObject({ created: 2, existing: 0, invalid: 1 });
    expect(first.body.items.find((i: { ref: string }) => i.ref === 'line 3').code).toBe(
      'INVALID_VALUE',
    );
    const smuggled = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({
        items: [
          { ...items[0], scope: { addressees: ['all'] } },
          { ...items[1], tlp: 'X' },
        ],
      })
      .expect(400);
    expect(smuggled.body.message).toEqual([
      'items.0.scope is not allowed',
      'items.1.tlp is not a TLP level',
    ]);
    const second = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({ items })
      .expect(200);
    expect(second.body).toMatchObject({ created: 0, existing: 2, invalid: 1 });
  });

  it('rows state what they share once, and the answer can list only refused rows', async () => {
    const body = {
      defaults: {
        type: 'domain',
        categories: ['webtoon'],
        confidence: 70,
        tlp: 'GREEN',
        handling: { code: 'H0' },
        reliability: 'B',
        accuracy: 2,
      },
      file: 'mirrors.txt',
      report: 'invalid',
      items: [
        { ref: 'line 1', value: 'compact-a.example' },
        { ref: 'line 2', value: 'compact-b.example', tlp: 'AMBER', confidence: 20 },
        { ref: 'line 3', value: 'not a domain' },
        { ref: 'line 4', value: 'Compact-A.example' },
      ],
    };
    const r = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send(body)
      .expect(200);
    expect(r.body).toMatchObject({ created: 2, existing: 1, invalid: 1 });
    expect(r.body.items).toEqual([
      expect.objectContaining({ ref: 'line 3', outcome: 'invalid', code: 'INVALID_VALUE' }),
    ]);
    const stored = async (value: string) =>
      (
        await request(url)
          .get('/api/v1/indicators')
          .query({ type: 'domain', value })
          .set('Authorization', analyst)
          .set('X-Purpose', 'quality-review')
          .expect(200)
      ).body.items[0];
    const a = await stored('compact-a.example');
    expect(a).toMatchObject({
      tlp: 'GREEN',
      confidence: 70,
      reliability: 'B',
      accuracy: 2,
      categories: ['webtoon'],
      scope: { addressees: ['kr'] },
    });
    expect(a.local.sources).toEqual(['file:mirrors.txt#line 1']);
    expect(await stored('compact-b.example')).toMatchObject({ tlp: 'AMBER', confidence: 20 });
    // Without report: every row is listed, as before.
    const again = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({ ...body, report: undefined })
      .expect(200);
    expect(again.body).toMatchObject({ created: 0, existing: 3, invalid: 1 });
    expect(again.body.items).toHaveLength(4);
    // A field neither the row nor the defaults give is named on the row.
    const missing = await request(url)
      .post('/api/v1/interop/import/rows')
      .set('Authorization', analyst)
      .send({ ...body, defaults: { ...body.defaults, tlp: undefined } })
      .expect(400);
    expect(missing.body.message).toEqual([
      'items.0.tlp is not a TLP level',
      'items.2.tlp is not a TLP level',
      'items.3.tlp is not a TLP level',
    ]);
  });

  it('exports STIX that validates against the OASIS schemas, and CSV and MISP', async () => {
    await request(url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .send(
        indicatorBody({
          type: 'payment-account',
          subtype: 'iban',
          value: 'GB82WEST12345698765432',
          scope: { addressees: ['vn'] },
        }),
      )
      .expect(201);
    // An export is a read: without a stated purpose it is refused (and with one, audited).
    const noPurpose = await request(url)
      .get('/api/v1/interop/export')
      .query({ format: 'stix' })
      .set('Authorization', analyst)
      .expect(400);
    expect(noPurpose.body.error).toBe('PURPOSE_REQUIRED');
    const stix = await request(url)
      .get('/api/v1/interop/export')
      .query({ format: 'stix' })
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    expect(stix.headers['content-type']).toMatch(/^application\/stix\+json/);
    const bundle = JSON.parse(stix.text) as { objects: { type: string }[] };
    expect(bundle.objects.filter((o) => o.type === 'indicator').length).toBeGreaterThanOrEqual(10);
    expect(stixSchemaErrors(bundle as never)).toEqual([]);
    // Local-only fields never leave the node, not even in an export.
    expect(stix.text).not.toContain('informant tip');
    const csv = await request(url)
      .get('/api/v1/interop/export')
      .query({ format: 'csv', type: 'payment-account' })
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    expect(csv.text.split('\n')[1]).toMatch(/^payment-account,GB82WEST12345698765432,iban,/);
    const misp = await request(url)
      .get('/api/v1/interop/export')
      .query({ format: 'misp', type: 'payment-account' })
      .set('Authorization', analyst)
      .set('X-Purpose', 'quality-review')
      .expect(200);
    expect(JSON.parse(misp.text).Event.Attribute[0]).toMatchObject({ type: 'iban' });
  });

  describe('TAXII 2.1 on the node', () => {
    const AD = { Authorization: `Basic ${Buffer.from('adnet:ad-secret').toString('base64')}` };
    const ACCEPT = { Accept: TAXII_MEDIA_TYPE };

    beforeAll(async () => {
      const make = (value: string, extra: Record<string, unknown>) =>
        request(url)
          .post('/api/v1/indicators')
          .set('Authorization', analyst)
          .send(indicatorBody({ value, scope: { addressees: ['vn'] }, ...extra }))
          .expect(201);
      await make('ads-green-confirmed.example', { tlp: 'GREEN', confidence: 90, accuracy: 1 });
      await make('ads-amber.example', { tlp: 'AMBER', confidence: 90, accuracy: 1 });
      await make('ads-low-confidence.example', { tlp: 'CLEAR', confidence: 40, accuracy: 1 });
      await make('ads-clear-confirmed.example', { tlp: 'CLEAR', confidence: 75, accuracy: 2 });
    });

    it('an advertiser sees only confirmed piracy domains at TLP:CLEAR/GREEN, never held imports', async () => {
      const cols = await request(url).get('/taxii2/kr/collections/').set(ACCEPT).set(AD);
      expect(cols.status).toBe(200);
      expect(cols.headers['content-type']).toBe(TAXII_MEDIA_TYPE);
      expect(
        (JSON.parse(cols.text) as { collections: { id: string }[] }).collections.map((c) => c.id),
      ).toEqual([ADS]);
      const seen: string[] = [];
      let next: string | undefined;
      for (let i = 0; i < 50; i++) {
        const r = await request(url)
          .get(`/taxii2/kr/collections/${ADS}/objects/`)
          .query({ 'match[type]': 'indicator', limit: 1, ...(next ? { next } : {}) })
          .set(ACCEPT)
          .set(AD);
        expect(r.status).toBe(200);
        const env = JSON.parse(r.text) as {
          more: boolean;
          next?: string;
          objects?: { pattern: string }[];
        };
        seen.push(...(env.objects ?? []).map((o) => o.pattern));
        if (!env.more) break;
        next = env.next;
      }
      expect(seen.sort()).toEqual([
        "[domain-name:value = 'ads-clear-confirmed.example']",
        "[domain-name:value = 'ads-green-confirmed.example']",
      ]);
      const pay = await request(url)
        .get(`/taxii2/kr/collections/${PAY}/objects/`)
        .set(ACCEPT)
        .set(AD);
      expect(pay.status).toBe(404);
      // Each read is a consultation in the node's log, with the account's configured purpose.
      const log = await request(url)
        .get('/api/v1/audit/entries')
        .query({ op: 'consultation', actor: 'taxii:adnet' })
        .set('Authorization', auditor)
        .expect(200);
      const reads = log.body.items as {
        purpose: string;
        records?: string[];
        detail: Record<string, unknown>;
      }[];
      expect(reads.length).toBeGreaterThanOrEqual(2);
      expect(reads[0]).toMatchObject({
        purpose: 'analysis',
        detail: { route: 'taxii/objects', collection: ADS },
      });
      // Each read names the record versions behind the objects it returned, and only those.
      const served = await Promise.all(
        ['ads-clear-confirmed.example', 'ads-green-confirmed.example'].map(async (value) => {
          const found = await request(url)
            .get('/api/v1/indicators')
            .query({ type: 'domain', value })
            .set('Authorization', analyst)
            .set('X-Purpose', 'quality-review')
            .expect(200);
          const i = found.body.items[0] as { origin: string; id: string; version: number };
          return `${i.origin}/${i.id}@${i.version}`;
        }),
      );
      const named = reads.flatMap((r) => r.records ?? []);
      for (const ref of served) expect(named).toContain(ref);
      expect(named.every((ref) => served.includes(ref))).toBe(true);
      // Pages of one object each: no entry names more than the one record it returned.
      expect(reads.every((r) => (r.records ?? []).length <= 1)).toBe(true);
    });

    it('the collection carries the definitions its objects reference and validates as STIX', async () => {
      const r = await request(url)
        .get(`/taxii2/kr/collections/${ADS}/objects/`)
        .set(ACCEPT)
        .set(AD);
      const env = JSON.parse(r.text) as { objects: { type: string; id: string }[] };
      const ids = new Set(env.objects.map((o) => o.id));
      for (const o of env.objects as Record<string, unknown>[]) {
        for (const ref of [o.created_by_ref, ...((o.object_marking_refs as string[]) ?? [])]) {
          if (typeof ref === 'string') expect(ids).toContain(ref);
        }
      }
      expect(
        stixSchemaErrors({
          objects: env.objects.filter((o) => o.type !== 'extension-definition'),
        }),
      ).toEqual([]);
    });

    it('a writable collection imports POSTed objects as held indicators and reports a status', async () => {
      const objects = toStixBundle([makeRecord({ value: 'taxii-posted.example' })]).objects;
      const post = await request(url)
        .post(`/taxii2/kr/collections/${INBOX}/objects/`)
        .set(ACCEPT)
        .set('Authorization', 'Token rh-token')
        .set('Content-Type', TAXII_MEDIA_TYPE)
        .send(JSON.stringify({ objects }));
      expect(post.status).toBe(202);
      const status = JSON.parse(post.text) as {
        id: string;
        success_count: number;
        failures: { id: string; message: string }[];
      };
      // Everything but the relationship: relations are set by an analyst after review.
      expect(status.success_count).toBe(objects.length - 1);
      expect(status.failures.map((x) => x.id)).toEqual(
        objects.filter((o) => o.type === 'relationship').map((o) => o.id),
      );
      const s = await request(url)
        .get(`/taxii2/kr/status/${status.id}/`)
        .set(ACCEPT)
        .set('Authorization', 'Token rh-token');
      expect(s.status).toBe(200);
      const found = await request(url)
        .get('/api/v1/indicators')
        .set('X-Purpose', 'investigation')
        .query({ type: 'domain', value: 'taxii-posted.example' })
        .set('Authorization', analyst)
        .set('X-Purpose', 'quality-review')
        .expect(200);
      expect(found.body.items[0].scope).toEqual({ addressees: ['kr'] });
      expect(found.body.items[0].local.sources[0]).toMatch(/taxii/);
    });

    it('the REST API still refuses TAXII credentials and TAXII refuses API tokens', async () => {
      await request(url).get('/api/v1/indicators').set(AD).expect(401);
      const r = await request(url).get('/taxii2/').set(ACCEPT).set('Authorization', analyst);
      expect(r.status).toBe(401);
    });
  });
});
