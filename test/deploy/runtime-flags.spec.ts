import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_PROCESS_FLAGS } from '../../libs/devnet/src/index.js';

/**
 * A member node runs with the same V8 heap flags wherever it is started (ADR 0051): the memory
 * figures of docs/benchmarks.md hold for a deployment only if the deployment uses them.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (...p: string[]) => readFileSync(join(root, ...p), 'utf8');
const NODE_MAIN = 'dist/apps/node/src/main.js';

/** Every argument list (quoted strings in brackets) that ends with the node's entry point. */
function launches(text: string): string[][] {
  const lists = [...text.matchAll(/\[([^\][]*dist\/apps\/node\/src\/main\.js[^\][]*)\]/g)];
  return lists.map((m) => [...(m[1] ?? '').matchAll(/["']([^"']+)["']/g)].map((q) => q[1] ?? ''));
}

describe('member node runtime flags', () => {
  it('are set in the Dockerfile, Compose, Kubernetes and npm run start:node', () => {
    const expected = ['node', ...NODE_PROCESS_FLAGS, NODE_MAIN];
    const found = {
      dockerfile: launches(read('deploy', 'Dockerfile')),
      compose: launches(read('deploy', 'compose', 'compose.yaml')),
      k8s: launches(read('deploy', 'k8s', 'member.yaml')),
    };
    expect(found.dockerfile).toEqual([expected]);
    expect(found.compose.length).toBeGreaterThanOrEqual(3); // one node per member
    for (const l of [...found.compose, ...found.k8s]) expect(l).toEqual(expected);
    expect(found.k8s).toHaveLength(1);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start:node']).toContain(
      ['node', ...NODE_PROCESS_FLAGS, NODE_MAIN].join(' '),
    );
  });

  it('bound the old space well above a 2 MB request and below the 400 MB memory goal', () => {
    const old = NODE_PROCESS_FLAGS.find((f) => f.startsWith('--max-old-space-size='));
    const mb = Number(old?.split('=')[1]);
    expect(mb).toBeGreaterThanOrEqual(128);
    expect(mb).toBeLessThan(400);
  });
});
