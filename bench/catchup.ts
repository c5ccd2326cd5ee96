// Scenario "catchup" (issue 6, scenarios 3 and 6): VN's leaf and node are down while KR queues N
// records for VN (default 1,000,000); then VN comes back and the clock runs until VN's database
// holds them all. The peak RSS of both nodes, each then holding N records, is read from /proc.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../libs/testing/src/index.js';
import {
  bulkItems,
  cpuBreakdown,
  peakRssMiB,
  postBulk,
  startBenchFederation,
  waitForRecords,
} from './federation.js';
import { elapsedUs, hrnow, single, type Result, type ScenarioOptions } from './measure.js';

/** Goal of issue 6: a 1,000,000-record backlog caught up in at most 60 s (SQLite). */
export const CATCHUP_GOAL_SECONDS = 60;
/** Goal of issue 6: a node holding 1,000,000 records peaks at no more than 400 MB RSS. */
export const RSS_GOAL_MB = 400;

const BULK_SIZE = 5000;
const BUNDLE_MAX_RECORDS = 1000;

function log(opts: ScenarioOptions, msg: string): void {
  if (opts.quick !== true) process.stderr.write(`  [catchup] ${msg}\n`);
}

/** Runs the catch-up scenario on SQLite: `n` records (default 1,000,000; `quick`: 300). */
export async function runCatchup(opts: ScenarioOptions = {}): Promise<Result> {
  const n = opts.n ?? (opts.quick === true ? 300 : 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-catchup-'));
  let keep = process.env.BENCH_KEEP === '1';
  const f = await startBenchFederation({
    dir,
    members: ['kr', 'vn'],
    database: 'sqlite',
    cpuProfDir: process.env.BENCH_CPU_PROF,
    env: { FEDINTEL_BUNDLE_MAX_RECORDS: String(BUNDLE_MAX_RECORDS) },
  });
  try {
    const token = await f.analystToken('kr');
    const kr = f.nodes.kr!;
    await f.stopNode('vn');
    await f.brokers.leaves.vn!.stop();
    log(opts, `VN's node and leaf down; KR queues ${n} records`);
    const tIngest = hrnow();
    for (let first = 0; first < n; first += BULK_SIZE) {
      const body = JSON.stringify({ items: bulkItems(first, Math.min(BULK_SIZE, n - first)) });
      await postBulk(kr.url, token, body);
      if ((first / BULK_SIZE) % 20 === 19) log(opts, `KR holds ${first + BULK_SIZE}`);
    }
    const ingestUs = elapsedUs(tIngest);
    // Everything is in KR's leaf (its outbox stream) before VN returns.
    const krCounter = f.counter('kr');
    await waitFor(
      async () => (await krCounter.unsent()) === 0,
      Math.max(120_000, n / 2),
      "KR's relay to publish its whole outbox",
    );
    const queuedUs = elapsedUs(tIngest);
    log(opts, `KR's outbox all published to its leaf after ${(queuedUs / 1e6).toFixed(1)} s`);

    const cpu0 = f.cpu();
    const t0 = hrnow();
    await f.brokers.leaves.vn!.restart();
    const vn = await f.startNode('vn');
    const vnCounter = f.counter('vn');
    await waitForRecords(vnCounter, 'kr', n, Math.max(180_000, n), 'VN', (m) => log(opts, m));
    const us = elapsedUs(t0);
    const cpu = cpuBreakdown(cpu0, f.cpu(), n);
    log(opts, cpu);
    const vnRss = peakRssMiB(vn.child.pid);
    const krRss = peakRssMiB(kr.child.pid);
    const seconds = us / 1e6;
    const rssNote = (mb: number | undefined): string =>
      mb === undefined ? 'RSS not readable (no /proc)' : `peak RSS ${Math.round(mb)} MiB`;
    const catchup = single('VN catch-up: back online until it holds the backlog', 'record', n, us);
    catchup.note = `${seconds.toFixed(1)} s; VN ${rssNote(vnRss)}`;
    const ingest = single(
      `KR bulk ingest (REST, ${BULK_SIZE}/request, relay running)`,
      'record',
      n,
      ingestUs,
    );
    ingest.note = `KR ${rssNote(krRss)}`;
    const worst = Math.max(vnRss ?? 0, krRss ?? 0);
    const mb = worst * 1.048576;
    return {
      scenario: 'catchup',
      at: new Date().toISOString(),
      method: [
        `N = ${n.toLocaleString('en-US')} distinct domain records, TLP GREEN, scope ['vn'], KR → VN; SQLite; FEDINTEL_BUNDLE_MAX_RECORDS=${BUNDLE_MAX_RECORDS}.`,
        "VN's node and leaf are stopped; KR ingests N records through POST /api/v1/indicators/bulk (5000 per request) while its relay publishes them to KR's leaf; the run waits until KR's outbox is fully published (no queued item, no pending bundle).",
        "catch-up time: from restarting VN's leaf (then starting VN's node, start-up included) to the moment VN's database holds all N (polled every 20 ms, read-only: the sum of accepted records over VN's received bundles, then a full count).",
        `during the catch-up (${cpu}): user + system time of each process from /proc, divided by N (VN's includes its start-up).`,
        'peak RSS: VmHWM of each node process from /proc/<pid>/status at the end, when each holds N records (KR: its own; VN: received).',
      ],
      figures: [ingest, catchup],
      goals: [
        `catch-up of ${n.toLocaleString('en-US')} records ≤ ${CATCHUP_GOAL_SECONDS} s${n === 1_000_000 ? '' : ' (goal stated for 1,000,000)'}: measured ${seconds.toFixed(1)} s — ${seconds <= CATCHUP_GOAL_SECONDS ? 'met' : 'NOT met'}`,
        `peak RSS of a node holding ${n.toLocaleString('en-US')} records ≤ ${RSS_GOAL_MB} MB: measured ${Math.round(mb)} MB (KR ${Math.round((krRss ?? 0) * 1.048576)}, VN ${Math.round((vnRss ?? 0) * 1.048576)}) — ${mb > 0 && mb <= RSS_GOAL_MB ? 'met' : 'NOT met'}`,
      ],
    };
  } catch (e) {
    keep = true;
    throw e;
  } finally {
    await f.stop();
    if (keep) process.stderr.write(`  [catchup] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
