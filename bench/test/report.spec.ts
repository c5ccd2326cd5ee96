// A benchmark run rewrites its section of docs/benchmarks.md; the file must still pass the
// repository's Prettier check afterwards (`npm run check` runs it in CI).
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { formatMarkdown, machine, updateDocs } from '../report.js';
import { single } from '../measure.js';

describe('bench report', () => {
  it('leaves the benchmarks document formatted as the repository checks it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const file = join(dir, 'benchmarks.md');
      const result = {
        scenario: 'demo',
        at: '2026-11-29T06:00:00.000Z',
        method: ['one run'],
        figures: [
          single('a long operation name', 'row', 50_000, 1_234_567),
          single('b', 'row', 1, 3),
        ],
        goals: ['goal ≥ 1 rows/s: measured'],
      };
      updateDocs(result, machine(), file);
      const options = {
        ...((await prettier.resolveConfig(join(process.cwd(), 'x.md'))) ?? {}),
        filepath: file,
      };
      expect(await prettier.check(readFileSync(file, 'utf8'), options)).toBe(false);
      await formatMarkdown(file);
      const text = readFileSync(file, 'utf8');
      expect(await prettier.check(text, options)).toBe(true);
      expect(text).toContain('<!-- bench:demo:start -->');
      expect(text).toContain('a long operation name');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
