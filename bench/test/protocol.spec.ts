// Smoke test of the protocol benchmark: a tiny run proves the code path still works. It asserts
// the shape of the result, never a speed (machines differ too much for timed assertions).
import { describe, expect, it } from '@jest/globals';
import { canonicalize, isRfc3339Ms } from '../../libs/protocol/src/index.js';
import { table } from '../measure.js';
import { benchRecord, runProtocol } from '../protocol.js';

describe('protocol benchmark (smoke)', () => {
  it('runs every operation once with tiny N and reports a figure for each', async () => {
    const result = await runProtocol({ quick: true });
    expect(result.scenario).toBe('protocol');
    const names = result.figures.map((f) => f.name);
    for (const part of [
      'canonicalize',
      'parseStrictJson',
      'normalizeIndicator: domain',
      'normalizeIndicator: url',
      'normalizeIndicator: iban',
      'normalizeIndicator: bitcoin',
      'normalizeIndicator: ethereum',
      'normalizeIndicator: alias',
      'signCompact',
      'verifyCompactFast',
      'createBundle',
      'openBundle',
      'encryptBundle',
      'decryptBundle',
    ]) {
      expect(names.some((n) => n.includes(part))).toBe(true);
    }
    for (const f of result.figures) {
      expect(f.perSecond).toBeGreaterThan(0);
      expect(f.usPerOp).toBeGreaterThan(0);
    }
    expect(result.goals[0]).toMatch(/µs per record: measured \d/);
    expect(table(result.figures).split('\n')).toHaveLength(result.figures.length + 2);
  }, 60000);

  it('benchmarks a record of about 600 canonical bytes', () => {
    const bytes = Buffer.byteLength(canonicalize(benchRecord(1)));
    expect(bytes).toBeGreaterThan(550);
    expect(bytes).toBeLessThan(700);
  });
});

// isRfc3339Ms lost its Date round trip for speed (docs/benchmarks.md); the round trip stays here
// as the oracle, over every month/day/time boundary of typical and leap years.
describe('isRfc3339Ms keeps the verdicts of the Date round trip', () => {
  const oracle = (s: string): boolean => {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s)) return false;
    const d = new Date(s);
    return !Number.isNaN(d.getTime()) && d.toISOString() === s;
  };
  it('on 220k boundary timestamps', () => {
    const p2 = (x: number) => String(x).padStart(2, '0');
    let differ = 0;
    let checked = 0;
    for (const y of [
      '0000',
      '0001',
      '0100',
      '1900',
      '2000',
      '2023',
      '2024',
      '2100',
      '2400',
      '9999',
    ]) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          for (const h of [0, 23, 24, 99]) {
            for (const mi of [0, 59, 60]) {
              for (const se of [0, 59, 60, 99]) {
                const s = `${y}-${p2(m)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(se)}.123Z`;
                checked++;
                if (oracle(s) !== isRfc3339Ms(s)) differ++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBe(221760);
    expect(differ).toBe(0);
  });
});
