// fedctl import's request loop (importFile): batches go out with at most two requests in flight,
// results are counted in order, and a refused batch ends the import with the node's error once
// the other request has settled. The node is stood in for by a fetch function that answers like
// POST /api/v1/interop/import/rows (the real node path is covered by bench/test/import.e2e-spec).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_IMPORT_DEFAULTS } from '../../../libs/interop/src/index.js';
import { importFile, type ImportOptions } from '../src/interop/import-file.js';

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedctl-import-'));
  file = join(dir, 'list.txt');
  const lines = Array.from({ length: 10 }, (_, i) => `site-${i}.example`);
  lines.splice(4, 0, 'not a domain');
  writeFileSync(file, `${lines.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in node: answers each batch after `delayMs`, or with `refuse(n)` for batch n. */
function fakeNode(o: { refuse?: (n: number) => number | undefined } = {}) {
  let inFlight = 0;
  const seen = { maxInFlight: 0, batches: [] as string[][], completed: 0 };
  const fetchFn = (async (_url: string, init: { body: string }) => {
    const n = seen.batches.length;
    const body = JSON.parse(init.body) as { items: { ref: string; value: string }[] };
    seen.batches.push(body.items.map((i) => i.value));
    inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
    // Later batches answer sooner, so out-of-order completion would show in the totals.
    await new Promise((r) => setTimeout(r, 30 - n * 5));
    inFlight--;
    seen.completed++;
    const status = o.refuse?.(n);
    if (status !== undefined) {
      return new Response(
        JSON.stringify({ error: 'Bad Request', message: [`batch ${n} refused`] }),
        {
          status,
        },
      );
    }
    const items = body.items.map((i, k) =>
      k === 0 && n === 1
        ? { ref: i.ref, outcome: 'existing', value: i.value }
        : { ref: i.ref, outcome: 'created', value: i.value },
    );
    return new Response(
      JSON.stringify({
        created: items.filter((i) => i.outcome === 'created').length,
        existing: items.filter((i) => i.outcome === 'existing').length,
        invalid: 0,
        items,
      }),
      { status: 200 },
    );
  }) as unknown as typeof fetch;
  return { fetchFn, seen };
}

const options = (fetchFn: typeof fetch): ImportOptions => ({
  file,
  format: 'list',
  node: 'http://node.invalid',
  token: 't',
  dryRun: false,
  defaults: { ...DEFAULT_IMPORT_DEFAULTS },
  listType: 'domain',
  batch: 3,
  err: () => undefined,
  tty: false,
  fetch: fetchFn,
});

describe('importFile request loop', () => {
  it('sends every valid row once, in order, never more than two requests at a time', async () => {
    const node = fakeNode();
    const totals = await importFile(options(node.fetchFn));
    expect(node.seen.batches).toEqual([
      ['site-0.example', 'site-1.example', 'site-2.example'],
      ['site-3.example', 'site-4.example', 'site-5.example'],
      ['site-6.example', 'site-7.example', 'site-8.example'],
      ['site-9.example'],
    ]);
    expect(node.seen.maxInFlight).toBe(2);
    expect(totals).toMatchObject({ read: 11, created: 9, existing: 1, invalid: 1 });
    expect(totals.problems.map((p) => p.ref)).toEqual(['line 5']);
  });

  it("drops a value repeated in a later batch, and lists the file's problems first", async () => {
    const repeated = join(dir, 'repeated.txt');
    writeFileSync(
      repeated,
      ['a.example', 'b.example', 'c.example', 'A.example', 'bad_domain', 'd.example'].join('\n'),
    );
    const node = fakeNode();
    const totals = await importFile({ ...options(node.fetchFn), file: repeated, batch: 2 });
    expect(node.seen.batches).toEqual([
      ['a.example', 'b.example'],
      ['c.example', 'd.example'],
    ]);
    expect(totals).toMatchObject({ read: 6, created: 3, existing: 1, invalid: 1, skipped: 1 });
    expect(totals.problems.map((p) => [p.ref, p.outcome])).toEqual([
      ['line 4', 'skipped'],
      ['line 5', 'invalid'],
    ]);
  });

  it("ends with the node's refusal once the other request has settled", async () => {
    const node = fakeNode({ refuse: (n) => (n === 1 ? 400 : undefined) });
    await expect(importFile(options(node.fetchFn))).rejects.toThrow(
      'node refused the import (HTTP 400) Bad Request: batch 1 refused',
    );
    // Batch 2 was already sent when batch 1 failed: it completed, and nothing was sent after it.
    expect(node.seen.batches).toHaveLength(3);
    expect(node.seen.completed).toBe(3);
  });

  it('reports an unreachable node', async () => {
    const unreachable = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch;
    await expect(importFile(options(unreachable))).rejects.toThrow(
      'cannot reach the node at http://node.invalid/api/v1/interop/import/rows',
    );
  });
});
