import { Buffer } from 'node:buffer';
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './errors.js';

/** Length in bytes of every hash of the tree (SHA-256). */
export const MERKLE_HASH_LENGTH = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

function view(b: Buffer): Uint8Array {
  // A plain Uint8Array, so callers comparing with toEqual or structuredClone see no Buffer.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The Merkle Tree Hash of an empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export function emptyRoot(): Uint8Array {
  return view(createHash('sha256').digest());
}

/**
 * Hash of a leaf, `SHA-256(0x00 || data)` (RFC 9162 §2.1.1). The prefix keeps a leaf from ever
 * being taken for an interior node (second-preimage resistance).
 */
export function leafHash(data: Uint8Array): Uint8Array {
  return view(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
}

/**
 * Scratch input of the one-shot hashes below: `crypto.hash` over one buffer costs about two thirds
 * of a `createHash().update()…digest()` chain, and the hot path hashes every record of every
 * bundle on both sides, plus the interior nodes. Synchronous use only, so one buffer is enough.
 */
const SCRATCH = Buffer.alloc(72 * 1024);
const NODE_INPUT = Buffer.alloc(1 + 2 * MERKLE_HASH_LENGTH);
NODE_INPUT[0] = 0x01;

/**
 * {@link leafHash} of a string's UTF-8 bytes (the hot path hashes every record text of every
 * bundle, on both sides).
 */
export function leafHashText(text: string): Uint8Array {
  // 3 bytes per UTF-16 unit bound the UTF-8 length; longer texts take the streaming path.
  if (text.length * 3 + 1 > SCRATCH.length) {
    return view(createHash('sha256').update(LEAF_PREFIX).update(text, 'utf8').digest());
  }
  SCRATCH[0] = 0x00;
  const n = SCRATCH.write(text, 1, 'utf8');
  return view(hash('sha256', SCRATCH.subarray(0, n + 1), 'buffer'));
}

/** Hash of an interior node, `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.byteLength !== MERKLE_HASH_LENGTH || right.byteLength !== MERKLE_HASH_LENGTH) {
    return view(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
  }
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + MERKLE_HASH_LENGTH);
  return view(hash('sha256', NODE_INPUT, 'buffer'));
}

/**
 * Builds every level of the tree bottom-up: level 0 is the leaves, the last level is the root.
 * Pairing neighbours and carrying an odd last node up unchanged gives exactly RFC 9162's tree,
 * whose left subtree is always the largest power of two.
 */
function levels(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [leafHashes.slice()];
  let cur = out[0] as Uint8Array[];
  while (cur.length > 1) {
    const next: Uint8Array[] = new Array<Uint8Array>(Math.ceil(cur.length / 2));
    for (let k = 0; k + 1 < cur.length; k += 2) {
      next[k >> 1] = nodeHash(cur[k] as Uint8Array, cur[k + 1] as Uint8Array);
    }
    if (cur.length % 2 === 1) next[next.length - 1] = cur[cur.length - 1] as Uint8Array;
    out.push(next);
    cur = next;
  }
  return out;
}

function checkLeaves(leafHashes: readonly Uint8Array[]): void {
  for (let k = 0; k < leafHashes.length; k++) {
    if (leafHashes[k]?.byteLength !== MERKLE_HASH_LENGTH) {
      throw new ProtocolError(
        'INVALID_VALUE',
        `leaf hash ${k} is not ${MERKLE_HASH_LENGTH} bytes`,
        {
          field: `leafHashes[${k}]`,
        },
      );
    }
  }
}

/**
 * Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes (each from {@link leafHash}).
 * The root of an empty list is {@link emptyRoot}.
 * @throws ProtocolError `INVALID_VALUE` when a leaf hash is not 32 bytes
 */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  checkLeaves(leafHashes);
  if (leafHashes.length === 0) return emptyRoot();
  let cur: readonly Uint8Array[] = leafHashes;
  while (cur.length > 1) {
    const next: Uint8Array[] = [];
    for (let k = 0; k + 1 < cur.length; k += 2) {
      next.push(nodeHash(cur[k] as Uint8Array, cur[k + 1] as Uint8Array));
    }
    if (cur.length % 2 === 1) next.push(cur[cur.length - 1] as Uint8Array);
    cur = next;
  }
  return cur[0] as Uint8Array;
}

function pathFromLevels(lv: readonly Uint8Array[][], index: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let i = index;
  for (let l = 0; l < lv.length - 1; l++) {
    const level = lv[l] as Uint8Array[];
    const sibling = i ^ 1;
    // A node without a sibling is carried up unchanged and adds nothing to the path.
    if (sibling < level.length) proof.push(level[sibling] as Uint8Array);
    i >>= 1;
  }
  return proof;
}

function checkIndex(index: number, size: number, name: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new ProtocolError(
      'INVALID_VALUE',
      `${name} ${index} is outside a tree of ${size} leaves`,
      {
        field: name,
      },
    );
  }
}

/**
 * Inclusion proof (audit path, RFC 9162 §2.1.3.1 `PATH(m, D[n])`) of the leaf at `index`, ordered
 * from the leaf's sibling up to the child of the root.
 * @throws ProtocolError `INVALID_VALUE` when `index` is not a leaf of the tree or a hash is not 32 bytes
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  checkLeaves(leafHashes);
  checkIndex(index, leafHashes.length, 'index');
  return pathFromLevels(levels(leafHashes), index);
}

/**
 * The root and the inclusion proof of every leaf, in O(n log n): the tree is hashed once and each
 * proof reads ⌈log2 n⌉ nodes from it. This is what an origin runs once per bundle.
 * @throws ProtocolError `INVALID_VALUE` when a leaf hash is not 32 bytes
 */
export function inclusionProofs(leafHashes: readonly Uint8Array[]): {
  root: Uint8Array;
  proofs: Uint8Array[][];
} {
  checkLeaves(leafHashes);
  if (leafHashes.length === 0) return { root: emptyRoot(), proofs: [] };
  const lv = levels(leafHashes);
  const root = (lv[lv.length - 1] as Uint8Array[])[0] as Uint8Array;
  const proofs: Uint8Array[][] = new Array<Uint8Array[]>(leafHashes.length);
  for (let k = 0; k < leafHashes.length; k++) proofs[k] = pathFromLevels(lv, k);
  return { root, proofs };
}

function equalHash(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === MERKLE_HASH_LENGTH &&
    b.byteLength === MERKLE_HASH_LENGTH &&
    timingSafeEqual(a, b)
  );
}

function allHashes(proof: readonly Uint8Array[]): boolean {
  // Inputs come from the wire through callers' decoders: do not trust the static type.
  if (!Array.isArray(proof)) return false;
  const items: readonly unknown[] = proof;
  return items.every((p) => p instanceof Uint8Array && p.byteLength === MERKLE_HASH_LENGTH);
}

// Sizes may exceed 2^31, where the bitwise operators of JavaScript would truncate: use arithmetic.
const lsb = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * Verifies an inclusion proof with the algorithm of RFC 9162 §2.1.3.2. Never throws: any malformed
 * input (index outside the tree, a proof of the wrong length, a hash that is not 32 bytes) gives
 * `false`.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize)) return false;
  if (index < 0 || index >= treeSize) return false;
  if (!(leafHash instanceof Uint8Array) || leafHash.byteLength !== MERKLE_HASH_LENGTH) return false;
  if (!allHashes(proof) || !(root instanceof Uint8Array)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHash(r, root);
}

/** Largest power of two strictly smaller than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Consistency proof (RFC 9162 §2.1.4.1 `PROOF(m, D[n])`) that the tree of the first `oldSize`
 * leaves is a prefix of the tree of all `leafHashes`. Empty when `oldSize` is 0 or equals the
 * current size.
 * @throws ProtocolError `INVALID_VALUE` when `oldSize` is not in [0, leafHashes.length]
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  checkLeaves(leafHashes);
  const n = leafHashes.length;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > n) {
    throw new ProtocolError('INVALID_VALUE', `oldSize ${oldSize} is outside [0, ${n}]`, {
      field: 'oldSize',
    });
  }
  if (oldSize === 0 || oldSize === n) return [];
  const proof: Uint8Array[] = [];
  subproof(leafHashes, oldSize, 0, n, true, proof);
  return proof;
}

// SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1; appends in the RFC's order (deepest first).
function subproof(
  leaves: readonly Uint8Array[],
  m: number,
  lo: number,
  hi: number,
  complete: boolean,
  out: Uint8Array[],
): void {
  const n = hi - lo;
  if (m === n) {
    if (!complete) out.push(merkleRoot(leaves.slice(lo, hi)));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(leaves, m, lo, lo + k, complete, out);
    out.push(merkleRoot(leaves.slice(lo + k, hi)));
  } else {
    subproof(leaves, m - k, lo + k, hi, false, out);
    out.push(merkleRoot(leaves.slice(lo, lo + k)));
  }
}

/**
 * Verifies a consistency proof with the algorithm of RFC 9162 §2.1.4.2. Equal sizes need an empty
 * proof and equal roots; an old size of 0 needs an empty proof and the empty-tree root. Never
 * throws: malformed input gives `false`.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize)) return false;
  if (oldSize < 0 || oldSize > newSize) return false;
  if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array)) return false;
  if (!allHashes(proof)) return false;
  if (oldSize === 0) return proof.length === 0 && equalHash(oldRoot, emptyRoot());
  if (oldSize === newSize) return proof.length === 0 && equalHash(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // When oldSize is a power of two the old root is itself a node of the new tree and is not sent.
  const path: readonly Uint8Array[] = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let k = 1; k < path.length; k++) {
    const c = path[k] as Uint8Array;
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHash(fr, oldRoot) && equalHash(sr, newRoot);
}

function isPowerOfTwo(x: number): boolean {
  let p = 1;
  while (p < x) p *= 2;
  return p === x;
}

const B64U = /^[A-Za-z0-9_-]*$/;

/** Base64url without padding (RFC 4648 §5), the encoding of hashes and proofs on the wire. */
export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes unpadded base64url strictly: padding, characters outside the alphabet, an impossible
 * length and non-zero unused trailing bits are rejected, so each byte string has exactly one
 * accepted encoding.
 * @throws ProtocolError `INVALID_VALUE`
 */
export function fromB64u(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64U.test(s) || s.length % 4 === 1) {
    throw new ProtocolError('INVALID_VALUE', 'not unpadded base64url');
  }
  // The last character of a 2- or 3-character tail carries 4 or 2 unused bits, which must be
  // zero (checked on that character rather than by re-encoding: a JWE ciphertext is ~1 MB).
  const tail = s.length % 4;
  if (tail !== 0) {
    const v = B64U_ALPHABET.indexOf(s.charAt(s.length - 1));
    if ((v & (tail === 2 ? 0x0f : 0x03)) !== 0) {
      throw new ProtocolError(
        'INVALID_VALUE',
        'non-canonical base64url (unused bits are not zero)',
      );
    }
  }
  const b = Buffer.from(s, 'base64url');
  // Small Buffers share Node's allocation pool, which must not leak through `.buffer`: copy
  // those; a large one has its own memory.
  return b.byteLength < 4096
    ? new Uint8Array(b)
    : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
