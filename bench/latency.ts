// Scenario "latency" (issue 6, scenario 4): under a steady 1,000 records/s created at KR, the
// time from the API call at KR to the commit of each record at VN: p50, p99 and max.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { waitFor } from '../libs/testing/src/index.js';
import { bulkItems, postBulk, startBenchFederation } from './federation.js';
import { duration, quantile, single, type Result, type ScenarioOptions } from './measure.js';

/** Goal of issue 6: p99 from the API call at KR to the commit at VN, in milliseconds. */
export const LATENCY_P99_GOAL_MS = 100;

/** Records per second offered, and records per API call (one call every 10 ms). */
const RATE = 1000;
const PER_CALL = 10;
/** Records sent before the measured ones (connections, JIT, first bundles). */
const WARMUP = 1000;
/** How often VN's database is polled for newly committed records, ms. */
const POLL_MS = 2;
/** API calls awaiting their response at most (beyond, the next call waits: see the offered load). */
const MAX_IN_FLIGHT = 100;

function log(opts: ScenarioOptions, msg: string): void {
  if (opts.quick !== true) process.stderr.write(`  [latency] ${msg}\n`);
}

/** Runs the latency scenario on SQLite: `n` measured records (default 30,000; `quick`: 200). */
export async function runLatency(opts: ScenarioOptions = {}): Promise<Result> {
  const n = opts.n ?? (opts.quick === true ? 200 : 30_000);
  const warmup = opts.quick === true ? 0 : WARMUP;
  const total = Math.ceil((warmup + n) / PER_CALL) * PER_CALL;
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-latency-'));
  let keep = process.env.BENCH_KEEP === '1';
  const f = await startBenchFederation({
    dir,
    members: ['kr', 'vn'],
    database: 'sqlite',
    cpuProfDir: process.env.BENCH_CPU_PROF,
  });
  let db: Database.Database | undefined;
  let stopPolling = (): void => undefined;
  let pollerDone: Promise<unknown> = Promise.resolve();
  try {
    const kr = f.nodes.kr!;
    const token = await f.analystToken('kr');
    db = new Database(f.sqliteFile('vn'), { readonly: true, fileMustExist: true });
    const poll = db.prepare(
      `SELECT rowid AS id, value FROM indicator WHERE origin = 'kr' AND rowid > ? ORDER BY rowid`,
    );
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let seen = 0;
    let lastRowid = 0;
    let polling = true;
    const poller = (async () => {
      while (polling && db?.open === true) {
        const now = performance.now();
        for (const r of poll.all(lastRowid) as { id: number; value: string }[]) {
          lastRowid = r.id;
          const t = sentAt.get(r.value);
          if (t === undefined) continue;
          seen++;
          const index = Number(/^lat-(\d+)-/.exec(r.value)?.[1] ?? -1);
          if (index >= warmup) latencies.push(now - t);
        }
        await sleep(POLL_MS);
      }
    })();
    stopPolling = () => {
      polling = false;
    };
    pollerDone = poller.catch(() => undefined);

    log(opts, `offering ${RATE} records/s in calls of ${PER_CALL} (${total} records)`);
    const failures: unknown[] = [];
    const inFlight = new Set<Promise<void>>();
    const t0 = performance.now();
    const intervalMs = (PER_CALL * 1000) / RATE;
    for (let first = 0, k = 0; first < total; first += PER_CALL, k++) {
      const wait = t0 + k * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      const items = bulkItems(first, PER_CALL, 'lat');
      const body = JSON.stringify({ items });
      const start = performance.now();
      for (const it of items) sentAt.set(String(it.value), start);
      const p = postBulk(kr.url, token, body)
        .catch((e: unknown) => {
          failures.push(e);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      // Open loop while KR keeps up; past MAX_IN_FLIGHT calls the offered rate falls, which the
      // offered-load figure shows.
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      if (failures.length > 0) throw failures[0];
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
    const offeredUs = (performance.now() - t0) * 1000;
    await waitFor(async () => Promise.resolve(seen >= total), 120_000, `VN to commit ${total}`);
    polling = false;
    await poller;

    const ms = (q: number): number => quantile(latencies, q);
    const p99 = ms(0.99);
    log(opts, `p50 ${ms(0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${ms(1).toFixed(1)} ms`);
    return {
      scenario: 'latency',
      at: new Date().toISOString(),
      method: [
        `KR and VN nodes on SQLite, default relay settings (bundles of up to 500 records, relay pass on every create and every 200 ms).`,
        `KR receives ${RATE.toLocaleString('en-US')} records/s as POST /api/v1/indicators/bulk of ${PER_CALL} distinct domains every ${intervalMs} ms (open loop: a call does not wait for the previous one, up to ${MAX_IN_FLIGHT} calls awaiting their response); ${warmup} warm-up records, then ${n.toLocaleString('en-US')} measured.`,
        `latency of a record: from just before its API call at KR to the first poll of VN's database (read-only, every ${POLL_MS} ms) that sees it committed; the poll interval is an upper bound on the error (it only adds).`,
      ],
      figures: [
        single('offered load at KR (API calls of 10 records)', 'record', total, offeredUs),
        duration(
          'latency p50: API call at KR → commit at VN',
          'record',
          ms(0.5) * 1000,
          latencies.length,
        ),
        duration('latency p99', 'record', p99 * 1000, latencies.length),
        duration('latency max', 'record', ms(1) * 1000, latencies.length),
      ],
      goals: [
        `p99 ≤ ${LATENCY_P99_GOAL_MS} ms: measured ${p99.toFixed(1)} ms — ${p99 <= LATENCY_P99_GOAL_MS ? 'met' : 'NOT met'}`,
      ],
    };
  } catch (e) {
    keep = true;
    throw e;
  } finally {
    stopPolling();
    await pollerDone;
    db?.close();
    await f.stop();
    if (keep) process.stderr.write(`  [latency] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
