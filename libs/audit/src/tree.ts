import { Buffer } from 'node:buffer';
import { MERKLE_HASH_LENGTH, emptyRoot, nodeHash } from '../../protocol/src/index.js';
import { AuditError } from './errors.js';
import { fastNodeHash } from './hash.js';

/**
 * The log's RFC 9162 tree, over stored node hashes. `node(level, index)` is the hash of the complete
 * subtree of 2^level leaves starting at leaf `index * 2^level` (level 0: the leaf hashes). Every
 * node of the RFC 9162 tree of any size is either such a complete subtree or is combined from at
 * most ⌈log2 n⌉ of them, so roots and proofs read O(log n) stored hashes and never rehash leaves
 * (ADR 0021).
 */
export interface NodeReader {
  node(level: number, index: number): Uint8Array;
}

/** A stored complete-subtree hash: what an append adds to the store. */
export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

const pow2 = (l: number): number => 2 ** l;

function isPowerOfTwo(x: number): boolean {
  return x >= 1 && pow2(Math.round(Math.log2(x))) === x;
}

/** Largest power of two strictly smaller than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[lo:hi]) of RFC 9162 from stored complete subtrees. */
export function rangeHash(r: NodeReader, lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 0) return emptyRoot();
  if (isPowerOfTwo(n) && lo % n === 0) return r.node(Math.round(Math.log2(n)), lo / n);
  const k = splitPoint(n);
  return nodeHash(rangeHash(r, lo, lo + k), rangeHash(r, lo + k, hi));
}

/** Root of the tree of the first `size` leaves. */
export function treeRoot(r: NodeReader, size: number): Uint8Array {
  return rangeHash(r, 0, size);
}

function checkSize(size: number, name: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new AuditError('INVALID_PROOF_REQUEST', `${name} must be a non-negative integer`);
  }
}

/**
 * Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size` leaves, leaf sibling
 * first; verify with libs/protocol's `verifyInclusion`.
 * @throws AuditError `INVALID_PROOF_REQUEST` when `index` is not below `size`
 */
export function inclusionPath(r: NodeReader, index: number, size: number): Uint8Array[] {
  checkSize(index, 'index');
  checkSize(size, 'size');
  if (index >= size) {
    throw new AuditError('INVALID_PROOF_REQUEST', `index ${index} is not in a tree of ${size}`);
  }
  const out: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  const stack: Uint8Array[] = [];
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      stack.push(rangeHash(r, lo + k, hi));
      hi = lo + k;
    } else {
      stack.push(rangeHash(r, lo, lo + k));
      lo = lo + k;
    }
  }
  // Collected root-first; the RFC orders the path from the leaf up.
  for (let i = stack.length - 1; i >= 0; i--) out.push(stack[i] as Uint8Array);
  return out;
}

/**
 * Consistency proof (RFC 9162 §2.1.4.1) from the tree of `oldSize` leaves to the tree of
 * `newSize`; verify with libs/protocol's `verifyConsistency`.
 * @throws AuditError `INVALID_PROOF_REQUEST` unless 0 ≤ oldSize ≤ newSize
 */
export function consistencyPath(r: NodeReader, oldSize: number, newSize: number): Uint8Array[] {
  checkSize(oldSize, 'oldSize');
  checkSize(newSize, 'newSize');
  if (oldSize > newSize) {
    throw new AuditError('INVALID_PROOF_REQUEST', `oldSize ${oldSize} exceeds newSize ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  const out: Uint8Array[] = [];
  subproof(r, oldSize, 0, newSize, true, out);
  return out;
}

function subproof(
  r: NodeReader,
  m: number,
  lo: number,
  hi: number,
  complete: boolean,
  out: Uint8Array[],
): void {
  const n = hi - lo;
  if (m === n) {
    if (!complete) out.push(rangeHash(r, lo, hi));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(r, m, lo, lo + k, complete, out);
    out.push(rangeHash(r, lo + k, hi));
  } else {
    subproof(r, m - k, lo + k, hi, false, out);
    out.push(rangeHash(r, lo, lo + k));
  }
}

const PLACEHOLDER = new Uint8Array(MERKLE_HASH_LENGTH);

/**
 * The stored nodes a computation reads, found by running it once over placeholder hashes (which
 * nodes are read never depends on their values). A database store fetches them in one query and
 * runs the computation again over a {@link MapReader}.
 */
export function nodesNeeded<T>(compute: (r: NodeReader) => T): { level: number; index: number }[] {
  const seen = new Map<string, { level: number; index: number }>();
  compute({
    node(level, index) {
      seen.set(`${level}:${index}`, { level, index });
      return PLACEHOLDER;
    },
  });
  return [...seen.values()];
}

/** A reader over fetched nodes. @throws AuditError `NODE_MISSING` for a node it was not given. */
export class MapReader implements NodeReader {
  private readonly nodes = new Map<string, Uint8Array>();
  constructor(nodes: Iterable<TreeNode>) {
    for (const n of nodes) this.nodes.set(`${n.level}:${n.index}`, n.hash);
  }
  node(level: number, index: number): Uint8Array {
    const h = this.nodes.get(`${level}:${index}`);
    if (!h) throw new AuditError('NODE_MISSING', `tree node ${level}:${index} is not stored`);
    return h;
  }
}

/**
 * The right edge of the tree: one complete-subtree hash per set bit of the size. It is all an
 * appender or a streaming verifier keeps in memory, and all that pruned entries leave behind.
 */
export class Frontier {
  private readonly edge: (Uint8Array | undefined)[];
  private n: number;

  /** @param edge by level, the hash of the complete subtree at that bit of `size` (else undefined) */
  constructor(size = 0, edge: readonly (Uint8Array | undefined)[] = []) {
    checkSize(size, 'size');
    let top = 0;
    while (pow2(top) <= size) top++;
    for (let l = 0; l < Math.max(top, edge.length); l++) {
      const bit = Math.floor(size / pow2(l)) % 2 === 1;
      if (bit !== (edge[l] !== undefined)) {
        throw new AuditError(
          'INVALID_CHECKPOINT',
          `frontier of size ${size} is wrong at level ${l}`,
        );
      }
    }
    this.n = size;
    this.edge = edge.slice();
  }

  /** The frontier of a tree of `size` leaves, read from stored nodes. */
  static fromReader(r: NodeReader, size: number): Frontier {
    const edge: (Uint8Array | undefined)[] = [];
    for (let l = 0; pow2(l) <= size; l++) {
      const count = Math.floor(size / pow2(l));
      edge[l] = count % 2 === 1 ? r.node(l, count - 1) : undefined;
    }
    return new Frontier(size, edge);
  }

  /** The nodes {@link fromReader} reads for a tree of `size` leaves. */
  static nodesFor(size: number): { level: number; index: number }[] {
    const out: { level: number; index: number }[] = [];
    for (let l = 0; pow2(l) <= size; l++) {
      const count = Math.floor(size / pow2(l));
      if (count % 2 === 1) out.push({ level: l, index: count - 1 });
    }
    return out;
  }

  get size(): number {
    return this.n;
  }

  /** The hashes by level (undefined where the size has a 0 bit). */
  get hashes(): readonly (Uint8Array | undefined)[] {
    return this.edge;
  }

  /** Append a leaf hash; returns every complete subtree it completes (the leaf itself first). */
  append(leaf: Uint8Array): TreeNode[] {
    const size = this.n + 1;
    const out: TreeNode[] = [{ level: 0, index: this.n, hash: leaf }];
    let carry = leaf;
    let l = 0;
    for (;;) {
      const left = this.edge[l];
      if (left === undefined) break;
      carry = fastNodeHash(left, carry);
      this.edge[l] = undefined;
      l++;
      out.push({ level: l, index: Math.floor(size / pow2(l)) - 1, hash: carry });
    }
    this.edge[l] = carry;
    this.n = size;
    return out;
  }

  /** Append without reporting the new nodes (verifiers). */
  push(leaf: Uint8Array): void {
    let carry = leaf;
    let l = 0;
    for (;;) {
      const left = this.edge[l];
      if (left === undefined) break;
      carry = fastNodeHash(left, carry);
      this.edge[l] = undefined;
      l++;
    }
    this.edge[l] = carry;
    this.n += 1;
  }

  /** The RFC 9162 root of the tree so far. */
  root(): Uint8Array {
    let acc: Uint8Array | undefined;
    for (const h of this.edge) {
      if (h === undefined) continue;
      acc = acc === undefined ? h : fastNodeHash(h, acc);
    }
    return acc ?? emptyRoot();
  }

  clone(): Frontier {
    return new Frontier(this.n, this.edge);
  }
}

/**
 * Node hashes kept in memory, one growable buffer per level (32 bytes a node): the tree of the
 * bench and of verifiers that need proofs. 10,000,000 leaves take about 640 MB.
 */
export class MemoryTree implements NodeReader {
  private readonly levels: { buf: Buffer; count: number }[] = [];
  private readonly frontier = new Frontier();

  get size(): number {
    return this.frontier.size;
  }

  append(leaf: Uint8Array): void {
    for (const n of this.frontier.append(leaf)) this.put(n);
  }

  root(): Uint8Array {
    return this.frontier.root();
  }

  private put(n: TreeNode): void {
    let lv = this.levels[n.level];
    if (!lv) {
      lv = { buf: Buffer.alloc(MERKLE_HASH_LENGTH * 1024), count: 0 };
      this.levels[n.level] = lv;
    }
    if ((n.index + 1) * MERKLE_HASH_LENGTH > lv.buf.length) {
      const grown = Buffer.alloc(lv.buf.length * 2);
      lv.buf.copy(grown);
      lv.buf = grown;
    }
    lv.buf.set(n.hash, n.index * MERKLE_HASH_LENGTH);
    lv.count = Math.max(lv.count, n.index + 1);
  }

  node(level: number, index: number): Uint8Array {
    const lv = this.levels[level];
    if (!lv || index >= lv.count) {
      throw new AuditError('NODE_MISSING', `tree node ${level}:${index} is not stored`);
    }
    const off = index * MERKLE_HASH_LENGTH;
    return new Uint8Array(lv.buf.buffer, lv.buf.byteOffset + off, MERKLE_HASH_LENGTH);
  }
}
