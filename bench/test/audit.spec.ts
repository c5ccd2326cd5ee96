// Smoke test of the audit benchmark: a tiny run proves the code path (append, proofs, verify); it
// asserts the shape of the result, never a speed.
import { describe, expect, it } from '@jest/globals';
import { runAudit } from '../audit.js';
import { SCENARIOS } from '../run.js';

describe('audit benchmark (smoke)', () => {
  it('appends, proves and verifies with tiny sizes and reports each figure', async () => {
    const r = await runAudit({ quick: true });
    expect(r.scenario).toBe('audit');
    const names = r.figures.map((f) => f.name).join('\n');
    for (const part of [
      'append to the SQLite log',
      'inclusion proof from SQLite',
      'verify an export',
      'inclusion proof at 10000',
      'consistency proof at 10000',
    ]) {
      expect(names).toContain(part);
    }
    for (const f of r.figures) expect(f.perSecond).toBeGreaterThan(0);
    expect(r.goals).toEqual([
      expect.stringMatching(/^verify of a 30\d\d-entry log/),
      expect.stringMatching(/^inclusion proof at 10000 entries/),
    ]);
    expect(SCENARIOS.audit).toBe(runAudit);
  }, 120000);
});
