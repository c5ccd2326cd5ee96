// Smoke test of the import benchmark with a tiny N: the whole path (brokers, a node process from
// dist/, fedctl import of the real list and a synthetic one, re-import, REST bulk ingest) still
// runs. Needs
// `npm run build` first. Asserts completion, never a speed.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runImport } from '../import.js';
import { repoRoot } from '../report.js';

const built = existsSync(join(repoRoot(), 'dist', 'apps', 'node', 'src', 'main.js'));

describe('import benchmark (smoke)', () => {
  (built ? it : it.skip)(
    'fedctl import of the piracy list and a synthetic list completes, re-imports included',
    async () => {
      const result = await runImport({ n: 500, quick: true });
      expect(result.scenario).toBe('import');
      expect(result.figures.map((f) => f.opsPerRound)).toEqual([
        500, 2154, 2154, 2154, 500, 500, 500,
      ]);
      for (const f of result.figures) expect(f.perSecond).toBeGreaterThan(0);
      // Every figure but the CLI-only one ran against the node: its CPU time is reported.
      for (const f of result.figures.slice(1)) expect(f.cpuUsPerOp).toBeGreaterThanOrEqual(0);
      expect(result.goals).toHaveLength(1);
    },
    180000,
  );
});
