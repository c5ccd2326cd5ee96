// The hub end to end (shared by the SQLite and PostgreSQL suites): three member nodes (KR, VN, TH) and the hub on real nats-servers. Members
// report overlapping indicators and relations; the hub's aggregates, networks, successor flags,
// statistics and every member's feed view are asserted exactly, then again after a retraction and
// after an expiry. A TLP:AMBER+STRICT record and an H2 record never reach another member's feed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { jetstream } from '@nats-io/jetstream';
import { subjectFor } from '../../../libs/broker/src/index.js';
import {
  ProtocolError,
  createBundle,
  directoryKeyResolver,
  encryptTo,
  importPrivateKey,
  importPublicKey,
  parseStrictJson,
  verifyRecordProof,
  type IndicatorRecord,
} from '../../../libs/protocol/src/index.js';
import {
  eventually,
  type RunningNode,
  type TestFederation,
} from '../../../apps/node/test/federation.harness.js';
import type { DatabaseKind } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';

const IBAN = 'GB82WEST12345698765432';
const HOUR = 3600 * 1000;

interface Item {
  type: string;
  value: string;
  sources: { origin: string; id: string; version: number; confidence: number; country: string }[];
  confidence: number;
  tlp: string;
  handling: { code: string };
}

/** `type:value` → contributing origins, the shape most assertions compare. */
function view(items: Item[]): Record<string, string[]> {
  return Object.fromEntries(
    items.map((i) => [`${i.type}:${i.value}`, i.sources.map((s) => s.origin)]),
  );
}

/** The hub scenario on one database kind (the nodes and the hub both use it). */
export function hubScenario(database: DatabaseKind): void {
  describe(`the Interpol hub over a live federation (${database})`, () => {
    let f: TestFederation;
    let hub: TestHub;
    let stop: () => Promise<void>;
    const ids: Record<string, string> = {};

    async function report(node: RunningNode, name: string, body: Record<string, unknown>) {
      const res = await request(node.url)
        .post('/api/v1/indicators')
        .set('Authorization', `Bearer ${await node.token(['analyst'])}`)
        .send({
          categories: ['webtoon'],
          reliability: 'B',
          accuracy: 2,
          tlp: 'GREEN',
          handling: { code: 'H0' },
          scope: { addressees: ['all'] },
          ...body,
        });
      if (res.status !== 201) throw new Error(`${name}: ${JSON.stringify(res.body)}`);
      ids[name] = res.body.indicator.id as string;
    }

    async function aggregates(): Promise<Item[]> {
      const res = await hub.get('/api/v1/aggregates?limit=500');
      if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      return res.body.items as Item[];
    }

    async function feedOf(id: string): Promise<Item[]> {
      const node = f.nodes[id]!;
      // Reading the feed is a consultation: without a stated purpose nothing is read.
      const refused = await request(node.url)
        .get('/api/v1/feed?limit=500')
        .set('Authorization', `Bearer ${await node.token(['analyst'])}`);
      if (refused.status !== 400 || refused.body.error !== 'PURPOSE_REQUIRED') {
        throw new Error(
          `feed read without a purpose: ${refused.status} ${JSON.stringify(refused.body)}`,
        );
      }
      const res = await request(node.url)
        .get('/api/v1/feed?limit=500')
        .set('X-Purpose', 'analysis')
        .set('Authorization', `Bearer ${await node.token(['analyst'])}`);
      if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      return (res.body.items as { item: Item }[]).map((i) => i.item);
    }

    async function until<T>(read: () => Promise<T>, expected: unknown, what: string): Promise<T> {
      let last: T | undefined;
      try {
        return await eventually(
          async () => {
            last = await read();
            return JSON.stringify(last) === JSON.stringify(expected) ? last : undefined;
          },
          60000,
          what,
        );
      } catch (e) {
        // Show the difference rather than a bare timeout.
        expect(last).toEqual(expected);
        throw e;
      }
    }

    beforeAll(async () => {
      ({ f, hub, stop } = await startHubFederation({ database }));
      const { kr, vn, th } = f.nodes;
      await report(kr!, 'krDomain', {
        type: 'domain',
        value: 'toonkor123.com',
        confidence: 80,
        firstSeen: '2026-10-01T00:00:00.000Z',
      });
      await report(kr!, 'krAlias', {
        type: 'operator-alias',
        subtype: 'handle',
        value: 'toonboss',
        confidence: 70,
        firstSeen: '2026-10-01T00:00:00.000Z',
        relations: [{ type: 'operates', target: ids.krDomain, targetOrigin: 'kr' }],
      });
      await report(kr!, 'krShort', {
        type: 'domain',
        value: 'shortlived.net',
        confidence: 90,
        firstSeen: '2026-11-01T00:00:00.000Z',
        validUntil: new Date(Date.now() + HOUR).toISOString(),
      });
      await report(vn!, 'vnIban', {
        type: 'payment-account',
        subtype: 'iban',
        value: IBAN,
        confidence: 90,
        tlp: 'AMBER',
        handling: { code: 'H1' },
        firstSeen: '2026-10-05T00:00:00.000Z',
      });
      await report(vn!, 'vnDomain', {
        type: 'domain',
        value: 'toonkor123.com',
        confidence: 50,
        tlp: 'AMBER',
        handling: { code: 'H1' },
        firstSeen: '2026-10-05T00:00:00.000Z',
        relations: [{ type: 'pays-into', target: ids.vnIban, targetOrigin: 'vn' }],
      });
      await report(vn!, 'vnShort', {
        type: 'domain',
        value: 'shortlived.net',
        confidence: 40,
        firstSeen: '2026-11-02T00:00:00.000Z',
      });
      await report(vn!, 'vnStrict', {
        type: 'domain',
        value: 'secretmirror.org',
        confidence: 70,
        tlp: 'AMBER+STRICT',
        handling: { code: 'H1' },
        scope: { addressees: ['hub', 'th'] },
        firstSeen: '2026-11-03T00:00:00.000Z',
      });
      await report(th!, 'thDomain', {
        type: 'domain',
        value: 'toonkor123.com',
        confidence: 60,
        handling: { code: 'H2' },
        firstSeen: '2026-10-10T00:00:00.000Z',
      });
      await report(th!, 'thNext', {
        type: 'domain',
        value: 'toonkor124.com',
        confidence: 60,
        firstSeen: '2026-11-15T00:00:00.000Z',
      });
      await report(th!, 'thHop', {
        type: 'domain',
        value: 'webtoonhub.org',
        confidence: 75,
        firstSeen: '2026-11-20T00:00:00.000Z',
        relations: [{ type: 'pays-into', target: ids.vnIban, targetOrigin: 'vn' }],
      });
    }, 180000);

    afterAll(async () => {
      await stop?.();
    }, 60000);

    it('aggregates the same domain reported by three countries into one indicator citing each record', async () => {
      await until(
        async () => view(await aggregates()),
        {
          'domain:secretmirror.org': ['vn'],
          'domain:shortlived.net': ['kr', 'vn'],
          'domain:toonkor123.com': ['kr', 'th', 'vn'],
          'domain:toonkor124.com': ['th'],
          'domain:webtoonhub.org': ['th'],
          'operator-alias:toonboss': ['kr'],
          [`payment-account:${IBAN}`]: ['vn'],
        },
        'every report aggregated at the hub',
      );
      const res = await hub.get('/api/v1/aggregates/domain/toonkor123.com');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        type: 'domain',
        value: 'toonkor123.com',
        sources: [
          { origin: 'kr', id: ids.krDomain, version: 1, confidence: 80, country: 'KR' },
          { origin: 'th', id: ids.thDomain, version: 1, confidence: 60, country: 'TH' },
          { origin: 'vn', id: ids.vnDomain, version: 1, confidence: 50, country: 'VN' },
        ],
        countries: [
          { country: 'KR', sightings: 1 },
          { country: 'TH', sightings: 1 },
          { country: 'VN', sightings: 1 },
        ],
        firstSeen: '2026-10-01T00:00:00.000Z',
        lastSeen: '2026-10-10T00:00:00.000Z',
        confidence: 96,
        tlp: 'AMBER',
        handling: { code: 'H2' },
        categories: ['webtoon'],
        nextExpiry: expect.any(String),
      });
      const search = await hub.get('/api/v1/aggregates?valuePrefix=toonkor&minSources=2');
      expect(view(search.body.items)).toEqual({ 'domain:toonkor123.com': ['kr', 'th', 'vn'] });
      const byCountry = await hub.get('/api/v1/aggregates?country=TH&type=domain&limit=2');
      expect(byCountry.body.items.map((i: Item) => i.value)).toEqual([
        'toonkor123.com',
        'toonkor124.com',
      ]);
      const next = await hub.get(
        `/api/v1/aggregates?country=TH&type=domain&limit=2&cursor=${byCountry.body.nextCursor}`,
      );
      expect(next.body.items.map((i: Item) => i.value)).toEqual(['webtoonhub.org']);
      expect(next.body.nextCursor).toBeNull();
    }, 90000);

    it('every cited record verifies on its own with libs/protocol: origin signature and inclusion proof', async () => {
      const resolve = directoryKeyResolver(f.fed.directory, { at: new Date(), mode: 'receive' });
      for (const [origin, name] of [
        ['kr', 'krDomain'],
        ['th', 'thDomain'],
        ['vn', 'vnDomain'],
      ] as const) {
        const res = await hub.get(`/api/v1/records/${origin}/${ids[name]}`, ['auditor']);
        expect(res.status).toBe(200);
        const { header, record } = await verifyRecordProof(
          res.body.recordText,
          res.body.proof,
          resolve,
        );
        expect(header.origin).toBe(origin);
        expect(header.addressee).toBe('hub');
        expect(record.id).toBe(ids[name]);
        expect(record.value).toBe('toonkor123.com');
        const forged = res.body.recordText.replace(/"confidence":\d+/, '"confidence":100');
        await expect(verifyRecordProof(forged, res.body.proof, resolve)).rejects.toBeInstanceOf(
          ProtocolError,
        );
      }
    }, 60000);

    it('groups the alias, the domain, the account and the new mirror into one network spanning KR, TH and VN', async () => {
      const res = await hub.get('/api/v1/networks');
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items).toHaveLength(1);
      const [n] = res.body.items;
      expect(n.members).toEqual([
        { type: 'domain', value: 'toonkor123.com', countries: ['KR', 'TH', 'VN'] },
        { type: 'domain', value: 'webtoonhub.org', countries: ['TH'] },
        { type: 'operator-alias', value: 'toonboss', countries: ['KR'] },
        { type: 'payment-account', value: IBAN, countries: ['VN'] },
      ]);
      expect(n.countries).toEqual(['KR', 'TH', 'VN']);
      expect(
        n.evidence.map(
          (e: { from: Item; relation: string; to: Item; source: Item['sources'][0] }) => [
            e.from.value,
            e.relation,
            e.to.value,
            e.source.origin,
            e.source.id,
          ],
        ),
      ).toEqual([
        ['toonkor123.com', 'pays-into', IBAN, 'vn', ids.vnDomain],
        ['webtoonhub.org', 'pays-into', IBAN, 'th', ids.thHop],
        ['toonboss', 'operates', 'toonkor123.com', 'kr', ids.krAlias],
      ]);
      expect(n.sources.map((s: { id: string }) => s.id).sort()).toEqual(
        [ids.krDomain, ids.krAlias, ids.thDomain, ids.thHop, ids.vnDomain, ids.vnIban].sort(),
      );
      const one = await hub.get(`/api/v1/networks/${n.id}`, ['auditor']);
      expect(one.body).toEqual(n);
      expect((await hub.get('/api/v1/networks?country=TH')).body.items).toHaveLength(1);
    }, 60000);

    it('flags the numbered successor and the domain paying into the known account, with evidence', async () => {
      const res = await hub.get('/api/v1/successors');
      expect(res.status).toBe(200);
      const network = (await hub.get('/api/v1/networks')).body.items[0].id as string;
      expect(
        res.body.items.map((s: Record<string, unknown>) => [
          s.domain,
          s.predecessor,
          s.networkId,
          s.rules,
          s.via,
        ]),
      ).toEqual([
        ['toonkor124.com', 'toonkor123.com', network, ['numbered-successor'], []],
        [
          'webtoonhub.org',
          'toonkor123.com',
          network,
          ['shared-payment-account'],
          [{ type: 'payment-account', value: IBAN }],
        ],
      ]);
      const hop = res.body.items[1];
      expect(hop.evidence.map((e: { source: { id: string } }) => e.source.id)).toEqual([
        ids.vnDomain,
        ids.thHop,
      ]);
    }, 60000);

    it('counts cross-border indicators by country pair, type, category and week', async () => {
      const pairs = await hub.get('/api/v1/stats/cross-border?dimension=country-pair');
      expect(pairs.body.items).toEqual([
        { key: 'KR-TH', aggregates: 1 },
        { key: 'KR-VN', aggregates: 2 },
        { key: 'TH-VN', aggregates: 1 },
      ]);
      const types = await hub.get('/api/v1/stats/cross-border?dimension=type');
      expect(types.body.items).toEqual([{ key: 'domain', aggregates: 2 }]);
      const weeks = await hub.get('/api/v1/stats/cross-border?dimension=week&limit=1');
      expect(weeks.body.items).toEqual([{ key: '2026-W40', aggregates: 1 }]);
      const week2 = await hub.get(
        `/api/v1/stats/cross-border?dimension=week&limit=1&cursor=${weeks.body.nextCursor}`,
      );
      expect(week2.body).toEqual({ items: [{ key: '2026-W44', aggregates: 1 }], nextCursor: null });
    }, 60000);

    it("each member's feed holds only what every source allowed onward to it; AMBER+STRICT and H2 never leave", async () => {
      const common = {
        'domain:shortlived.net': ['kr', 'vn'],
        'domain:toonkor123.com': ['kr', 'vn'],
        'domain:toonkor124.com': ['th'],
        'domain:webtoonhub.org': ['th'],
        'operator-alias:toonboss': ['kr'],
        [`payment-account:${IBAN}`]: ['vn'],
      };
      await until(async () => view(await feedOf('kr')), common, 'the KR feed');
      await until(
        async () => view(await feedOf('vn')),
        { 'domain:secretmirror.org': ['vn'], ...common },
        'the VN feed',
      );
      await until(
        async () => view(await feedOf('th')),
        { ...common, 'domain:toonkor123.com': ['kr', 'th', 'vn'] },
        'the TH feed',
      );
      const kr = (await feedOf('kr')).find((i) => i.value === 'toonkor123.com');
      // TH's H2 contribution is absent from KR's view, and so are its confidence and marking.
      expect(kr).toMatchObject({ confidence: 90, tlp: 'AMBER', handling: { code: 'H1' } });
      const th = (await feedOf('th')).find((i) => i.value === 'toonkor123.com');
      expect(th).toMatchObject({ confidence: 96, handling: { code: 'H2' } });
    }, 90000);

    it('a retraction removes its contribution from aggregates, networks and every feed', async () => {
      const kr = f.nodes.kr!;
      const res = await request(kr.url)
        .post(`/api/v1/indicators/${ids.krAlias}/retract`)
        .set('Authorization', `Bearer ${await kr.token(['analyst'])}`);
      expect(res.status).toBe(200);
      await eventually(
        async () =>
          (await hub.get('/api/v1/aggregates/operator-alias/toonboss')).status === 404
            ? true
            : undefined,
        60000,
        'the alias aggregate gone',
      );
      const n = (await hub.get('/api/v1/networks')).body.items[0];
      expect(n.members.map((m: Item) => m.value)).toEqual([
        'toonkor123.com',
        'webtoonhub.org',
        IBAN,
      ]);
      expect(n.evidence).toHaveLength(2);
      for (const id of ['kr', 'vn', 'th']) {
        await eventually(
          async () => ((await feedOf(id)).some((i) => i.value === 'toonboss') ? undefined : true),
          60000,
          `the alias gone from the ${id} feed`,
        );
      }
    }, 120000);

    it('an expired record stops contributing at the hub and in the feeds', async () => {
      hub.advance(2 * HOUR);
      await until(
        async () => view((await hub.get('/api/v1/aggregates?valuePrefix=shortlived')).body.items),
        { 'domain:shortlived.net': ['vn'] },
        'the expired KR source gone at the hub',
      );
      // Leaving the aggregate by expiry is an erasure in the hub's log, naming the KR record.
      const erasures = await request(hub.url)
        .get('/api/v1/audit/entries')
        .query({ op: 'erasure' })
        .set('Authorization', `Bearer ${await hub.token(['auditor'])}`);
      const expired = (erasures.body.items as { reason: string; records: string[] }[]).filter(
        (e) => e.reason === 'expiry',
      );
      expect(expired.flatMap((e) => e.records).some((r) => r.startsWith('kr/'))).toBe(true);
      const pairs = await hub.get('/api/v1/stats/cross-border?dimension=country-pair');
      expect(pairs.body.items).toEqual([
        { key: 'KR-TH', aggregates: 1 },
        { key: 'KR-VN', aggregates: 1 },
        { key: 'TH-VN', aggregates: 1 },
      ]);
      for (const id of ['kr', 'vn', 'th']) {
        await until(
          async () => view((await feedOf(id)).filter((i) => i.value === 'shortlived.net')),
          { 'domain:shortlived.net': ['vn'] },
          `the ${id} feed after the expiry`,
        );
      }
    }, 120000);

    it('a bundle addressed to another member, re-encrypted to the hub, is dead-lettered with its reason', async () => {
      const text = (await hub.get(`/api/v1/records/kr/${ids.krDomain}`)).body.recordText as string;
      const record = parseStrictJson(text) as IndicatorRecord;
      const keys = f.fed.members.kr!.keys;
      const { bytes } = await createBundle(
        [{ ...record, version: 7, value: 'smuggled.com' }],
        { origin: 'kr', addressee: 'vn', seq: '900', issuedAt: new Date().toISOString() },
        { kid: keys.signing.kid, key: importPrivateKey(keys.signing.privateJwk, 'Ed25519') },
      );
      const hubEnc = f.fed.directory.members
        .find((m) => m.id === 'hub')!
        .keys.find((k) => k.use === 'enc')!;
      const jwe = await encryptTo(bytes, [
        { kid: hubEnc.kid, key: importPublicKey(hubEnc.jwk, 'X25519') },
      ]);
      const nc = await f.brokers.connectNode('kr');
      await jetstream(nc).publish(subjectFor('kr', 'hub', 'records'), jwe, {
        msgID: 'forged-misaddressed',
      });
      const letters = await eventually(
        async () => {
          const r = await hub.get('/api/v1/dead-letters', ['auditor']);
          const found = (r.body.items as { code: string; origin: string }[]).filter(
            (d) => d.code === 'MISADDRESSED',
          );
          return found.length > 0 ? found : undefined;
        },
        60000,
        'the misaddressed bundle dead-lettered',
      );
      expect(letters[0]).toMatchObject({ origin: 'kr', code: 'MISADDRESSED' });
      // The hub's own log holds the refusal, with its reason (docs/audit.md, "The hub's log").
      const rejections = await request(hub.url)
        .get('/api/v1/audit/entries')
        .query({ op: 'rejection', partner: 'kr' })
        .set('Authorization', `Bearer ${await hub.token(['auditor'])}`);
      expect(
        (rejections.body.items as { reason: string; actor: string }[]).map((e) => e.reason),
      ).toContain('MISADDRESSED');
      expect((await hub.get('/api/v1/aggregates?valuePrefix=smuggled')).body.items).toEqual([]);
    }, 90000);

    it('guards the operator API and refuses bad input with clear errors', async () => {
      expect((await request(hub.url).get('/api/v1/networks')).status).toBe(401);
      expect((await hub.get('/api/v1/networks', ['analyst'])).status).toBe(403);
      const memberToken = await f.nodes.kr!.token(['hub-operator']);
      const foreign = await request(hub.url)
        .get('/api/v1/networks')
        .set('Authorization', `Bearer ${memberToken}`);
      expect(foreign.status).toBe(401);
      const unstated = await request(hub.url)
        .get('/api/v1/networks')
        .set('Authorization', `Bearer ${await hub.token(['hub-operator'])}`);
      expect(unstated.status).toBe(400);
      expect(unstated.body).toMatchObject({ error: 'PURPOSE_REQUIRED' });
      expect((await hub.get('/api/v1/aggregates?cursor=bogus')).body).toMatchObject({
        statusCode: 400,
        error: 'BAD_CURSOR',
      });
      expect((await hub.get('/api/v1/aggregates?country=korea')).status).toBe(400);
      expect((await hub.get('/api/v1/aggregates?limit=0')).status).toBe(400);
      expect((await hub.get('/api/v1/aggregates?unknown=1')).status).toBe(400);
      expect((await hub.get('/api/v1/stats/cross-border?dimension=planet')).status).toBe(400);
      expect((await hub.get('/api/v1/networks/net-000000000000')).body).toMatchObject({
        statusCode: 404,
        error: 'NOT_FOUND',
      });
      expect((await hub.get('/api/v1/records/kr/not-a-uuid')).status).toBe(400);
      expect((await request(hub.url).get('/health')).status).toBe(200);
      expect((await request(hub.url).get('/docs-json')).status).toBe(200);
    }, 60000);
  });
}
