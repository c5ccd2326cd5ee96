// Smoke tests of the end-to-end scenarios with tiny N: each one's whole path (brokers, node
// processes from dist/, stopping and restarting leaves and nodes, polling the databases) still
// runs. Needs `npm run build` first. Asserts completion and the shape of the result, never a speed.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCatchup } from '../catchup.js';
import { runExchange } from '../exchange.js';
import { runLatency } from '../latency.js';
import { repoRoot } from '../report.js';
import { SCENARIOS } from '../run.js';

const built = existsSync(join(repoRoot(), 'dist', 'apps', 'node', 'src', 'main.js'));
const smoke = built ? it : it.skip;

describe('end-to-end benchmark scenarios (smoke)', () => {
  it('every scenario is registered for npm run bench under its own name', () => {
    expect(Object.keys(SCENARIOS)).toEqual([
      'protocol',
      'exchange',
      'exchange-postgres',
      'latency',
      'catchup',
      'import',
      'hub',
      'audit',
    ]);
  });

  smoke(
    'exchange on PostgreSQL: VN holds every record KR had queued, and the baseline stores them all',
    async () => {
      const result = await runExchange({ n: 300, quick: true, database: 'postgres' });
      expect(result.scenario).toBe('exchange-postgres');
      // The steady-part row needs polls between 10 % and 90 % of the records, which a tiny run
      // may not give; the other three rows are always there.
      const steady = result.figures.filter((f) => f.name.startsWith('same, steady part'));
      const rows = result.figures.filter((f) => !steady.includes(f));
      expect(rows.map((f) => f.opsPerRound)).toEqual([300, 300, 300]);
      for (const f of steady) expect(f.opsPerRound).toBe(240);
      expect(result.goals).toHaveLength(2);
    },
    180_000,
  );

  smoke(
    'catch-up: VN back after an outage stores the whole backlog and both peaks of RSS are read',
    async () => {
      const result = await runCatchup({ n: 300, quick: true });
      expect(result.scenario).toBe('catchup');
      expect(result.figures.map((f) => f.opsPerRound)).toEqual([300, 300]);
      expect(result.goals).toHaveLength(2);
      expect(result.goals[1]).toMatch(/KR \d+, VN \d+/);
    },
    180_000,
  );

  smoke(
    'latency: every record offered at a steady rate is seen committed at VN, with percentiles',
    async () => {
      const result = await runLatency({ n: 200, quick: true });
      expect(result.scenario).toBe('latency');
      const [, p50, p99, max] = result.figures;
      expect(p50!.opsPerRound).toBe(200);
      expect(p50!.usPerOp).toBeLessThanOrEqual(p99!.usPerOp);
      expect(p99!.usPerOp).toBeLessThanOrEqual(max!.usPerOp);
    },
    180_000,
  );
});
