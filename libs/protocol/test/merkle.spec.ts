import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  consistencyProof,
  emptyRoot,
  fromB64u,
  inclusionProof,
  inclusionProofs,
  isProtocolError,
  leafHash,
  leafHashText,
  merkleRoot,
  nodeHash,
  toB64u,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

interface CtVectors {
  leaves: string[];
  leafHashes: string[];
  nodeHashes: string[][];
  rootsBySize: string[];
  inclusionProofs: { index: number; treeSize: number; proof: string[] }[];
  consistencyProofs: { oldSize: number; newSize: number; proof: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/merkle/rfc9162-ct-8leaf.json', import.meta.url), 'utf8'),
) as CtVectors;

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexes = (bs: readonly Uint8Array[]): string[] => bs.map(hex);

const leaves = vectors.leaves.map((l) => leafHash(unhex(l)));
const roots = vectors.rootsBySize.map(unhex);
const root = (size: number): Uint8Array => roots[size] as Uint8Array;

// An independent, literal transcription of RFC 9162 §2.1 (recursive MTH, PATH and PROOF) used
// as an oracle for sizes the published vectors do not cover.
function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}
function mth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return d[0] as Uint8Array;
  const s = k(d.length);
  return sha(Uint8Array.of(1), mth(d.slice(0, s)), mth(d.slice(s)));
}
function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...refPath(m, d.slice(0, s)), mth(d.slice(s))]
    : [...refPath(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function refSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const s = k(n);
  return m <= s
    ? [...refSubproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...refSubproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}
function syntheticLeaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`record-${i}`)));
}

function flip(b: Uint8Array, bit = 3): Uint8Array {
  const c = Uint8Array.from(b);
  c[0] = (c[0] as number) ^ (1 << bit);
  return c;
}

describe('leaf and node hashing (RFC 9162 §2.1.1)', () => {
  it('hashes each test leaf to the published leaf hash', () => {
    expect(hexes(leaves)).toEqual(vectors.leafHashes);
  });

  it('hashes each pair of published nodes to the published parent', () => {
    for (let level = 1; level < vectors.nodeHashes.length; level++) {
      const below = (vectors.nodeHashes[level - 1] as string[]).map(unhex);
      const expected = vectors.nodeHashes[level] as string[];
      expected.forEach((h, i) => {
        expect(hex(nodeHash(below[2 * i] as Uint8Array, below[2 * i + 1] as Uint8Array))).toBe(h);
      });
    }
  });

  it('separates leaves from nodes by their prefix byte', () => {
    const a = leaves[0] as Uint8Array;
    const b = leaves[1] as Uint8Array;
    const concatenated = new Uint8Array([...a, ...b]);
    expect(hex(leafHash(concatenated))).not.toBe(hex(nodeHash(a, b)));
  });

  it('returns plain Uint8Arrays', () => {
    expect(Object.getPrototypeOf(leafHash(new Uint8Array()))).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(merkleRoot(leaves))).toBe(Uint8Array.prototype);
  });
});

describe('merkleRoot', () => {
  it('gives the published root for every size from 0 to 8', () => {
    for (let size = 0; size <= 8; size++) {
      expect(hex(merkleRoot(leaves.slice(0, size)))).toBe(vectors.rootsBySize[size]);
    }
  });

  it('gives SHA-256 of the empty string for an empty tree', () => {
    expect(hex(emptyRoot())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('matches the recursive definition for sizes 1 to 70', () => {
    const d = syntheticLeaves(70);
    for (let n = 1; n <= 70; n++)
      expect(hex(merkleRoot(d.slice(0, n)))).toBe(hex(mth(d.slice(0, n))));
  });

  it('rejects a leaf hash that is not 32 bytes', () => {
    expect(() => merkleRoot([new Uint8Array(31)])).toThrow(
      expect.objectContaining({ code: 'INVALID_VALUE', field: 'leafHashes[0]' }),
    );
  });
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  it.each(vectors.inclusionProofs)(
    'produces and verifies the published path of leaf $index in a tree of $treeSize',
    ({ index, treeSize, proof }) => {
      const tree = leaves.slice(0, treeSize);
      expect(hexes(inclusionProof(tree, index))).toEqual(proof);
      expect(
        verifyInclusion(
          tree[index] as Uint8Array,
          index,
          treeSize,
          proof.map(unhex),
          root(treeSize),
        ),
      ).toBe(true);
    },
  );

  it('produces a verifying path for every leaf of every tree of the 8 test leaves', () => {
    for (let size = 1; size <= 8; size++) {
      const tree = leaves.slice(0, size);
      for (let i = 0; i < size; i++) {
        const p = inclusionProof(tree, i);
        expect(hexes(p)).toEqual(hexes(refPath(i, tree)));
        expect(verifyInclusion(tree[i] as Uint8Array, i, size, p, root(size))).toBe(true);
      }
    }
  });

  it.each(vectors.inclusionProofs.filter((v) => v.proof.length > 0))(
    'rejects every corruption of the path of leaf $index in a tree of $treeSize',
    ({ index, treeSize, proof: hexProof }) => {
      const proof = hexProof.map(unhex);
      const leaf = leaves[index] as Uint8Array;
      const r = root(treeSize);
      const some = unhex('abacaba000000000000000000000000000000000000000000060061e00123456');
      const bad: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [index - 1, treeSize, leaf, proof, r],
        [index + 1, treeSize, leaf, proof, r],
        [index ^ 2, treeSize, leaf, proof, r],
        [index, treeSize * 2, leaf, proof, r],
        [index, Math.floor(treeSize / 2), leaf, proof, r],
        [index, treeSize, leafHash(new TextEncoder().encode('WrongLeaf')), proof, r],
        [index, treeSize, leaf, proof, emptyRoot()],
        [index, treeSize, leaf, proof, some],
        [index, treeSize, leaf, [...proof, new Uint8Array()], r],
        [index, treeSize, leaf, [...proof, r], r],
        [index, treeSize, leaf, [new Uint8Array(), ...proof], r],
        [index, treeSize, leaf, [r, ...proof], r],
        [index, treeSize, leaf, proof.slice(0, -1), r],
        [index, treeSize, leaf, [proof[0] as Uint8Array, some, ...proof.slice(1)], r],
        [index, treeSize, flip(leaf), proof, r],
        [index, treeSize, leaf, proof, flip(r)],
        ...proof.map((_, j): [number, number, Uint8Array, Uint8Array[], Uint8Array] => [
          index,
          treeSize,
          leaf,
          proof.map((p, q) => (q === j ? flip(p) : p)),
          r,
        ]),
      ];
      for (const [i, n, l, p, rt] of bad) expect(verifyInclusion(l, i, n, p, rt)).toBe(false);
    },
  );

  it('refuses an index outside the tree without throwing', () => {
    const one = leaves[0] as Uint8Array;
    expect(verifyInclusion(one, 0, 0, [], emptyRoot())).toBe(false);
    expect(verifyInclusion(one, 1, 1, [], one)).toBe(false);
    expect(verifyInclusion(one, -1, 1, [], one)).toBe(false);
    expect(verifyInclusion(one, 0.5, 1, [], one)).toBe(false);
    expect(verifyInclusion(one, 0, 1, [], one)).toBe(true);
    expect(verifyInclusion(new Uint8Array(), 0, 1, [], new Uint8Array())).toBe(false);
  });

  it('throws INVALID_VALUE when asked for a path of a leaf outside the tree', () => {
    for (const bad of [-1, 8, 1.5, Number.NaN]) {
      expect(() => inclusionProof(leaves, bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_VALUE' }),
      );
    }
  });

  it('verifies across sizes above 2^31, where bitwise operators would truncate', () => {
    // In a tree of 2^33+5 leaves the last leaf sits alone right of a 4-leaf subtree, under the
    // 2^33-leaf left subtree: its path is [4-leaf subtree, 2^33 subtree]. The hashes are
    // stand-ins; what is checked is the index arithmetic of the verifier.
    const size = 2 ** 33 + 5;
    const index = size - 1;
    const leaf = leaves[0] as Uint8Array;
    const four = leaves[1] as Uint8Array;
    const big = leaves[2] as Uint8Array;
    const r = nodeHash(big, nodeHash(four, leaf));
    expect(verifyInclusion(leaf, index, size, [four, big], r)).toBe(true);
    expect(verifyInclusion(leaf, index - 1, size, [four, big], r)).toBe(false);
    expect(verifyInclusion(leaf, index, size + 1, [four, big], r)).toBe(false);
    expect(verifyInclusion(leaf, index, size, [four, big, leaves[3] as Uint8Array], r)).toBe(false);
  });
});

describe('inclusionProofs (all paths at once)', () => {
  it('equals the single-leaf paths and the reference for every size from 0 to 70', () => {
    const d = syntheticLeaves(70);
    for (let n = 0; n <= 70; n++) {
      const tree = d.slice(0, n);
      const all = inclusionProofs(tree);
      expect(hex(all.root)).toBe(hex(mth(tree)));
      expect(all.proofs).toHaveLength(n);
      all.proofs.forEach((p, i) => {
        expect(hexes(p)).toEqual(hexes(refPath(i, tree)));
        expect(verifyInclusion(tree[i] as Uint8Array, i, n, p, all.root)).toBe(true);
      });
    }
  });

  it('gives each leaf of a 1000-leaf bundle a path of at most ceil(log2 n) hashes', () => {
    const d = syntheticLeaves(1000);
    const all = inclusionProofs(d);
    for (const p of all.proofs) expect(p.length).toBeLessThanOrEqual(10);
    // 1000 = 512+256+128+64+32+8: the last eight leaves are 3 levels under a node 5 levels down.
    expect(all.proofs[999]).toHaveLength(8);
    expect(all.proofs[0]).toHaveLength(10);
    for (const i of [0, 511, 512, 767, 991, 999]) {
      expect(hexes(all.proofs[i] as Uint8Array[])).toEqual(hexes(inclusionProof(d, i)));
    }
    expect(hex(all.root)).toBe(hex(merkleRoot(d)));
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it.each(vectors.consistencyProofs)(
    'produces and verifies the published proof from $oldSize to $newSize',
    ({ oldSize, newSize, proof }) => {
      expect(hexes(consistencyProof(leaves.slice(0, newSize), oldSize))).toEqual(proof);
      expect(
        verifyConsistency(oldSize, newSize, root(oldSize), root(newSize), proof.map(unhex)),
      ).toBe(true);
    },
  );

  it('produces a verifying proof for every pair of sizes of the 8 test leaves', () => {
    for (let n = 1; n <= 8; n++) {
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(leaves.slice(0, n), m);
        expect(hexes(p)).toEqual(m === n ? [] : hexes(refSubproof(m, leaves.slice(0, n), true)));
        expect(verifyConsistency(m, n, root(m), root(n), p)).toBe(true);
      }
    }
  });

  it('matches the reference for every pair of sizes up to 40', () => {
    const d = syntheticLeaves(40);
    for (let n = 2; n <= 40; n++) {
      const rn = mth(d.slice(0, n));
      for (let m = 1; m < n; m++) {
        const p = consistencyProof(d.slice(0, n), m);
        expect(hexes(p)).toEqual(hexes(refSubproof(m, d.slice(0, n), true)));
        expect(verifyConsistency(m, n, mth(d.slice(0, m)), rn, p)).toBe(true);
      }
    }
  });

  it.each(vectors.consistencyProofs.filter((v) => v.proof.length > 0))(
    'rejects every corruption of the proof from $oldSize to $newSize',
    ({ oldSize, newSize, proof: hexProof }) => {
      const proof = hexProof.map(unhex);
      const r1 = root(oldSize);
      const r2 = root(newSize);
      const wrong = new TextEncoder().encode('WrongRoot');
      const bad: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [oldSize - 1, newSize, r1, r2, proof],
        [oldSize + 1, newSize, r1, r2, proof],
        [oldSize ^ 2, newSize, r1, r2, proof],
        [oldSize, newSize * 2, r1, r2, proof],
        [oldSize, Math.floor(newSize / 2), r1, r2, proof],
        [oldSize, newSize, wrong, r2, proof],
        [oldSize, newSize, r1, wrong, proof],
        [oldSize, newSize, flip(r1), r2, proof],
        [oldSize, newSize, r1, flip(r2), proof],
        [oldSize, newSize, r2, r1, proof],
        [oldSize, newSize, r1, r2, []],
        [oldSize, newSize, r1, r2, [...proof, new Uint8Array()]],
        [oldSize, newSize, r1, r2, [...proof, r1]],
        [oldSize, newSize, r1, r2, [...proof, r2]],
        [oldSize, newSize, r1, r2, [new Uint8Array(), ...proof]],
        [oldSize, newSize, r1, r2, [r1, ...proof]],
        [oldSize, newSize, r1, r2, [r2, ...proof]],
        [oldSize, newSize, r1, r2, [proof[0] as Uint8Array, ...proof]],
        [oldSize, newSize, r1, r2, proof.slice(0, -1)],
        ...proof.map((_, j): [number, number, Uint8Array, Uint8Array, Uint8Array[]] => [
          oldSize,
          newSize,
          r1,
          r2,
          proof.map((p, q) => (q === j ? flip(p, 4) : p)),
        ]),
      ];
      for (const [m, n, a, b, p] of bad) expect(verifyConsistency(m, n, a, b, p)).toBe(false);
    },
  );

  it('handles the trivial sizes: equal sizes and the empty old tree', () => {
    const r1 = root(1);
    const r2 = root(2);
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 1, r1, r1, [r1])).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), root(5), [])).toBe(true);
    expect(verifyConsistency(0, 5, r1, root(5), [])).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), root(5), [emptyRoot()])).toBe(false);
    expect(verifyConsistency(2, 1, r2, r1, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false);
    expect(consistencyProof(leaves, 0)).toEqual([]);
    expect(consistencyProof(leaves, 8)).toEqual([]);
    for (const bad of [-1, 9, 2.5]) {
      expect(() => consistencyProof(leaves, bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_VALUE' }),
      );
    }
  });
});

describe('base64url', () => {
  it('encodes without padding and decodes back', () => {
    for (let n = 0; n <= 34; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 250) % 256);
      const s = toB64u(b);
      expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(fromB64u(s)).toEqual(b);
    }
    expect(toB64u(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(toB64u(root(8))).toBe('XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg');
  });

  it('encodes a view without its neighbouring bytes', () => {
    const buf = Uint8Array.of(1, 2, 3, 4, 5);
    expect(toB64u(buf.subarray(1, 3))).toBe(toB64u(Uint8Array.of(2, 3)));
  });

  it.each(['AA==', 'AA=', 'A', 'AAAAA', 'AA AA', 'AA+A', 'AA/A', 'AB', 'AAB', 'é', 'AA\n'])(
    'rejects %j',
    (s) => {
      let err: unknown;
      try {
        fromB64u(s);
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err, 'INVALID_VALUE')).toBe(true);
    },
  );

  it('accepts exactly the canonical last character of every 2- and 3-character tail', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const prefix of ['Q', 'QU', 'QUJDRA', 'QUJDRAx']) {
      for (const c of alphabet) {
        const s = prefix + c;
        if (s.length % 4 === 1) continue;
        const canonical = Buffer.from(s, 'base64url').toString('base64url') === s;
        let accepted = true;
        try {
          fromB64u(s);
        } catch {
          accepted = false;
        }
        expect([s, accepted]).toEqual([s, canonical]);
      }
    }
  });

  it('decodes a large string (a JWE ciphertext) to the same bytes', () => {
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 131) % 256);
    expect(Buffer.from(fromB64u(toB64u(big))).equals(Buffer.from(big))).toBe(true);
  });

  it('returns a copy that owns its buffer', () => {
    const b = fromB64u('AQID');
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(3);
  });
});

describe('leafHashText and nodeHash (one-shot hashing)', () => {
  const sha = (...parts: Uint8Array[]) => {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  };

  it.each([
    ['empty', ''],
    ['ASCII', '{"id":"kr-1","value":"toon-mirror.example"}'],
    ['non-ASCII', '{"note":"웹툰 불법 복제 사이트","alias":"ＴＯＯＮ"}'],
    ['just under the scratch buffer', 'a'.repeat(24_000)],
    ['longer than the scratch buffer (streaming path)', '가'.repeat(40_000)],
  ])('hashes 0x00 || UTF-8 of %s text', (_what, text) => {
    expect(leafHashText(text)).toEqual(sha(Uint8Array.of(0), Buffer.from(text, 'utf8')));
  });

  it('hashes 0x01 || left || right, and does not let one call disturb the next', () => {
    const a = sha(Uint8Array.of(1));
    const b = sha(Uint8Array.of(2));
    const ab = nodeHash(a, b);
    const ba = nodeHash(b, a);
    expect(ab).toEqual(sha(Uint8Array.of(1), a, b));
    expect(ba).toEqual(sha(Uint8Array.of(1), b, a));
    expect(ab).not.toEqual(ba);
  });
});
