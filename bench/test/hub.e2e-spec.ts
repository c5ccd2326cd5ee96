// Smoke test of the hub benchmark with tiny N: three members' bundles are ingested and
// aggregated, the seeded networks are queried. Asserts completion and the result's shape only.
import { describe, expect, it } from '@jest/globals';
import { runHub } from '../hub.js';

describe('hub benchmark (smoke)', () => {
  it('ingests three members at once, then queries networks over a seeded hub database', async () => {
    const result = await runHub({ quick: true, n: 200 });
    expect(result.scenario).toBe('hub');
    expect(result.figures.map((f) => f.name)).toEqual([
      'ingest + aggregate (3 members at once)',
      'network by id p50',
      'network by id p99',
      'networks page (country) p50',
      'networks page (country) p99',
      'correlation snapshot rebuild',
    ]);
    expect(result.figures[0]?.opsPerRound).toBe(600);
  }, 240_000);
});
