// A small federation for the end-to-end scenarios: B2 brokers from libs/testing (hub, hub store,
// one leaf per member) and one node process per member from dist/, each stoppable and restartable.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { NODE_PROCESS_FLAGS, nodeEnv, provisionFederation } from '../libs/devnet/src/index.js';
import { issueApiToken } from '../libs/keystore/src/index.js';
import { importPrivateKey } from '../libs/protocol/src/index.js';
import { freePorts, startFederation, waitFor, type Federation } from '../libs/testing/src/index.js';
import { repoRoot } from './report.js';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type BenchDatabase = 'sqlite' | 'postgres';

/** A node process started from dist/apps/node/src/main.js. */
export interface NodeProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function startNodeProcess(
  id: string,
  env: Record<string, string>,
  port: number,
  logFile: string,
  nodeArgs: string[],
  started: (p: NodeProcess) => void,
): Promise<NodeProcess> {
  const main = join(repoRoot(), 'dist', 'apps', 'node', 'src', 'main.js');
  const out = createWriteStream(logFile, { flags: 'a' });
  // The node's production V8 flags (libs/devnet), so memory figures are those of a deployment.
  const child = spawn(process.execPath, [...NODE_PROCESS_FLAGS, ...nodeArgs, main], {
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
  started(proc);
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
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}

/** Peak resident set size (VmHWM) of a running process in MiB, from /proc; undefined elsewhere. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc; 0 elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, i.e. 11 and 12 after the name; USER_HZ 100.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used by each process of a federation (nodes, the brokers together, this process). */
export type CpuSnapshot = Record<string, number>;

/** Counts what a node's database holds (SQLite read-only, or the node's PostgreSQL schema). */
export interface Counter {
  /** Indicators from `origin` (a full count: for the final check, not for polling). */
  count(origin: string): Promise<number>;
  /**
   * Records from `origin` accepted so far, summed over the received bundles: a cheap progress
   * poll (a COUNT(*) of a large table every 20 ms would take CPU from the nodes being measured).
   */
  accepted(origin: string): Promise<number>;
  /** Outbox items not yet in a bundle plus bundles not yet acked by the leaf. */
  unsent(): Promise<number>;
  close(): Promise<void>;
}

function sqliteCounter(file: string): Counter {
  let db: Database.Database | undefined;
  const open = (): Database.Database =>
    (db ??= new Database(file, { readonly: true, fileMustExist: true }));
  const one = (sql: string, ...params: unknown[]): number =>
    (
      open()
        .prepare(sql)
        .get(...params) as { c: number }
    ).c;
  return {
    count: (origin) =>
      Promise.resolve(one('SELECT COUNT(*) AS c FROM indicator WHERE origin = ?', origin)),
    accepted: (origin) =>
      Promise.resolve(
        one('SELECT COALESCE(SUM(accepted), 0) AS c FROM inbound_bundle WHERE origin = ?', origin),
      ),
    unsent: () =>
      Promise.resolve(
        one('SELECT COUNT(*) AS c FROM outbox_item WHERE bundle_seq IS NULL') +
          one("SELECT COUNT(*) AS c FROM outbox_bundle WHERE status = 'pending'"),
      ),
    close() {
      db?.close();
      return Promise.resolve();
    },
  };
}

function pgCounter(schema: string): Counter {
  const client = new pg.Client({ connectionString: PG_URL });
  const connected = client.connect();
  const one = async (sql: string, params: unknown[] = []): Promise<number> => {
    await connected;
    const r = await client.query<{ c: string }>(sql, params);
    return Number(r.rows[0]?.c ?? 0);
  };
  return {
    count: (origin) =>
      one(`SELECT COUNT(*) AS c FROM "${schema}".indicator WHERE origin = $1`, [origin]),
    accepted: (origin) =>
      one(
        `SELECT COALESCE(SUM(accepted), 0) AS c FROM "${schema}".inbound_bundle WHERE origin = $1`,
        [origin],
      ),
    unsent: async () =>
      (await one(`SELECT COUNT(*) AS c FROM "${schema}".outbox_item WHERE bundle_seq IS NULL`)) +
      (await one(`SELECT COUNT(*) AS c FROM "${schema}".outbox_bundle WHERE status = 'pending'`)),
    async close() {
      await connected.catch(() => undefined);
      await client.end();
    },
  };
}

export interface BenchFederationOptions {
  dir: string;
  members: string[];
  database: BenchDatabase;
  /** `--cpu-prof` profiles of the nodes under `<dir>/<id>`. */
  cpuProfDir?: string | undefined;
  /** Extra environment of every node. */
  env?: Record<string, string>;
}

/** A running bench federation; `stop()` stops everything it started. */
export interface BenchFederation {
  readonly brokers: Federation;
  readonly nodes: Readonly<Record<string, NodeProcess | undefined>>;
  /** Starts (or restarts) the node of `id` and waits for its /health. */
  startNode(id: string): Promise<NodeProcess>;
  /** SIGTERM, and waits for the exit. */
  stopNode(id: string): Promise<void>;
  /** A bearer token of an analyst of `id`, valid for an hour. */
  analystToken(id: string): Promise<string>;
  /** A counter on `id`'s database (opened lazily; SQLite once the node has created the file). */
  counter(id: string): Counter;
  /** CPU seconds so far of each node, of all nats-servers together and of this process. */
  cpu(): CpuSnapshot;
  /** The SQLite file of `id` (SQLite runs only). */
  sqliteFile(id: string): string;
  stop(): Promise<void>;
}

/**
 * Polls `counter` until `origin`'s accepted records reach `n`, logging progress every 5 s, then
 * checks with a full count that the database holds them all.
 */
export async function waitForRecords(
  counter: Counter,
  origin: string,
  n: number,
  timeoutMs: number,
  what: string,
  progress: (msg: string) => void,
  /** Called after every poll with the records held so far (for in-run figures). */
  onPoll: (held: number) => void = () => undefined,
): Promise<void> {
  let last = 0;
  let lastLog = Date.now();
  await waitFor(
    async () => {
      last = await counter.accepted(origin).catch(() => last);
      onPoll(last);
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        progress(`${what} holds ${last}/${n}`);
      }
      return last >= n;
    },
    timeoutMs,
    `${what} to hold ${n} records from ${origin} (has ${last})`,
  );
  const held = await counter.count(origin);
  if (held !== n) throw new Error(`${what} holds ${held} records from ${origin}, expected ${n}`);
}

/** Per-record CPU microseconds of each process between two snapshots, as one sentence. */
export function cpuBreakdown(before: CpuSnapshot, after: CpuSnapshot, records: number): string {
  const parts = Object.keys(after).map((k) => {
    const us = (((after[k] ?? 0) - (before[k] ?? 0)) * 1e6) / records;
    return `${k} ${Math.round(us)} µs`;
  });
  return `CPU per record: ${parts.join(', ')}`;
}

/** Provisions keys and the directory, starts the brokers and one node per member. */
export async function startBenchFederation(o: BenchFederationOptions): Promise<BenchFederation> {
  const fed = await provisionFederation({
    dir: join(o.dir, 'keys'),
    now: new Date(),
    members: o.members.map((id) => ({ id, country: id.toUpperCase(), name: `${id} bench agency` })),
  });
  const brokers = await startFederation({ members: o.members, dir: join(o.dir, 'nats') });
  const suffix = Math.random().toString(36).slice(2, 8);
  const schemaOf = (id: string): string => `bench_${suffix}_${id}`;
  const nodes: Record<string, NodeProcess | undefined> = {};
  const counters: Counter[] = [];
  const envs: Record<string, Record<string, string>> = {};
  const ports = await freePorts(o.members.length);
  const sqliteFile = (id: string): string => join(o.dir, `${id}.sqlite`);
  for (const [i, id] of o.members.entries()) {
    const creds = brokers.nodeCredentials[id];
    if (!creds) throw new Error(`no broker credentials for ${id}`);
    envs[id] = {
      ...nodeEnv({
        fed,
        id,
        httpPort: ports[i]!,
        database: o.database === 'postgres' ? PG_URL : `sqlite:${sqliteFile(id)}`,
        databaseSchema: o.database === 'postgres' ? schemaOf(id) : undefined,
        nats: creds,
      }),
      FEDINTEL_LOG_LEVEL: 'warn',
      ...o.env,
    };
  }
  const self: BenchFederation = {
    brokers,
    nodes,
    async startNode(id) {
      await self.stopNode(id);
      const i = o.members.indexOf(id);
      // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line.
      const args = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(o.cpuProfDir, id)}`] : [];
      return startNodeProcess(id, envs[id]!, ports[i]!, join(o.dir, `${id}.log`), args, (p) => {
        nodes[id] = p;
      });
    },
    async stopNode(id) {
      const p = nodes[id];
      if (p) await stopNodeProcess(p);
    },
    async analystToken(id) {
      const keys = fed.members[id]!.keys;
      return issueApiToken({
        memberId: id,
        subject: 'analyst.bench',
        roles: ['analyst'],
        kid: keys.api.kid,
        key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
        now: new Date(),
        ttlSeconds: 3600,
      });
    },
    counter(id) {
      const c = o.database === 'postgres' ? pgCounter(schemaOf(id)) : sqliteCounter(sqliteFile(id));
      counters.push(c);
      return c;
    },
    sqliteFile,
    cpu() {
      const snap: CpuSnapshot = {};
      for (const id of o.members) snap[`node ${id}`] = cpuSeconds(nodes[id]?.child.pid);
      const servers = [brokers.hub, brokers.hubStore, ...Object.values(brokers.leaves)];
      snap['nats-servers'] = servers.reduce((sum, s) => sum + cpuSeconds(s.pid), 0);
      const self = process.cpuUsage();
      snap['bench process'] = (self.user + self.system) / 1e6;
      return snap;
    },
    async stop() {
      for (const c of counters) await c.close().catch(() => undefined);
      for (const id of [...o.members].reverse()) await self.stopNode(id);
      await brokers.stop();
      if (o.database === 'postgres') {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        for (const id of o.members) {
          await client.query(`DROP SCHEMA IF EXISTS "${schemaOf(id)}" CASCADE`);
        }
        await client.end();
      }
    },
  };
  try {
    for (const id of o.members) await self.startNode(id);
  } catch (e) {
    await self.stop();
    throw e;
  }
  return self;
}

/** The body of a bulk request: `count` distinct domains from `from`, TLP GREEN, to VN. */
export function bulkItems(from: number, count: number, tag = 'bench'): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => ({
    type: 'domain',
    value: `${tag}-${from + k}-toon-mirror.example`,
    categories: ['webtoon'],
    confidence: 70,
    tlp: 'GREEN',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn'] },
  }));
}

/** POSTs one bulk request; throws on any refusal (a benchmark never counts failed requests). */
export async function postBulk(url: string, token: string, body: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/indicators/bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`bulk ingest: HTTP ${res.status} ${text.slice(0, 500)}`);
  const r = JSON.parse(text) as { errors?: unknown[] };
  if (r.errors && r.errors.length > 0) {
    throw new Error(`bulk ingest refused items: ${JSON.stringify(r.errors.slice(0, 3))}`);
  }
}
