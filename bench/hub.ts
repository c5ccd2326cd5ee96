// Scenario "hub" (issue 4): (1) records ingested and aggregated per second by the hub while three
// members send at once; (2) latency of a network query over 1,000,000 aggregated indicators
// (the hub database seeded directly), p50/p99, plus the one-off correlation snapshot rebuild.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startHub } from '../apps/hub/src/bootstrap.js';
import { loadHubConfig } from '../apps/hub/src/config/hub.config.js';
import { CorrelationService } from '../apps/hub/src/correlation/correlation.service.js';
import { subjectFor } from '../libs/broker/src/index.js';
import { provisionFederation, type ProvisionedFederation } from '../libs/devnet/src/index.js';
import { issueApiToken } from '../libs/keystore/src/index.js';
import {
  canonicalize,
  createBundle,
  encryptTo,
  importPrivateKey,
  importPublicKey,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../libs/protocol/src/index.js';
import { freePort, startFederation, waitFor } from '../libs/testing/src/index.js';
import { jetstream } from '@nats-io/jetstream';
import {
  duration,
  elapsedUs,
  quantile,
  single,
  type Result,
  type ScenarioOptions,
} from './measure.js';

const MEMBERS = ['kr', 'vn', 'th'];
const COUNTRY: Record<string, string> = { kr: 'KR', vn: 'VN', th: 'TH' };
const PER_BUNDLE = 500;

function log(opts: ScenarioOptions, msg: string): void {
  if (opts.quick !== true) process.stderr.write(`  [hub] ${msg}\n`);
}

function record(origin: string, value: string, now: Date, extra: Partial<IndicatorRecord> = {}) {
  const t = toRfc3339Ms(now);
  const r: IndicatorRecord = {
    id: randomUUID(),
    origin,
    version: 1,
    status: 'active',
    type: 'domain',
    value,
    categories: ['webtoon'],
    confidence: 70,
    firstSeen: t,
    lastSeen: t,
    validUntil: toRfc3339Ms(new Date(now.getTime() + 90 * 86400000)),
    tlp: 'GREEN',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['hub'] },
    relations: [],
    issuedAt: t,
    ...extra,
  };
  return r;
}

/** Signed, encrypted bundles from `origin` to the hub: what its node's relay would publish. */
async function bundlesOf(
  fed: ProvisionedFederation,
  origin: string,
  records: IndicatorRecord[],
  now: Date,
): Promise<Uint8Array[]> {
  const keys = fed.members[origin]!.keys;
  const signing = {
    kid: keys.signing.kid,
    key: importPrivateKey(keys.signing.privateJwk, 'Ed25519'),
  };
  const hubEnc = fed.directory.members
    .find((m) => m.id === 'hub')!
    .keys.find((k) => k.use === 'enc')!;
  const to = [{ kid: hubEnc.kid, key: importPublicKey(hubEnc.jwk, 'X25519') }];
  const out: Uint8Array[] = [];
  for (let i = 0; i < records.length; i += PER_BUNDLE) {
    const { bytes } = await createBundle(
      records.slice(i, i + PER_BUNDLE),
      { origin, addressee: 'hub', seq: String(i / PER_BUNDLE + 1), issuedAt: toRfc3339Ms(now) },
      signing,
    );
    out.push(Buffer.from(await encryptTo(bytes, to), 'utf8'));
  }
  return out;
}

/**
 * Runs the hub scenario: `n` records per member for ingest (default 20,000; quick: 300), half of
 * each member's values shared with the other members; `seed` aggregates for the query part
 * (default 1,000,000; quick: 2,000).
 */
export async function runHub(opts: ScenarioOptions = {}): Promise<Result> {
  const quick = opts.quick === true;
  const n = opts.n ?? (quick ? 300 : 20_000);
  const seed = quick ? 2_000 : 1_000_000;
  const networks = quick ? 20 : 1_000;
  const queries = quick ? 50 : 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-bench-hub-'));
  const now = new Date();
  const fed = await provisionFederation({
    dir: join(dir, 'keys'),
    now,
    members: MEMBERS.map((id) => ({ id, country: COUNTRY[id]!, name: id })),
  });
  const brokers = await startFederation({ members: MEMBERS, dir: join(dir, 'nats') });
  const port = await freePort();
  const creds = brokers.hubAppCredentials;
  const dbFile = join(dir, 'hub.sqlite');
  const app = await startHub(
    loadHubConfig({
      FEDINTEL_HTTP_PORT: String(port),
      FEDINTEL_DATABASE_URL: `sqlite:${dbFile}`,
      FEDINTEL_NATS_URL: creds.url,
      FEDINTEL_NATS_USER: creds.user,
      FEDINTEL_NATS_PASSWORD: creds.password,
      FEDINTEL_KEYS_FILE: fed.members.hub!.keysFile,
      FEDINTEL_DIRECTORY_FILE: fed.directoryFile,
      FEDINTEL_GOVERNANCE_KEYS_FILE: fed.governanceKeysFile,
      FEDINTEL_HUB_PASS_INTERVAL_MS: '50',
    }),
    { logger: ['error'] },
  );
  const db = new Database(dbFile);
  try {
    // ---- (1) ingest + aggregation, three members at once ----
    const half = Math.floor(n / 2);
    const perMember = await Promise.all(
      MEMBERS.map(async (m) => {
        const records = Array.from({ length: n }, (_, i) =>
          record(m, i < half ? `shared-${i}.com` : `${m}-own-${i}.com`, now),
        );
        return { m, bundles: await bundlesOf(fed, m, records, now) };
      }),
    );
    const expectedAggregates = half + MEMBERS.length * (n - half);
    log(opts, `${MEMBERS.length} x ${n} records prepared; publishing at once`);
    const ncs = await Promise.all(MEMBERS.map((m) => brokers.connectNode(m)));
    const count = db.prepare('SELECT COUNT(*) AS n FROM hub_aggregate');
    const dirty = db.prepare('SELECT COUNT(*) AS n FROM hub_dirty_key');
    const t0 = process.hrtime.bigint();
    await Promise.all(
      perMember.map(async ({ m, bundles }, k) => {
        const js = jetstream(ncs[k]!);
        for (const [i, b] of bundles.entries()) {
          await js.publish(subjectFor(m, 'hub', 'records'), b, { msgID: `bench.${m}.${i}` });
        }
      }),
    );
    await waitFor(
      () =>
        (count.get() as { n: number }).n === expectedAggregates &&
        (dirty.get() as { n: number }).n === 0,
      600_000,
      'every record ingested and aggregated',
    );
    const ingestUs = elapsedUs(t0);
    const total = n * MEMBERS.length;
    log(opts, `ingested and aggregated ${total} records in ${(ingestUs / 1e6).toFixed(1)} s`);

    // ---- (2) network query over `seed` aggregated indicators ----
    db.exec('DELETE FROM hub_aggregate; DELETE FROM hub_record; DELETE FROM hub_feed_item');
    const at = toRfc3339Ms(now);
    const insertAgg = db.prepare(
      `INSERT INTO hub_aggregate (type, value, source_count, country_count, countries, categories,
         confidence, first_seen, last_seen, next_expiry, aggregate_json)
       VALUES (?, ?, 1, 1, ?, ',webtoon,', 70, ?, ?, ?, ?)`,
    );
    const insertRec = db.prepare(
      `INSERT INTO hub_record (origin, record_id, version, status, type, value, valid_until,
         has_relations, record_text, received_at) VALUES (?, ?, 1, 'active', ?, ?, ?, ?, ?, ?)`,
    );
    const addAggregate = (r: IndicatorRecord, countries: string[]) =>
      insertAgg.run(
        r.type,
        r.value,
        `,${countries.join(',')},`,
        r.firstSeen,
        r.lastSeen,
        r.validUntil,
        JSON.stringify({
          type: r.type,
          value: r.value,
          sources: [
            { origin: r.origin, id: r.id, version: 1, confidence: 70, country: countries[0] },
          ],
          countries: countries.map((c) => ({ country: c, sightings: 1 })),
          firstSeen: r.firstSeen,
          lastSeen: r.lastSeen,
          confidence: 70,
          tlp: 'GREEN',
          handling: { code: 'H0' },
          categories: ['webtoon'],
          nextExpiry: r.validUntil,
        }),
      );
    const addRecord = (r: IndicatorRecord) =>
      insertRec.run(
        r.origin,
        r.id,
        r.type,
        r.value,
        r.validUntil,
        r.relations.length > 0 ? 1 : 0,
        canonicalize(r),
        at,
      );
    const s0 = process.hrtime.bigint();
    db.transaction(() => {
      // Each network: KR's alias operates a domain; VN's record of the domain pays into an account.
      for (let i = 0; i < networks; i++) {
        const domain = record('kr', `net${i}-site.com`, now);
        const alias = record('kr', `alias-${i}`, now, {
          type: 'operator-alias',
          subtype: 'handle',
          relations: [{ type: 'operates', target: domain.id, targetOrigin: 'kr' }],
        });
        const account = record('vn', `VN-ACCOUNT-${i}`, now, {
          type: 'payment-account',
          subtype: 'bank-account',
        });
        const vnDomain = record('vn', domain.value, now, {
          relations: [{ type: 'pays-into', target: account.id, targetOrigin: 'vn' }],
        });
        for (const r of [domain, alias, account, vnDomain]) addRecord(r);
        addAggregate(domain, ['KR', 'VN']);
        addAggregate(alias, ['KR']);
        addAggregate(account, ['VN']);
      }
      for (let i = 3 * networks; i < seed; i++) {
        addAggregate(record(MEMBERS[i % 3]!, `seeded-${i}.com`, now), [COUNTRY[MEMBERS[i % 3]!]!]);
      }
    })();
    log(
      opts,
      `seeded ${seed} aggregates (${networks} networks) in ${(elapsedUs(s0) / 1e6).toFixed(1)} s`,
    );
    const correlation = app.get(CorrelationService);
    correlation.invalidate();
    const keys = fed.members.hub!.keys;
    const token = await issueApiToken({
      memberId: 'hub',
      subject: 'bench',
      roles: ['hub-operator'],
      kid: keys.api.kid,
      key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
      now: new Date(),
      ttlSeconds: 3600,
    });
    const get = async (path: string): Promise<{ items: { id: string }[] }> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
        headers: { authorization: `Bearer ${token}`, 'x-purpose': 'analysis' },
      });
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      return (await res.json()) as { items: { id: string }[] };
    };
    const r0 = process.hrtime.bigint();
    const first = await get('/networks?limit=500');
    const rebuildUs = elapsedUs(r0);
    if (first.items.length !== Math.min(500, networks)) {
      throw new Error(`expected ${networks} networks, saw ${first.items.length} on the first page`);
    }
    const ids = first.items.map((x) => x.id);
    const byId: number[] = [];
    const page: number[] = [];
    for (let i = 0; i < queries; i++) {
      const q0 = process.hrtime.bigint();
      await get(`/networks/${ids[i % ids.length]}`);
      byId.push(elapsedUs(q0));
      const q1 = process.hrtime.bigint();
      await get('/networks?limit=50&country=VN');
      page.push(elapsedUs(q1));
    }
    return {
      scenario: 'hub',
      at: toRfc3339Ms(new Date()),
      method: [
        `Ingest: ${MEMBERS.length} members each publish ${n} records (half of the values shared) as signed, encrypted bundles of ${PER_BUNDLE} to the hub at once over their leaves; timed from the first publish until every aggregate is committed (SQLite, hub in the bench process).`,
        `Query: the hub database seeded directly with ${seed.toLocaleString('en')} aggregated indicators, ${networks} of them in cross-border networks; ${queries} authenticated HTTP queries each (one network by id; the first page of networks spanning VN); the first query rebuilds the correlation snapshot.`,
      ],
      figures: [
        single('ingest + aggregate (3 members at once)', 'record', total, ingestUs),
        duration('network by id p50', 'request', quantile(byId, 0.5), queries),
        duration('network by id p99', 'request', quantile(byId, 0.99), queries),
        duration('networks page (country) p50', 'request', quantile(page, 0.5), queries),
        duration('networks page (country) p99', 'request', quantile(page, 0.99), queries),
        duration('correlation snapshot rebuild', 'rebuild', rebuildUs, 1),
      ],
      goals: [
        `Network query over ${seed.toLocaleString('en')} aggregates: p99 ${(quantile(byId, 0.99) / 1000).toFixed(1)} ms by id.`,
      ],
    };
  } finally {
    db.close();
    await app.close().catch(() => undefined);
    await brokers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
