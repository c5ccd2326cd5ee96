/**
 * Signed bundles (docs/protocol-parts/50-bundles.md): the wire unit of records from one origin to
 * one addressee. The origin signs one small header over the RFC 9162 Merkle root of the records'
 * canonical bytes; each record keeps an inclusion proof so that it can later be verified alone.
 */
import { Buffer } from 'node:buffer';
import { ProtocolError } from './errors.js';
import { canonicalBytes, canonicalize, parseStrictJson } from './json.js';
import { type EncryptionKey, type DecryptOptions, decryptFor, encryptTo } from './jwe.js';
import { type KeyResolver, type SigningKey, signCompact, verifyCompactFast } from './jws.js';
import {
  MERKLE_HASH_LENGTH,
  fromB64u,
  inclusionProofs,
  leafHashText,
  merkleRoot,
  toB64u,
  verifyInclusion,
} from './merkle.js';
import type { Addressee, IndicatorRecord, MemberId } from './model.js';
import { isMemberId, isRfc3339Ms, parseRecord } from './record.js';

/** Version of the bundle header format. */
export const BUNDLE_VERSION = 1;
/** Most records in one bundle. */
export const MAX_BUNDLE_RECORDS = 10_000;
/** Default upper bound on a serialized bundle, in bytes (32 MiB). */
export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
/** Upper bound on one record's canonical text, in bytes. */
export const MAX_RECORD_BYTES = 64 * 1024;

/**
 * The signed bundle header: the JWS payload is its RFC 8785 canonical bytes.
 * `addressee` is a member id, `hub` or `all` (groups are expanded before bundling).
 */
export interface BundleHeader {
  v: 1;
  origin: MemberId;
  addressee: Addressee;
  /** Decimal string, numbered per origin → addressee, starting at "1". */
  seq: string;
  /** RFC 3339 UTC with milliseconds. */
  issuedAt: string;
  /** Number of records, 1..{@link MAX_BUNDLE_RECORDS}. */
  count: number;
  /** RFC 9162 Merkle tree hash over the records' leaf hashes, base64url (43 characters). */
  root: string;
}

/** The fields of a header the origin chooses; `v`, `count` and `root` are computed. */
export type BundleHeaderInput = Pick<BundleHeader, 'origin' | 'addressee' | 'seq' | 'issuedAt'>;

/** A bundle on the wire, serialized as RFC 8785 canonical JSON. */
export interface WireBundle {
  /** Compact JWS, `typ` `fedintel-bundle+jws`, payload the canonical bytes of a {@link BundleHeader}. */
  header: string;
  /** Each record's canonical JSON text, in leaf order. */
  records: string[];
}

/**
 * What, together with a record's canonical text, proves that the record was in a bundle signed
 * by its origin: the signed header and the RFC 9162 inclusion proof of the record's leaf.
 */
export interface RecordProof {
  /** The bundle's compact JWS header. */
  header: string;
  /** Leaf index of the record, 0-based. */
  index: number;
  /** Number of leaves; equals the header's `count`. */
  treeSize: number;
  /** Audit path from the leaf's sibling upwards, each hash base64url. */
  path: string[];
}

/** A bundle as built by its origin. */
export interface CreatedBundle {
  wire: WireBundle;
  /** Canonical JSON of `wire`, the bytes to send (or to encrypt). */
  bytes: Uint8Array;
  /** One proof per record, in record order. */
  proofs: RecordProof[];
}

/** Options of {@link openBundle}. */
export interface OpenBundleOptions {
  /**
   * Addressees this receiver accepts, e.g. `['vn', 'all']` for member vn. A bundle addressed to
   * anyone else fails with `MISADDRESSED`. Leave unset only where the addressee does not matter
   * (an auditor replaying a log).
   */
  expectedAddressee?: string | readonly string[];
  /** Largest accepted serialized bundle in bytes (default {@link MAX_BUNDLE_BYTES}). */
  maxBytes?: number;
  /** Also compute every record's {@link RecordProof} (O(n log n) hashing). */
  withProofs?: boolean;
}

/** A verified bundle. */
export interface OpenedBundle {
  header: BundleHeader;
  /** The signed header as received (compact JWS): with `leafHashes` it proves any record later. */
  headerJws: string;
  /** Validated records, in leaf order. */
  records: IndicatorRecord[];
  /** The kid that signed the header. */
  kid: string;
  /** Leaf hash of each received record text. */
  leafHashes: Uint8Array[];
  /** The received canonical text of each record: store these bytes, not a re-serialization. */
  recordTexts: string[];
  /** Present when `withProofs` was asked for. */
  proofs?: RecordProof[];
}

const HEADER_KEYS = ['addressee', 'count', 'issuedAt', 'origin', 'root', 'seq', 'v'];
// Up to 19 digits keeps every sequence number below 2^64 for implementations with u64 counters.
const SEQ = /^[1-9][0-9]{0,18}$/;
const ROOT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Builds and signs a bundle. Every record is validated with `parseRecord` and must have the
 * header's origin: an origin signs only what it would accept.
 *
 * @example
 * const { bytes, proofs } = await createBundle(records,
 *   { origin: 'kr', addressee: 'vn', seq: '42', issuedAt: '2026-11-28T10:00:00.000Z' }, key);
 * @throws ProtocolError `BUNDLE_MALFORMED` (header fields, record count, foreign origin) and the
 *   codes of `parseRecord` and `signCompact`
 */
export async function createBundle(
  records: readonly IndicatorRecord[],
  h: BundleHeaderInput,
  key: SigningKey,
): Promise<CreatedBundle> {
  if (records.length === 0 || records.length > MAX_BUNDLE_RECORDS) {
    throw malformed(`a bundle holds 1..${MAX_BUNDLE_RECORDS} records`, 'records');
  }
  const texts = records.map((r, i) => {
    const record = parseRecord(r, { field: `records[${i}]` });
    if (record.origin !== h.origin) {
      throw malformed(`records[${i}].origin is not the bundle origin`, `records[${i}].origin`);
    }
    return canonicalize(record);
  });
  const leaves = texts.map(leafHashText);
  const { root, proofs } = inclusionProofs(leaves);
  const header = checkHeader({
    v: BUNDLE_VERSION,
    origin: h.origin,
    addressee: h.addressee,
    seq: h.seq,
    issuedAt: h.issuedAt,
    count: texts.length,
    root: toB64u(root),
  });
  const jws = await signCompact(canonicalBytes(header), 'bundle', key);
  const wire: WireBundle = { header: jws, records: texts };
  return {
    wire,
    bytes: canonicalBytes(wire),
    proofs: proofs.map((path, index) => ({
      header: jws,
      index,
      treeSize: texts.length,
      path: path.map(toB64u),
    })),
  };
}

/** A bundle signed by {@link createBundleFromTexts}: what an outbox relay stores and sends. */
export interface SignedBundle {
  /** The signed header, as the receiver will read it. */
  header: BundleHeader;
  /** The compact JWS of the header. */
  jws: string;
  /** Canonical JSON of the wire bundle, the bytes to encrypt; equal to createBundle's bytes. */
  bytes: Uint8Array;
}

/**
 * Signs a bundle of record texts that are already canonical, valid records of `h.origin` (an
 * outbox stores exactly `canonicalize(parseRecord(…))` of its own records, validated when they
 * were created). Only hashes and signs: no re-parse, no re-validation, no re-serialization, which
 * made {@link createBundle} cost about 90 µs per record on the relay. The bytes are identical to
 * what {@link createBundle} writes for the same records (tested), and the receiver's
 * {@link openBundle} validates every record in full whatever the sender did.
 *
 * @throws ProtocolError `BUNDLE_MALFORMED` (record count, a text that is not a string or larger
 *   than {@link MAX_RECORD_BYTES}, header fields), and the codes of `signCompact`
 */
export async function createBundleFromTexts(
  texts: readonly string[],
  h: BundleHeaderInput,
  key: SigningKey,
): Promise<SignedBundle> {
  if (texts.length === 0 || texts.length > MAX_BUNDLE_RECORDS) {
    throw malformed(`a bundle holds 1..${MAX_BUNDLE_RECORDS} records`, 'records');
  }
  const parts = new Array<string>(texts.length);
  const leaves = new Array<Uint8Array>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (typeof t !== 'string' || t.length === 0 || t.length > MAX_RECORD_BYTES) {
      throw malformed(`records[${i}] must be a record text`, `records[${i}]`);
    }
    leaves[i] = leafHashText(t);
    // For a well-formed string JSON.stringify writes RFC 8785's escapes.
    parts[i] = JSON.stringify(t);
  }
  const header = checkHeader({
    v: BUNDLE_VERSION,
    origin: h.origin,
    addressee: h.addressee,
    seq: h.seq,
    issuedAt: h.issuedAt,
    count: texts.length,
    root: toB64u(merkleRoot(leaves)),
  });
  const jws = await signCompact(canonicalBytes(header), 'bundle', key);
  const wire = `{"header":${JSON.stringify(jws)},"records":[${parts.join(',')}]}`;
  return { header, jws, bytes: Buffer.from(wire, 'utf8') };
}

/**
 * Verifies and opens a received bundle: strict JSON (duplicate keys rejected), the header JWS
 * (fast path), the header fields, the Merkle root recomputed over the received record bytes,
 * the count, each record's canonical form, origin and full validation, and the addressee.
 *
 * @throws ProtocolError `JSON_*` (bytes), `BUNDLE_MALFORMED`, the JWS and resolver codes,
 *   `ROOT_MISMATCH`, `MISADDRESSED`, and the codes of `parseRecord` (field `records[i]…`)
 */
export async function openBundle(
  bytes: Uint8Array | string,
  resolve: KeyResolver,
  opts: OpenBundleOptions = {},
): Promise<OpenedBundle> {
  const wire = parseWire(bytes, opts.maxBytes ?? MAX_BUNDLE_BYTES);
  const { header, kid } = await verifyHeader(wire.header, resolve);
  if (opts.expectedAddressee !== undefined) {
    const accepted =
      typeof opts.expectedAddressee === 'string'
        ? [opts.expectedAddressee]
        : opts.expectedAddressee;
    if (!accepted.includes(header.addressee)) {
      throw new ProtocolError(
        'MISADDRESSED',
        `bundle addressed to ${header.addressee}, not to ${accepted.join(' or ')}`,
        { field: 'header.addressee' },
      );
    }
  }
  if (wire.records.length !== header.count) {
    throw malformed(`header count ${header.count} but ${wire.records.length} records`, 'records');
  }
  // Hash exactly the bytes received: the signature covers them, not any re-serialization.
  const leafHashes = wire.records.map(leafHashText);
  // With proofs the tree is hashed once, for the root and every path.
  const tree = opts.withProofs === true ? inclusionProofs(leafHashes) : undefined;
  const root = tree ? tree.root : merkleRoot(leafHashes);
  if (!Buffer.from(root).equals(Buffer.from(fromB64u(header.root)))) {
    throw new ProtocolError('ROOT_MISMATCH', 'records do not hash to the signed root', {
      field: 'header.root',
    });
  }
  const seen = new Set<string>();
  const records = wire.records.map((text, i) => {
    const record = readRecord(text, `records[${i}]`, header.origin);
    const idVersion = `${record.id}/${record.version}`;
    if (seen.has(idVersion)) {
      throw malformed(`records[${i}] repeats record ${idVersion}`, `records[${i}]`);
    }
    seen.add(idVersion);
    return record;
  });
  const opened: OpenedBundle = {
    header,
    headerJws: wire.header,
    records,
    kid,
    leafHashes,
    recordTexts: wire.records,
  };
  if (tree) {
    opened.proofs = tree.proofs.map((path, index) => ({
      header: wire.header,
      index,
      treeSize: header.count,
      path: path.map(toB64u),
    }));
  }
  return opened;
}

/**
 * Verifies one record alone: its canonical text, the bundle header it was signed under and its
 * inclusion proof (when the hub cites it in an aggregate, when an auditor checks it).
 * The addressee is returned in the header; whether it matters is the caller's decision.
 *
 * @throws ProtocolError `PROOF_INVALID` (malformed proof, wrong tree size, path does not lead to
 *   the signed root), the JWS and resolver codes, `BUNDLE_MALFORMED`, the codes of `parseRecord`
 */
export async function verifyRecordProof(
  recordText: string,
  proof: RecordProof,
  resolve: KeyResolver,
): Promise<{ header: BundleHeader; record: IndicatorRecord; kid: string }> {
  const p = checkProofShape(proof);
  const { header, kid } = await verifyHeader(p.header, resolve);
  if (p.treeSize !== header.count) {
    throw proofInvalid(`treeSize ${p.treeSize} but the header counts ${header.count}`, 'treeSize');
  }
  let path: Uint8Array[];
  try {
    path = p.path.map(fromB64u);
  } catch (cause) {
    throw new ProtocolError('PROOF_INVALID', 'proof path: not base64url', { cause, field: 'path' });
  }
  if (typeof recordText !== 'string') throw proofInvalid('record text must be a string', 'record');
  const leaf = leafHashText(recordText);
  if (!verifyInclusion(leaf, p.index, p.treeSize, path, fromB64u(header.root))) {
    throw proofInvalid('the record is not included under the signed root', 'path');
  }
  const record = readRecord(recordText, 'record', header.origin);
  return { header, record, kid };
}

/**
 * Encrypts a signed bundle's bytes to its addressees (sign-then-encrypt, ADR 0007). The addressee
 * stays inside the signed header, so re-encryption to someone else cannot change it.
 */
export function encryptBundle(bytes: Uint8Array, recipients: EncryptionKey[]): Promise<string> {
  return encryptTo(bytes, recipients);
}

/**
 * Decrypts with one's own X25519 key, then {@link openBundle}. Pass `expectedAddressee`: without
 * it a bundle re-encrypted by a third party would not be caught.
 *
 * @throws ProtocolError `DECRYPTION_FAILED` and every code of {@link openBundle}
 */
export async function decryptBundle(
  jwe: string | Uint8Array,
  me: EncryptionKey,
  resolve: KeyResolver,
  opts: OpenBundleOptions = {},
): Promise<OpenedBundle> {
  const maxBytes = opts.maxBytes ?? MAX_BUNDLE_BYTES;
  // The JWE of n plaintext bytes is about 4n/3 plus a small envelope.
  const decryptOpts: DecryptOptions = { maxBytes: Math.ceil((maxBytes * 4) / 3) + 64 * 1024 };
  const plaintext = await decryptFor(jwe, me, decryptOpts);
  return openBundle(plaintext, resolve, opts);
}

/**
 * Checks a bundle header object against the format: exactly the keys of {@link BundleHeader},
 * each well-formed. Exported for tools that build or inspect headers.
 *
 * @throws ProtocolError `BUNDLE_MALFORMED` with the offending field
 */
export function checkHeader(value: unknown): BundleHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('bundle header: not an object', 'header');
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.length !== HEADER_KEYS.length || keys.some((k, i) => k !== HEADER_KEYS[i])) {
    throw malformed(`bundle header: keys must be exactly ${HEADER_KEYS.join(', ')}`, 'header');
  }
  if (o.v !== BUNDLE_VERSION) throw malformed('bundle header: v must be 1', 'header.v');
  if (!isMemberId(o.origin)) {
    throw malformed('bundle header: origin must be a member id', 'header.origin');
  }
  if (!(o.addressee === 'hub' || o.addressee === 'all' || isMemberId(o.addressee))) {
    throw malformed('bundle header: addressee must be a member id, hub or all', 'header.addressee');
  }
  if (o.addressee === o.origin) {
    throw malformed('bundle header: an origin does not address itself', 'header.addressee');
  }
  if (typeof o.seq !== 'string' || !SEQ.test(o.seq)) {
    throw malformed('bundle header: seq must be a decimal string 1..10^19-1', 'header.seq');
  }
  if (!isRfc3339Ms(o.issuedAt)) {
    throw malformed('bundle header: issuedAt must be RFC 3339 UTC with ms', 'header.issuedAt');
  }
  if (
    typeof o.count !== 'number' ||
    !Number.isInteger(o.count) ||
    o.count < 1 ||
    o.count > MAX_BUNDLE_RECORDS
  ) {
    throw malformed(`bundle header: count must be 1..${MAX_BUNDLE_RECORDS}`, 'header.count');
  }
  if (typeof o.root !== 'string' || !ROOT.test(o.root) || !isHash(o.root)) {
    throw malformed('bundle header: root must be 32 bytes base64url', 'header.root');
  }
  return {
    v: BUNDLE_VERSION,
    origin: o.origin,
    addressee: o.addressee,
    seq: o.seq,
    issuedAt: o.issuedAt,
    count: o.count,
    root: o.root,
  };
}

async function verifyHeader(
  jws: string,
  resolve: KeyResolver,
): Promise<{ header: BundleHeader; kid: string }> {
  const { payload, kid } = await verifyCompactFast(jws, 'bundle', resolve);
  let parsed: unknown;
  try {
    parsed = parseStrictJson(payload, { maxBytes: 4096, maxDepth: 2 });
  } catch (cause) {
    throw new ProtocolError('BUNDLE_MALFORMED', 'bundle header: not strict JSON', {
      cause,
      field: 'header',
    });
  }
  const header = checkHeader(parsed);
  // One header, one spelling: the signed bytes are the canonical form or nothing.
  if (Buffer.from(payload).toString('utf8') !== canonicalize(header)) {
    throw malformed('bundle header: payload is not RFC 8785 canonical JSON', 'header');
  }
  return { header, kid };
}

function parseWire(bytes: Uint8Array | string, maxBytes: number): WireBundle {
  // Depth 3 lets a misplaced object inside records be reported as such rather than as depth.
  const parsed = fastWire(bytes, maxBytes) ?? parseStrictJson(bytes, { maxBytes, maxDepth: 3 });
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformed('bundle: not a JSON object', 'bundle');
  }
  const o = parsed as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.length !== 2 || keys[0] !== 'header' || keys[1] !== 'records') {
    throw malformed('bundle: members must be exactly header and records', 'bundle');
  }
  if (typeof o.header !== 'string') throw malformed('bundle: header must be a string', 'header');
  if (!Array.isArray(o.records)) throw malformed('bundle: records must be an array', 'records');
  if (o.records.length > MAX_BUNDLE_RECORDS) {
    throw malformed(`bundle: more than ${MAX_BUNDLE_RECORDS} records`, 'records');
  }
  const records = o.records as unknown[];
  records.forEach((r, i) => {
    if (typeof r !== 'string') throw malformed(`records[${i}] must be a string`, `records[${i}]`);
  });
  return { header: o.header, records: records as string[] };
}

// Same decoding rules as the strict parser: invalid UTF-8 is an error and a BOM stays in the text.
const wireDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Fast path of {@link parseWire} (the strict parse of a 100-record envelope cost about a seventh
 * of openBundle, docs/benchmarks.md): native `JSON.parse`, accepted only for exactly
 * `{"header":string,"records":[string...]}` that `JSON.stringify` reproduces byte for byte and
 * that has no `\uD800`-`\uDFFF` escape. Such a text is strict JSON without duplicate keys, so
 * the strict parser would return the same value. Anything else returns undefined and takes the
 * strict path, which gives the verdict and the precise error code.
 */
function fastWire(bytes: Uint8Array | string, maxBytes: number): unknown {
  let text: string;
  if (typeof bytes === 'string') {
    if (bytes.length * 3 > maxBytes && Buffer.byteLength(bytes, 'utf8') > maxBytes)
      return undefined;
    text = bytes;
  } else {
    if (bytes.byteLength > maxBytes) return undefined;
    try {
      text = wireDecoder.decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (SURROGATE_ESCAPE.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 2 || keys[0] !== 'header' || keys[1] !== 'records') return undefined;
  if (typeof o.header !== 'string' || !Array.isArray(o.records)) return undefined;
  if (!(o.records as unknown[]).every((r) => typeof r === 'string')) return undefined;
  return JSON.stringify(value) === text ? value : undefined;
}

/** Parses one received record text: strict, canonical, fully valid, from the expected origin. */
function readRecord(text: string, field: string, origin: MemberId): IndicatorRecord {
  const parsed = parseCanonicalJson(text, field);
  const record = parseRecord(parsed, { field });
  if (record.origin !== origin) {
    throw malformed(
      `${field}.origin ${record.origin} is not the bundle origin ${origin}`,
      `${field}.origin`,
    );
  }
  return record;
}

/**
 * Parses a record text that must be strict JSON in RFC 8785 canonical form, i.e. exactly
 * `canonicalize(parseStrictJson(text)) === text`. The root covers these exact bytes; requiring
 * the canonical spelling keeps one record one byte string everywhere (deduplication, later
 * proofs, other implementations).
 *
 * Fast path (about half the CPU time of the strict parse plus canonicalize): native `JSON.parse`,
 * then accept only when every object's keys are sorted, no number is outside ±(2^53−1), the
 * nesting is shallow, no `\uD800`-`\uDFFF` escape occurs and `JSON.stringify` reproduces the text.
 * For such values ECMAScript's JSON.stringify and RFC 8785 write the same bytes (same string
 * escapes, same number format, keys already in code-unit order), and a duplicate key cannot
 * survive the comparison. Anything else takes the strict path, which gives the verdict and the
 * precise error code; so both paths accept exactly the same texts.
 */
function parseCanonicalJson(text: string, field: string): unknown {
  if (text.length <= MAX_RECORD_BYTES && !SURROGATE_ESCAPE.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined && plainSorted(value, 0) && JSON.stringify(value) === text) {
      return value;
    }
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text, { maxBytes: MAX_RECORD_BYTES });
  } catch (cause) {
    const code = cause instanceof ProtocolError ? cause.code : 'BUNDLE_MALFORMED';
    throw new ProtocolError(code, `${field}: not strict JSON`, { cause, field });
  }
  if (canonicalize(parsed) !== text) {
    throw malformed(`${field}: not RFC 8785 canonical JSON`, field);
  }
  return parsed;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const FAST_PATH_MAX_DEPTH = 16;

/** True when keys are sorted by UTF-16 code units at every level and every number is safe. */
function plainSorted(v: unknown, depth: number): boolean {
  if (typeof v === 'number') return Math.abs(v) <= Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'object' || v === null) return true;
  if (depth >= FAST_PATH_MAX_DEPTH) return false;
  if (Array.isArray(v)) return v.every((x) => plainSorted(x, depth + 1));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0 && !((keys[i - 1] as string) < k)) return false;
    if (!plainSorted(o[k], depth + 1)) return false;
  }
  return true;
}

function checkProofShape(proof: unknown): RecordProof {
  if (typeof proof !== 'object' || proof === null || Array.isArray(proof)) {
    throw proofInvalid('proof: not an object', 'proof');
  }
  const o = proof as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  const expected = ['header', 'index', 'path', 'treeSize'];
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw proofInvalid(`proof: keys must be exactly ${expected.join(', ')}`, 'proof');
  }
  if (typeof o.header !== 'string') throw proofInvalid('proof: header must be a string', 'header');
  if (typeof o.index !== 'number' || !Number.isSafeInteger(o.index) || o.index < 0) {
    throw proofInvalid('proof: index must be a non-negative integer', 'index');
  }
  if (
    typeof o.treeSize !== 'number' ||
    !Number.isSafeInteger(o.treeSize) ||
    o.index >= o.treeSize
  ) {
    throw proofInvalid('proof: treeSize must be an integer above index', 'treeSize');
  }
  if (!Array.isArray(o.path) || !o.path.every((s) => typeof s === 'string')) {
    throw proofInvalid('proof: path must be an array of strings', 'path');
  }
  return { header: o.header, index: o.index, treeSize: o.treeSize, path: o.path };
}

function isHash(b64u: string): boolean {
  try {
    return fromB64u(b64u).length === MERKLE_HASH_LENGTH;
  } catch {
    return false;
  }
}

function malformed(message: string, field: string): ProtocolError {
  return new ProtocolError('BUNDLE_MALFORMED', message, { field });
}

function proofInvalid(message: string, field: string): ProtocolError {
  return new ProtocolError('PROOF_INVALID', message, { field });
}
