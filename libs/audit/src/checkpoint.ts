import {
  ProtocolError,
  canonicalBytes,
  fromB64u,
  isRfc3339Ms,
  parseStrictJson,
  signCompact,
  toB64u,
  verifyCompactFast,
  type KeyResolver,
  type SigningKey,
} from '../../protocol/src/index.js';
import { AuditError } from './errors.js';

/**
 * A signed statement of a log's size and root. The `type` field separates the three statements
 * signed under the JWS kind `checkpoint` (typ `fedintel-checkpoint+jws`), so none can pass for
 * another: a log's checkpoint, a witness's cosignature of one, and an export manifest.
 */
export interface Checkpoint {
  v: 1;
  type: 'checkpoint';
  /** The log: a member id or `hub`. */
  log: string;
  size: number;
  /** RFC 9162 root of the first `size` entries, base64url. */
  root: string;
  at: string;
}

/** A witness's countersignature of a checkpoint it found consistent with the last one it saw. */
export interface Cosignature {
  v: 1;
  type: 'cosignature';
  witness: string;
  log: string;
  size: number;
  root: string;
  /** The checkpoint's own time. */
  at: string;
  witnessedAt: string;
}

/** The signed manifest of an export: what the JSON Lines file holds and the root it hashes to. */
export interface ExportManifest {
  v: 1;
  type: 'audit-export';
  log: string;
  /** Position of the first exported entry (greater than 0 when older entries were pruned). */
  start: number;
  /** Tree size covered: entries `start .. size-1` are in the file. */
  size: number;
  root: string;
  /** SHA-256 of the exact bytes of the JSON Lines file, base64url. */
  sha256: string;
  /** Frontier of the tree at `start` (base64url hash or null per level): what pruning kept. */
  prefix: (string | null)[];
  exportedAt: string;
  exportedBy: string;
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;
const B64U_32 = /^[A-Za-z0-9_-]{43}$/;

function bad(what: string): never {
  throw new AuditError('INVALID_CHECKPOINT', what);
}

function obj(v: unknown, keys: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('not an object');
  const o = v as Record<string, unknown>;
  const got = Object.keys(o).sort().join(',');
  if (got !== [...keys].sort().join(',')) bad(`fields must be exactly ${keys.join(', ')}`);
  return o;
}

function size(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${name}: not a size`);
  return v;
}

function str(v: unknown, re: RegExp, name: string): string {
  if (typeof v !== 'string' || !re.test(v)) bad(`${name}: bad value`);
  return v;
}

function time(v: unknown, name: string): string {
  if (!isRfc3339Ms(v)) bad(`${name}: must be RFC 3339 UTC with ms`);
  return v;
}

/** @throws AuditError `INVALID_CHECKPOINT` */
export function parseCheckpoint(v: unknown): Checkpoint {
  const o = obj(v, ['v', 'type', 'log', 'size', 'root', 'at']);
  if (o.v !== 1 || o.type !== 'checkpoint') bad('not a v1 checkpoint');
  return {
    v: 1,
    type: 'checkpoint',
    log: str(o.log, ID, 'log'),
    size: size(o.size, 'size'),
    root: str(o.root, B64U_32, 'root'),
    at: time(o.at, 'at'),
  };
}

/** @throws AuditError `INVALID_CHECKPOINT` */
export function parseCosignature(v: unknown): Cosignature {
  const o = obj(v, ['v', 'type', 'witness', 'log', 'size', 'root', 'at', 'witnessedAt']);
  if (o.v !== 1 || o.type !== 'cosignature') bad('not a v1 cosignature');
  return {
    v: 1,
    type: 'cosignature',
    witness: str(o.witness, ID, 'witness'),
    log: str(o.log, ID, 'log'),
    size: size(o.size, 'size'),
    root: str(o.root, B64U_32, 'root'),
    at: time(o.at, 'at'),
    witnessedAt: time(o.witnessedAt, 'witnessedAt'),
  };
}

/** @throws AuditError `INVALID_CHECKPOINT` */
export function parseExportManifest(v: unknown): ExportManifest {
  const o = obj(v, [
    'v',
    'type',
    'log',
    'start',
    'size',
    'root',
    'sha256',
    'prefix',
    'exportedAt',
    'exportedBy',
  ]);
  if (o.v !== 1 || o.type !== 'audit-export') bad('not a v1 export manifest');
  const start = size(o.start, 'start');
  const end = size(o.size, 'size');
  if (start > end) bad('start exceeds size');
  if (!Array.isArray(o.prefix) || o.prefix.length > 64) bad('prefix: not a frontier');
  const prefix = (o.prefix as unknown[]).map((h, i) =>
    h === null ? null : str(h, B64U_32, `prefix[${i}]`),
  );
  return {
    v: 1,
    type: 'audit-export',
    log: str(o.log, ID, 'log'),
    start,
    size: end,
    root: str(o.root, B64U_32, 'root'),
    sha256: str(o.sha256, B64U_32, 'sha256'),
    prefix,
    exportedAt: time(o.exportedAt, 'exportedAt'),
    exportedBy: str(o.exportedBy, /^[A-Za-z0-9._@:-]{1,128}$/, 'exportedBy'),
  };
}

type Signed = Checkpoint | Cosignature | ExportManifest;

/** Sign a checkpoint, a cosignature or a manifest (JWS kind `checkpoint`). */
export async function signStatement(s: Signed, key: SigningKey): Promise<string> {
  return signCompact(canonicalBytes(s), 'checkpoint', key);
}

async function open<T>(jws: string, resolve: KeyResolver, parse: (v: unknown) => T): Promise<T> {
  let payload: Uint8Array;
  try {
    ({ payload } = await verifyCompactFast(jws, 'checkpoint', resolve));
  } catch (cause) {
    const why = cause instanceof ProtocolError ? `${cause.code}: ${cause.message}` : String(cause);
    throw new AuditError('SIGNATURE_INVALID', `signature does not verify (${why})`, { cause });
  }
  return parse(parseStrictJson(payload));
}

/** Verify and parse a signed checkpoint. @throws AuditError `SIGNATURE_INVALID`, `INVALID_CHECKPOINT` */
export function openCheckpoint(jws: string, resolve: KeyResolver): Promise<Checkpoint> {
  return open(jws, resolve, parseCheckpoint);
}

/** Verify and parse a cosignature. @throws AuditError `SIGNATURE_INVALID`, `INVALID_CHECKPOINT` */
export function openCosignature(jws: string, resolve: KeyResolver): Promise<Cosignature> {
  return open(jws, resolve, parseCosignature);
}

/** Verify and parse an export manifest. @throws AuditError `SIGNATURE_INVALID`, `INVALID_CHECKPOINT` */
export function openExportManifest(jws: string, resolve: KeyResolver): Promise<ExportManifest> {
  return open(jws, resolve, parseExportManifest);
}

/** Frontier hashes as the manifest carries them. */
export function encodeFrontier(edge: readonly (Uint8Array | undefined)[]): (string | null)[] {
  return edge.map((h) => (h === undefined ? null : toB64u(h)));
}

/** @throws AuditError `INVALID_CHECKPOINT` on a malformed hash */
export function decodeFrontier(prefix: readonly (string | null)[]): (Uint8Array | undefined)[] {
  return prefix.map((h) => {
    if (h === null) return undefined;
    try {
      return fromB64u(h);
    } catch (cause) {
      throw new AuditError('INVALID_CHECKPOINT', 'prefix: bad hash', { cause });
    }
  });
}
