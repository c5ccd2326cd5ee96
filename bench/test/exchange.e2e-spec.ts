// Smoke test of the exchange benchmark with a tiny N: the whole path (brokers, two node processes
// from dist/, bulk ingest, relay, verified receiving, the bare pipeline) still runs. Needs
// `npm run build` first (the nodes run from dist/). Asserts completion, never a speed.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runExchange } from '../exchange.js';
import { repoRoot } from '../report.js';

const built = existsSync(join(repoRoot(), 'dist', 'apps', 'node', 'src', 'main.js'));

describe('exchange benchmark (smoke)', () => {
  (built ? it : it.skip)(
    'KR delivers every record of a tiny run to VN, and the baseline stores them all',
    async () => {
      const result = await runExchange({ n: 300, quick: true, database: 'sqlite' });
      expect(result.scenario).toBe('exchange');
      // The steady-part row needs polls between 10 % and 90 % of the records, which a tiny run
      // may not give; the other three rows are always there.
      const steady = result.figures.filter((f) => f.name.startsWith('same, steady part'));
      const rows = result.figures.filter((f) => !steady.includes(f));
      expect(rows.map((f) => f.opsPerRound)).toEqual([300, 300, 300]);
      for (const f of steady) expect(f.opsPerRound).toBe(240);
      for (const f of result.figures) expect(f.perSecond).toBeGreaterThan(0);
      expect(result.goals).toHaveLength(2);
    },
    120000,
  );
});
