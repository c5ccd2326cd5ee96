import { describe, expect, it } from '@jest/globals';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../protocol/src/index.js';
import {
  Frontier,
  MapReader,
  MemoryTree,
  consistencyPath,
  inclusionPath,
  nodesNeeded,
  treeRoot,
  type TreeNode,
} from '../src/index.js';

const leaves = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));

function treeOf(hashes: Uint8Array[]): MemoryTree {
  const t = new MemoryTree();
  for (const h of hashes) t.append(h);
  return t;
}

describe('the log tree over stored node hashes', () => {
  const all = leaves(70);
  const tree = treeOf(all);

  it('has the RFC 9162 root of libs/protocol at every size', () => {
    const t = new MemoryTree();
    for (let n = 1; n <= all.length; n++) {
      t.append(all[n - 1]!);
      expect(t.root()).toEqual(merkleRoot(all.slice(0, n)));
      expect(treeRoot(tree, n)).toEqual(merkleRoot(all.slice(0, n)));
    }
  });

  it('gives the same inclusion proofs as libs/protocol, and they verify', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 64, 70]) {
      const root = merkleRoot(all.slice(0, n));
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(tree, i, n);
        expect(path).toEqual(inclusionProof(all.slice(0, n), i));
        expect(verifyInclusion(all[i]!, i, n, path, root)).toBe(true);
      }
    }
  });

  it('gives the same consistency proofs as libs/protocol for every pair of sizes, and they verify', () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 0; m <= n; m++) {
        const path = consistencyPath(tree, m, n);
        expect(path).toEqual(consistencyProof(all.slice(0, n), m));
        expect(
          verifyConsistency(m, n, merkleRoot(all.slice(0, m)), merkleRoot(all.slice(0, n)), path),
        ).toBe(true);
      }
    }
  });

  it('computes a proof from only the nodes it needs, fetched once (the database path)', () => {
    const needed = nodesNeeded((r) => inclusionPath(r, 37, 70));
    expect(needed.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(70)));
    const fetched: TreeNode[] = needed.map((k) => ({ ...k, hash: tree.node(k.level, k.index) }));
    expect(inclusionPath(new MapReader(fetched), 37, 70)).toEqual(inclusionPath(tree, 37, 70));
    expect(() => inclusionPath(new MapReader([]), 37, 70)).toThrow(/not stored/);
  });

  it('refuses proofs outside the tree', () => {
    expect(() => inclusionPath(tree, 70, 70)).toThrow(/not in a tree/);
    expect(() => consistencyPath(tree, 9, 8)).toThrow(/exceeds/);
  });

  it('rebuilds its right edge from stored nodes and keeps appending to the same roots', () => {
    for (const n of [0, 1, 6, 7, 32, 45]) {
      const f = Frontier.fromReader(tree, n);
      expect(f.root()).toEqual(merkleRoot(all.slice(0, n)));
      expect(Frontier.nodesFor(n).length).toBe(f.hashes.filter((h) => h !== undefined).length);
      for (let i = n; i < 70; i++) f.push(all[i]!);
      expect(f.root()).toEqual(merkleRoot(all));
    }
  });

  it('refuses a right edge that does not match its size', () => {
    expect(() => new Frontier(3, [all[0]])).toThrow(/wrong at level 1/);
    expect(() => new Frontier(2, [all[0], all[1]])).toThrow(/wrong at level 0/);
  });
});
