// The hub's TAXII collections over its aggregates and networks (libs/taxii over HTTP, the hub's
// source on fixed data): who sees what, what is never served, re-dating of changed aggregates,
// and STIX validity of everything served.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Aggregate, Network } from '../../../../libs/correlation/src/index.js';
import { TAXII_MEDIA_TYPE, TaxiiModule } from '../../../../libs/taxii/src/index.js';
import { stixSchemaErrors } from '../../../../libs/interop/test/stix-validator.js';
import { loadHubTaxiiConfig } from '../../src/taxii/hub-taxii.config.js';
import { HubTaxiiSource } from '../../src/taxii/hub-taxii.source.js';

const config = loadHubTaxiiConfig({
  FEDINTEL_HUB_TAXII_CONFIG: join(process.cwd(), 'samples', 'interop', 'hub-taxii.json'),
})!;
const [ADS, CROSS, NETS] = config.collections.map((c) => c.id) as [string, string, string];
const AD = {
  Authorization: `Basic ${Buffer.from('adnet:adnet-demo-password').toString('base64')}`,
};
const PARTNER = { Authorization: 'Token interpol-partner-demo-token' };
const ACCEPT = { Accept: TAXII_MEDIA_TYPE };

const agg = (value: string, over: Partial<Aggregate> = {}): Aggregate => ({
  type: 'domain',
  value,
  sources: [
    {
      origin: 'kr',
      id: '0b7c7f4e-6a0e-4b8e-9a51-000000000001',
      version: 1,
      confidence: 80,
      country: 'KR',
    },
    {
      origin: 'vn',
      id: '0b7c7f4e-6a0e-4b8e-9a51-000000000002',
      version: 1,
      confidence: 80,
      country: 'VN',
    },
  ],
  countries: [
    { country: 'KR', sightings: 1 },
    { country: 'VN', sightings: 1 },
  ],
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-11-20T00:00:00.000Z',
  confidence: 96,
  tlp: 'GREEN',
  handling: { code: 'H0' },
  categories: ['webtoon'],
  nextExpiry: '2027-05-01T00:00:00.000Z',
  ...over,
});

describe('hub TAXII collections over aggregates and networks', () => {
  let app: INestApplication;
  let http: ReturnType<INestApplication['getHttpServer']>;
  let aggregates: Aggregate[] = [
    agg('green-confirmed.example'),
    agg('amber.example', { tlp: 'AMBER' }),
    agg('red.example', { tlp: 'RED' }),
    agg('no-onward.example', { handling: { code: 'H2' } }),
    agg('low.example', { confidence: 40 }),
    agg('single-country.example', { countries: [{ country: 'KR', sightings: 1 }] }),
    agg('GB82WEST12345698765432', { type: 'payment-account', tlp: 'AMBER' }),
  ];
  const networks: Network[] = [
    {
      id: 'net-000000000001',
      members: [
        { type: 'domain', value: 'green-confirmed.example', countries: ['KR', 'VN'] },
        { type: 'payment-account', value: 'GB82WEST12345698765432', countries: ['KR', 'VN'] },
      ],
      countries: ['KR', 'VN'],
      evidence: [],
      sources: [],
    },
    {
      id: 'net-000000000002',
      members: [
        { type: 'domain', value: 'green-confirmed.example', countries: ['KR', 'VN'] },
        { type: 'domain', value: 'no-onward.example', countries: ['KR', 'VN'] },
      ],
      countries: ['KR', 'VN'],
      evidence: [],
      sources: [],
    },
  ];
  let now = Date.parse('2026-11-28T10:00:00.000Z');
  const source = new HubTaxiiSource(
    config,
    { aggregates: () => Promise.resolve(aggregates), networks: () => Promise.resolve(networks) },
    () => new Date(now),
  );

  beforeAll(async () => {
    @Module({
      imports: [
        TaxiiModule.forRoot({
          title: config.title,
          apiRoot: config.apiRoot,
          accounts: config.accounts,
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

  const objects = async (col: string, auth: Record<string, string>, query = {}) => {
    const r = await request(http)
      .get(`/taxii2/hub/collections/${col}/objects/`)
      .query(query)
      .set(ACCEPT)
      .set(auth);
    return {
      status: r.status,
      headers: r.headers,
      body: JSON.parse(r.text) as { objects?: Record<string, unknown>[]; more: boolean },
    };
  };

  it('an advertiser sees only confirmed domains at TLP:CLEAR/GREEN, and no other collection', async () => {
    const r = await objects(ADS, AD, { 'match[type]': 'indicator' });
    expect(r.status).toBe(200);
    expect((r.body.objects ?? []).map((o) => o.pattern)).toEqual([
      "[domain-name:value = 'green-confirmed.example']",
      "[domain-name:value = 'single-country.example']",
    ]);
    expect((await objects(CROSS, AD)).status).toBe(404);
    expect((await objects(NETS, AD)).status).toBe(404);
  });

  it('never serves TLP:RED or H2 aggregates, nor a network with such a member', async () => {
    const cross = await objects(CROSS, PARTNER, { 'match[type]': 'indicator' });
    const patterns = (cross.body.objects ?? []).map((o) => String(o.pattern));
    expect(patterns.some((p) => p.includes('red.example') || p.includes('no-onward'))).toBe(false);
    expect(patterns.some((p) => p.includes('amber.example'))).toBe(true);
    expect(patterns.some((p) => p.includes('single-country'))).toBe(false);
    const nets = await objects(NETS, PARTNER, { 'match[type]': 'intrusion-set' });
    expect((nets.body.objects ?? []).map((o) => o.name)).toEqual([
      'Operator network net-000000000001 (KR, VN)',
    ]);
  });

  it('everything a collection serves validates against the OASIS STIX 2.1 schemas', async () => {
    for (const col of [CROSS, NETS]) {
      const r = await objects(col, PARTNER);
      const served = (r.body.objects ?? []) as { type: string; id: string }[];
      expect(served.length).toBeGreaterThan(0);
      expect(
        stixSchemaErrors({
          type: 'bundle',
          id: 'bundle--0b7c7f4e-6a0e-4b8e-9a51-000000000009',
          objects: served.filter((o) => o.type !== 'extension-definition'),
        } as never),
      ).toEqual([]);
    }
  });

  it('a changed aggregate is served again after added_after, with a later version', async () => {
    const first = await objects(ADS, AD, { 'match[type]': 'indicator' });
    const last = first.headers['x-taxii-date-added-last'] as string;
    expect(last).toBeDefined();
    now += 60_000;
    aggregates = aggregates.map((a) =>
      a.value === 'green-confirmed.example' ? { ...a, confidence: 99 } : a,
    );
    const later = await objects(ADS, AD, { added_after: last, 'match[type]': 'indicator' });
    expect((later.body.objects ?? []).map((o) => [o.pattern, o.confidence])).toEqual([
      ["[domain-name:value = 'green-confirmed.example']", 99],
    ]);
    expect(String(later.body.objects?.[0]?.modified) > last).toBe(true);
  });

  it('a bad configuration stops start-up with the field named; no variable, no TAXII server', () => {
    const red = join(tmpdir(), `hub-taxii-red-${process.pid}.json`);
    writeFileSync(
      red,
      JSON.stringify({
        collections: [{ id: ADS, title: 'x', maxTlp: 'RED' }],
        accounts: [],
      }),
    );
    expect(() => loadHubTaxiiConfig({ FEDINTEL_HUB_TAXII_CONFIG: red })).toThrow(
      /collections\[0\]\.maxTlp: TLP:RED/,
    );
    expect(() => loadHubTaxiiConfig({ FEDINTEL_HUB_TAXII_CONFIG: '/nonexistent.json' })).toThrow(
      /FEDINTEL_HUB_TAXII_CONFIG/,
    );
    expect(loadHubTaxiiConfig({})).toBeUndefined();
  });
});
