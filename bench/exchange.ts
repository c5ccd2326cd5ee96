// Scenario "exchange" (issue 6, scenarios 1, 2 and 5): KR sends N records to VN through the real
// stack (REST bulk ingest, outbox, relay, B2 brokers, verified receiving), against a bare
// pipeline on the same machine (createBundle → JetStream → openBundle → better-sqlite3).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { nodeEnv, provisionFederation } from '../libs/devnet/src/index.js';
import { issueApiToken } from '../libs/keystore/src/index.js';
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
import { freePorts, startFederation, startNatsServer, waitFor } from '../libs/testing/src/index.js';
import { benchRecord } from './protocol.js';
import {
  elapsedUs,
  hrnow,
  single,
  type Figure,
  type Result,
  type ScenarioOptions,
} from './measure.js';
import { repoRoot } from './report.js';

/** The throughput goal of issue 6 for one node pair, records per second. */
export const EXCHANGE_GOAL_PER_SECOND = 20_000;
/** The goal of the project's rate over the bare pipeline's. */
export const BASELINE_RATIO_GOAL = 0.5;

const BULK_SIZE = 5000;
const BASELINE_BUNDLE = 100;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Options of the exchange scenario (environment: `BENCH_DATABASE=postgres`, `BENCH_CPU_PROF=<dir>`). */
export interface ExchangeOptions extends ScenarioOptions {
  /** Database of both nodes; default from `BENCH_DATABASE`, else SQLite. */
  database?: 'sqlite' | 'postgres';
  /** Directory for `--cpu-prof` profiles of the nodes (`<dir>/kr`, `<dir>/vn`); default from `BENCH_CPU_PROF`. */
  cpuProfDir?: string;
  /** Progress lines on stderr. */
  verbose?: boolean;
}

function log(opts: ExchangeOptions, msg: string): void {
  if (opts.verbose !== false && opts.quick !== true) process.stderr.write(`  [exchange] ${msg}\n`);
}

/** The body of bulk request `b`: distinct domains, TLP GREEN, addressed to VN. */
export function bulkItems(from: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => ({
    type: 'domain',
    value: `bench-${from + k}-toon-mirror.example`,
    categories: ['webtoon'],
    confidence: 70,
    tlp: 'GREEN',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn'] },
  }));
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

interface NodeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function startNodeProcess(
  id: string,
  env: Record<string, string>,
  port: number,
  logFile: string,
  started: NodeProcess[],
  nodeArgs: string[] = [],
): Promise<NodeProcess> {
  const main = join(repoRoot(), 'dist', 'apps', 'node', 'src', 'main.js');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: NodeProcess = { child, url, exited };
  // Registered before it is ready, so that a start-up failure still stops it.
  started.push(proc);
  const ready = waitFor(
    async () => (await fetch(`${url}/health`)).ok,
    60_000,
    `node ${id} at ${url}/health (log ${logFile})`,
  );
  const died = exited.then((code) => {
    throw new Error(`node ${id} exited with code ${code} during start-up; see ${logFile}`);
  });
  // waitFor treats a failing check as "not yet": an early exit must end the wait by itself.
  return Promise.race([ready, died]).then(() => proc);
}

async function stopNodeProcess(p: NodeProcess): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}

/** Counts the records from `origin` in a node's database (SQLite read-only, or a PG schema). */
type Counter = { count(): Promise<number>; close(): Promise<void> };

function sqliteCounter(file: string): Counter {
  let db: Database.Database | undefined;
  return {
    count() {
      db ??= new Database(file, { readonly: true, fileMustExist: true });
      const row = db.prepare(`SELECT COUNT(*) AS c FROM indicator WHERE origin = 'kr'`).get() as {
        c: number;
      };
      return Promise.resolve(row.c);
    },
    close() {
      db?.close();
      return Promise.resolve();
    },
  };
}

function pgCounter(schema: string): Counter {
  const client = new pg.Client({ connectionString: PG_URL });
  const connected = client.connect();
  return {
    async count() {
      await connected;
      const r = await client.query<{ c: string }>(
        `SELECT COUNT(*) AS c FROM "${schema}".indicator WHERE origin = 'kr'`,
      );
      return Number(r.rows[0]?.c ?? 0);
    },
    async close() {
      await connected.catch(() => undefined);
      await client.end();
    },
  };
}

/** Figures of one project run: bulk ingest at KR and KR → VN delivery. */
export async function runProject(
  n: number,
  dir: string,
  opts: ExchangeOptions,
): Promise<{ ingest: Figure; exchange: Figure }> {
  const database = opts.database ?? 'sqlite';
  const members = ['kr', 'vn'];
  const fed = await provisionFederation({
    dir: join(dir, 'keys'),
    now: new Date(),
    members: members.map((id) => ({ id, country: id.toUpperCase(), name: `${id} bench agency` })),
  });
  const brokers = await startFederation({ members, dir: join(dir, 'nats') });
  const nodes: NodeProcess[] = [];
  const suffix = Math.random().toString(36).slice(2, 8);
  const schemaOf = (id: string) => `bench_${suffix}_${id}`;
  let counter: Counter | undefined;
  try {
    const ports = await freePorts(members.length);
    for (const [i, id] of members.entries()) {
      const creds = brokers.nodeCredentials[id];
      if (!creds) throw new Error(`no broker credentials for ${id}`);
      const env = nodeEnv({
        fed,
        id,
        httpPort: ports[i]!,
        database: database === 'postgres' ? PG_URL : `sqlite:${join(dir, `${id}.sqlite`)}`,
        databaseSchema: database === 'postgres' ? schemaOf(id) : undefined,
        nats: creds,
      });
      env.FEDINTEL_BUNDLE_MAX_RECORDS = '1000';
      env.FEDINTEL_LOG_LEVEL = 'warn';
      // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line.
      const nodeArgs = opts.cpuProfDir
        ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.cpuProfDir, id)}`]
        : [];
      await startNodeProcess(id, env, ports[i]!, join(dir, `${id}.log`), nodes, nodeArgs);
      log(opts, `node ${id} up (${database})`);
    }
    const [kr] = nodes;
    const keys = fed.members.kr!.keys;
    const token = await issueApiToken({
      memberId: 'kr',
      subject: 'analyst.bench',
      roles: ['analyst'],
      kid: keys.api.kid,
      key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
      now: new Date(),
      ttlSeconds: 3600,
    });
    counter =
      database === 'postgres' ? pgCounter(schemaOf('vn')) : sqliteCounter(join(dir, 'vn.sqlite'));

    const bodies: string[] = [];
    for (let first = 0; first < n; first += BULK_SIZE) {
      bodies.push(JSON.stringify({ items: bulkItems(first, Math.min(BULK_SIZE, n - first)) }));
    }
    const t0 = hrnow();
    for (const body of bodies) {
      const res = await fetch(`${kr!.url}/api/v1/indicators/bulk`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      if (!res.ok) throw new Error(`bulk ingest at KR: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const ingestUs = elapsedUs(t0);
    log(opts, `KR ingested ${n} records in ${(ingestUs / 1e6).toFixed(1)} s`);

    const c = counter;
    let last = 0;
    let lastLog = Date.now();
    await waitFor(
      async () => {
        last = await c.count().catch(() => last);
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(opts, `VN holds ${last}/${n}`);
        }
        return last >= n;
      },
      Math.max(120_000, n * 2),
      `VN to hold ${n} records from KR (has ${last}); logs in ${dir}`,
    );
    const us = elapsedUs(t0);
    return {
      ingest: single(
        `KR bulk ingest (REST, ${BULK_SIZE}/request, ${database})`,
        'record',
        n,
        ingestUs,
      ),
      exchange: single(
        `KR → VN exchange, first send to VN holding all (${database})`,
        'record',
        n,
        us,
      ),
    };
  } finally {
    await counter?.close();
    for (const p of nodes.reverse()) await stopNodeProcess(p);
    await brokers.stop();
    if (database === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      for (const id of members)
        await client.query(`DROP SCHEMA IF EXISTS "${schemaOf(id)}" CASCADE`);
      await client.end();
    }
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
        "exchange rate: N divided by the time from the first bulk request to the moment VN's database holds all N (polled every 20 ms: SELECT COUNT(*) FROM indicator WHERE origin='kr', read-only).",
        'ingest rate: N divided by the time from the first to the last bulk response at KR (relay and VN run meanwhile).',
        'baseline: one process, no framework; createBundle of 100 records, JetStream publish (64 in flight) into a file stream on a plain nats-server, pull consume, openBundle, one better-sqlite3 (WAL) transaction per bundle, ack after commit; timed from the first createBundle to the last commit.',
        'each figure is one timed run (an end-to-end run cannot be repeated cheaply); the protocol scenario has the medians of the per-operation costs.',
      ],
      figures: [project.ingest, project.exchange, baseline],
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
