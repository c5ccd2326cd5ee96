// Scenario "exchange" (issue 6, scenarios 1, 2 and 5): KR sends N records to VN through the real
// stack (REST bulk ingest, outbox, relay, B2 brokers, verified receiving), against a bare
// pipeline on the same machine (createBundle → JetStream → openBundle → better-sqlite3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  ProtocolError,
  createBundle,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  openBundle,
  type KeyResolver,
  type SigningKey,
} from '../libs/protocol/src/index.js';
import { freePorts, startNatsServer } from '../libs/testing/src/index.js';
import {
  bulkItems,
  cpuBreakdown,
  postBulk,
  startBenchFederation,
  waitForRecords,
  type BenchDatabase,
} from './federation.js';
import { benchRecord } from './protocol.js';
import {
  elapsedUs,
  hrnow,
  single,
  type Figure,
  type Result,
  type ScenarioOptions,
} from './measure.js';

export { bulkItems };

/** The throughput goal of issue 6 for one node pair, records per second. */
export const EXCHANGE_GOAL_PER_SECOND = 20_000;
/** The goal of the project's rate over the bare pipeline's. */
export const BASELINE_RATIO_GOAL = 0.5;

const BULK_SIZE = 5000;
const BUNDLE_MAX_RECORDS = 1000;
const BASELINE_BUNDLE = 100;

/** Options of the exchange scenario (environment: `BENCH_DATABASE=postgres`, `BENCH_CPU_PROF=<dir>`). */
export interface ExchangeOptions extends ScenarioOptions {
  /** Database of both nodes; default from `BENCH_DATABASE`, else SQLite. */
  database?: BenchDatabase;
  /** Directory for `--cpu-prof` profiles of the nodes (`<dir>/kr`, `<dir>/vn`); default from `BENCH_CPU_PROF`. */
  cpuProfDir?: string;
  /** Progress lines on stderr. */
  verbose?: boolean;
}

function log(opts: ExchangeOptions, msg: string): void {
  if (opts.verbose !== false && opts.quick !== true) process.stderr.write(`  [exchange] ${msg}\n`);
}

// ---- the bare pipeline ------------------------------------------------------------------------

/**
 * Baseline: createBundle of 100 records → JetStream publish (64 in flight) on a plain nats-server
 * → pull consume → openBundle → one better-sqlite3 transaction per bundle → ack. One process,
 * no framework. Returns the rate from the first createBundle to the last commit.
 */
export async function runBaseline(n: number, dir: string): Promise<Figure> {
  const [port] = await freePorts(1);
  const server = await startNatsServer({
    name: 'baseline',
    dir,
    configText: `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'js')}" }\n`,
  });
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    `CREATE TABLE indicator (origin TEXT NOT NULL, record_id TEXT NOT NULL, version INTEGER NOT NULL,
       type TEXT NOT NULL, value TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (origin, record_id))`,
  );
  const upsert = db.prepare(
    `INSERT INTO indicator (origin, record_id, version, type, value, record) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (origin, record_id) DO UPDATE SET version = excluded.version, record = excluded.record`,
  );
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });
    await jsm.consumers.add('BENCH', { durable_name: 'vn', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const sig = await generateSigningKey();
    const key: SigningKey = { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') };
    const pub = importPublicKey(sig.publicJwk, 'Ed25519');
    const resolve: KeyResolver = (kid) => {
      if (kid === sig.kid) return pub;
      throw new ProtocolError('KEY_UNKNOWN', kid);
    };
    const insertBundle = db.transaction(
      (
        texts: string[],
        records: { id: string; version: number; type: string; value: string; origin: string }[],
      ) => {
        records.forEach((r, i) => upsert.run(r.origin, r.id, r.version, r.type, r.value, texts[i]));
      },
    );

    const t0 = hrnow();
    let stored = 0;
    const consumer = await js.consumers.get('BENCH', 'vn');
    const messages = await consumer.consume({ max_bytes: 8 * 1024 * 1024 });
    const consumed = (async () => {
      for await (const m of messages) {
        const opened = await openBundle(m.data, resolve, { expectedAddressee: 'vn' });
        insertBundle(opened.recordTexts, opened.records);
        m.ack();
        stored += opened.records.length;
        if (stored >= n) break;
      }
    })();

    const inFlight = new Set<Promise<unknown>>();
    for (let first = 0, seq = 1; first < n; first += BASELINE_BUNDLE, seq++) {
      const size = Math.min(BASELINE_BUNDLE, n - first);
      const records = Array.from({ length: size }, (_, k) => benchRecord(first + k + 1));
      const { bytes } = await createBundle(
        records,
        { origin: 'kr', addressee: 'vn', seq: String(seq), issuedAt: new Date().toISOString() },
        key,
      );
      const p = js.publish('bench.kr.vn', bytes).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await consumed;
    const us = elapsedUs(t0);
    const count = (db.prepare('SELECT COUNT(*) AS c FROM indicator').get() as { c: number }).c;
    if (count !== n) throw new Error(`baseline stored ${count} records, expected ${n}`);
    return single('baseline: bare pipeline, 100-record bundles', 'record', n, us);
  } finally {
    await nc.close();
    db.close();
    await server.stop();
  }
}

// ---- the project ------------------------------------------------------------------------------

/** Figures of one project run: bulk ingest at KR and KR's outbox → VN's database. */
export async function runProject(
  n: number,
  dir: string,
  opts: ExchangeOptions,
): Promise<{ ingest: Figure; exchange: Figure; steady?: Figure; cpu: string }> {
  const database = opts.database ?? 'sqlite';
  const f = await startBenchFederation({
    dir,
    members: ['kr', 'vn'],
    database,
    cpuProfDir: opts.cpuProfDir,
    env: { FEDINTEL_BUNDLE_MAX_RECORDS: String(BUNDLE_MAX_RECORDS) },
  });
  try {
    log(opts, `nodes kr and vn up (${database})`);
    const kr = f.nodes.kr!;
    const token = await f.analystToken('kr');
    const counter = f.counter('vn');
    const bodies: string[] = [];
    for (let first = 0; first < n; first += BULK_SIZE) {
      bodies.push(JSON.stringify({ items: bulkItems(first, Math.min(BULK_SIZE, n - first)) }));
    }
    // The relay must not send while KR ingests: with KR's leaf down the records wait in KR's
    // outbox, and the exchange is timed from the moment the leaf is back (the node reconnects on
    // its own, within its 2 s reconnect wait, which the figure includes).
    const krLeaf = f.brokers.leaves.kr!;
    await krLeaf.stop();
    const t0 = hrnow();
    for (const body of bodies) await postBulk(kr.url, token, body);
    const ingestUs = elapsedUs(t0);
    log(opts, `KR ingested ${n} records in ${(ingestUs / 1e6).toFixed(1)} s`);
    const cpu0 = f.cpu();
    const t1 = hrnow();
    await krLeaf.restart();
    // Also the steady rate: from 10 % to 90 % of the records held, leaving out the leaf's return
    // (reconnection, source consumer across the hub, first bundles) and the last bundles.
    let at10: bigint | undefined;
    let at90: bigint | undefined;
    await waitForRecords(
      counter,
      'kr',
      n,
      Math.max(120_000, n * 2),
      'VN',
      (m) => log(opts, m),
      (held) => {
        if (at10 === undefined && held >= n * 0.1) at10 = hrnow();
        if (at90 === undefined && held >= n * 0.9) at90 = hrnow();
      },
    );
    const us = elapsedUs(t1);
    const steadyUs = at10 !== undefined && at90 !== undefined ? Number(at90 - at10) / 1000 : 0;
    const cpu = cpuBreakdown(cpu0, f.cpu(), n);
    log(opts, cpu);
    return {
      cpu,
      ingest: single(
        `KR bulk ingest (REST, ${BULK_SIZE}/request, ${database})`,
        'record',
        n,
        ingestUs,
      ),
      exchange: single(
        `KR outbox → VN database: leaf back until VN holds all (${database})`,
        'record',
        n,
        us,
      ),
      ...(steadyUs > 0
        ? {
            steady: single(
              `same, steady part: from 10 % to 90 % of the records held (${database})`,
              'record',
              Math.round(n * 0.8),
              steadyUs,
            ),
          }
        : {}),
    };
  } finally {
    await f.stop();
  }
}

/**
 * Runs the exchange benchmark: the bare pipeline, then the project on SQLite (and PostgreSQL
 * when `database` is `postgres`). `n` records, default 200,000; `quick` uses 300.
 */
export async function runExchange(opts: ExchangeOptions = {}): Promise<Result> {
  const n = opts.n ?? (opts.quick === true ? 300 : 200_000);
  const database =
    opts.database ?? (process.env.BENCH_DATABASE === 'postgres' ? 'postgres' : 'sqlite');
  const cpuProfDir = opts.cpuProfDir ?? process.env.BENCH_CPU_PROF;
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-bench-'));
  let keep = process.env.BENCH_KEEP === '1';
  try {
    log(opts, `baseline, ${n} records`);
    const baseline = await runBaseline(n, join(dir, 'baseline'));
    log(opts, `baseline ${Math.round(baseline.perSecond)} records/s; project (${database})`);
    const project = await runProject(n, join(dir, 'project'), {
      ...opts,
      database,
      ...(cpuProfDir === undefined ? {} : { cpuProfDir }),
    });
    const ratio = project.exchange.perSecond / baseline.perSecond;
    project.exchange.note = `${ratio.toFixed(2)} × baseline`;
    return {
      scenario: database === 'sqlite' ? 'exchange' : `exchange-${database}`,
      at: new Date().toISOString(),
      method: [
        `N = ${n.toLocaleString('en-US')} distinct domain records, TLP GREEN, scope ['vn'], KR → VN.`,
        `project: B2 brokers from libs/testing (hub, hub store, one leaf per member; nats-server), two node processes from dist/apps/node/src/main.js (${database}, FEDINTEL_BUNDLE_MAX_RECORDS=1000), records created at KR with POST /api/v1/indicators/bulk, ${BULK_SIZE} per request, one request at a time.`,
        "ingest rate (scenario 5): N divided by the time from the first to the last bulk response at KR, KR's leaf down so the relay cannot send (records wait in KR's outbox; VN idle).",
        "exchange rate (scenario 1, from one node's outbox to another node's database): N divided by the time from restarting KR's leaf (N records queued in KR's outbox) to the moment VN's database holds all N (polled every 20 ms, read-only: the sum of accepted records over VN's received bundles, then a full COUNT(*) of VN's indicators from KR must equal N); includes KR's reconnection (nats.js reconnect wait, 2 s), relay (bundles of up to 1000 records / 700 kB, signed, encrypted, 16 publishes in flight), KR leaf → hub → VN leaf, VN's decryption, full verification and storage.",
        'baseline: one process, no framework; createBundle of 100 records, JetStream publish (64 in flight) into a file stream on a plain nats-server, pull consume, openBundle, one better-sqlite3 (WAL) transaction per bundle, ack after commit; timed from the first createBundle to the last commit.',
        `during the exchange (${project.cpu}): user + system time of each process from /proc, divided by N; the node figures include their idle housekeeping.`,
        'each figure is one timed run (an end-to-end run cannot be repeated cheaply); the protocol scenario has the medians of the per-operation costs.',
      ],
      figures: [
        project.ingest,
        project.exchange,
        ...(project.steady ? [project.steady] : []),
        baseline,
      ],
      goals: [
        `KR → VN ≥ ${EXCHANGE_GOAL_PER_SECOND.toLocaleString('en-US')} records/s: measured ${Math.round(project.exchange.perSecond).toLocaleString('en-US')} — ${project.exchange.perSecond >= EXCHANGE_GOAL_PER_SECOND ? 'met' : 'NOT met'}`,
        `project / baseline ≥ ${BASELINE_RATIO_GOAL}: measured ${ratio.toFixed(2)} — ${ratio >= BASELINE_RATIO_GOAL ? 'met' : 'NOT met'}`,
      ],
    };
  } catch (e) {
    // Keep the logs of a failed run: they are the only explanation.
    keep = true;
    throw e;
  } finally {
    if (keep) process.stderr.write(`  [exchange] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
