/**
 * Key material of the protocol (docs/protocol-parts/40-signatures.md, "Keys"): Ed25519 signing
 * keys and X25519 encryption keys as OKP JWKs (RFC 8037), identified by their RFC 7638 thumbprint.
 */
import { Buffer } from 'node:buffer';
import {
  KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as nodeGenerateKeyPair,
} from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { ProtocolError } from './errors.js';

/** The two curves of the protocol: Ed25519 signs, X25519 encrypts. */
export type OkpCurve = 'Ed25519' | 'X25519';

/**
 * An Octet Key Pair JWK (RFC 8037). `x` is the 32-byte public key and `d` the 32-byte private
 * key, both unpadded base64url (43 characters).
 */
export interface OkpJwk {
  kty: 'OKP';
  crv: OkpCurve;
  x: string;
  d?: string;
  kid?: string;
  use?: 'sig' | 'enc';
  alg?: string;
}

/** A freshly generated key pair with its thumbprint `kid`. */
export interface GeneratedKey {
  /** RFC 7638 SHA-256 thumbprint of the public JWK, base64url. */
  kid: string;
  publicJwk: OkpJwk;
  privateJwk: OkpJwk;
}

const KEY_BYTES = 32;
const B64U_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const ALLOWED_MEMBERS = new Set(['kty', 'crv', 'x', 'd', 'kid', 'use', 'alg']);
const NODE_TYPE: Record<OkpCurve, string> = { Ed25519: 'ed25519', X25519: 'x25519' };
const USE: Record<OkpCurve, 'sig' | 'enc'> = { Ed25519: 'sig', X25519: 'enc' };
const ALG: Record<OkpCurve, string> = { Ed25519: 'EdDSA', X25519: 'ECDH-ES+A256KW' };

/**
 * Generates an Ed25519 signing key.
 *
 * @example
 * const { kid, publicJwk, privateJwk } = await generateSigningKey();
 * const key = { kid, key: importPrivateKey(privateJwk) };
 */
export function generateSigningKey(): Promise<GeneratedKey> {
  return generate('Ed25519');
}

/** Generates an X25519 encryption key (JWE `ECDH-ES+A256KW`). */
export function generateEncryptionKey(): Promise<GeneratedKey> {
  return generate('X25519');
}

async function generate(crv: OkpCurve): Promise<GeneratedKey> {
  const privateKey = await new Promise<KeyObject>((resolve, reject) => {
    // Two literal calls rather than one with a variable: node's overloads are per key type.
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void =>
      err ? reject(err) : resolve(priv);
    if (crv === 'Ed25519') nodeGenerateKeyPair('ed25519', undefined, done);
    else nodeGenerateKeyPair('x25519', undefined, done);
  });
  const exported = privateKey.export({ format: 'jwk' });
  const x = exported.x;
  const d = exported.d;
  if (typeof x !== 'string' || typeof d !== 'string') {
    throw new ProtocolError('INVALID_VALUE', 'key generation returned an incomplete JWK');
  }
  const kid = await jwkThumbprint({ kty: 'OKP', crv, x });
  const publicJwk: OkpJwk = { kty: 'OKP', crv, x, kid, use: USE[crv], alg: ALG[crv] };
  return { kid, publicJwk, privateJwk: { ...publicJwk, d } };
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of the public part of `jwk`: the protocol's `kid`.
 * Only `crv`, `kty` and `x` take part, so a private JWK has the same thumbprint as its public one.
 */
export async function jwkThumbprint(jwk: OkpJwk): Promise<string> {
  const checked = validateJwk(jwk, 'public-or-private');
  return calculateJwkThumbprint({ kty: 'OKP', crv: checked.crv, x: checked.x }, 'sha256');
}

/**
 * Imports a public OKP JWK as a node `KeyObject`. Keep the result: a `KeyObject` is immutable
 * and reusable, and importing costs more than verifying. Results are cached by curve and `x`.
 *
 * @param expectedCrv when given, a JWK on another curve is rejected
 * @throws ProtocolError `INVALID_VALUE` when the JWK is not a strict public OKP JWK
 *   (a JWK carrying `d` is refused: a private key handed around as public is a leak to stop)
 */
export function importPublicKey(jwk: OkpJwk, expectedCrv?: OkpCurve): KeyObject {
  const checked = validateJwk(jwk, 'public', expectedCrv);
  const cacheKey = `${checked.crv}:${checked.x}`;
  const cached = publicKeyCache.get(cacheKey);
  if (cached) return cached;
  const key = createPublicKey({
    key: { kty: 'OKP', crv: checked.crv, x: checked.x },
    format: 'jwk',
  });
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear();
  publicKeyCache.set(cacheKey, key);
  return key;
}

// Bounded so that a stream of hostile directories cannot grow memory without limit.
const PUBLIC_KEY_CACHE_MAX = 4096;
const publicKeyCache = new Map<string, KeyObject>();

/**
 * Imports a private OKP JWK as a node `KeyObject` (not cached: private keys are not kept
 * longer than their caller keeps them).
 *
 * @throws ProtocolError `INVALID_VALUE` when the JWK is malformed or its `x` is not the public
 *   key of its `d` (node silently ignores a wrong `x`; the protocol does not)
 */
export function importPrivateKey(jwk: OkpJwk, expectedCrv?: OkpCurve): KeyObject {
  const checked = validateJwk(jwk, 'private', expectedCrv);
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: { kty: 'OKP', crv: checked.crv, x: checked.x, d: checked.d },
      format: 'jwk',
    });
  } catch (cause) {
    throw new ProtocolError('INVALID_VALUE', 'private JWK: not a valid key', { cause, field: 'd' });
  }
  const derivedX = createPublicKey(key).export({ format: 'jwk' }).x;
  if (derivedX !== checked.x) {
    throw new ProtocolError('INVALID_VALUE', 'private JWK: x is not the public key of d', {
      field: 'x',
    });
  }
  return key;
}

/**
 * The public JWK of a private one (drops `d`, recomputes `x` from `d`).
 *
 * @throws ProtocolError `INVALID_VALUE` when the JWK is malformed
 */
export function publicJwkOf(privateJwk: OkpJwk): OkpJwk {
  const key = importPrivateKey(privateJwk);
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new ProtocolError('INVALID_VALUE', 'private JWK: no x');
  const out: OkpJwk = { kty: 'OKP', crv: privateJwk.crv, x };
  if (privateJwk.kid !== undefined) out.kid = privateJwk.kid;
  if (privateJwk.use !== undefined) out.use = privateJwk.use;
  if (privateJwk.alg !== undefined) out.alg = privateJwk.alg;
  return out;
}

/**
 * Checks that `key` is a node key of the given curve and kind, for APIs that take a `KeyObject`
 * from a caller (a secret key or a wrong curve there is exactly the confusion attacks rely on).
 *
 * @throws ProtocolError `KEY_NOT_VALID`
 */
export function assertKeyObject(
  key: unknown,
  crv: OkpCurve,
  kind: 'public' | 'private',
  field = 'key',
): asserts key is KeyObject {
  if (
    !(key instanceof KeyObject) ||
    key.type !== kind ||
    key.asymmetricKeyType !== NODE_TYPE[crv]
  ) {
    throw new ProtocolError('KEY_NOT_VALID', `${field}: expected a ${kind} ${crv} key`, { field });
  }
}

type Checked = { crv: OkpCurve; x: string; d: string | undefined };

function validateJwk(
  jwk: unknown,
  kind: 'public' | 'private' | 'public-or-private',
  expectedCrv?: OkpCurve,
): Checked {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ProtocolError('INVALID_VALUE', 'JWK: not an object');
  }
  const o = jwk as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!ALLOWED_MEMBERS.has(k)) {
      throw new ProtocolError('INVALID_VALUE', `JWK: unexpected member "${k}"`, { field: k });
    }
  }
  if (o.kty !== 'OKP')
    throw new ProtocolError('INVALID_VALUE', 'JWK: kty must be OKP', { field: 'kty' });
  if (o.crv !== 'Ed25519' && o.crv !== 'X25519') {
    throw new ProtocolError('INVALID_VALUE', 'JWK: crv must be Ed25519 or X25519', {
      field: 'crv',
    });
  }
  if (expectedCrv !== undefined && o.crv !== expectedCrv) {
    throw new ProtocolError('INVALID_VALUE', `JWK: crv must be ${expectedCrv}`, { field: 'crv' });
  }
  if (!isB64u32(o.x)) {
    throw new ProtocolError('INVALID_VALUE', 'JWK: x must be 32 bytes, unpadded base64url', {
      field: 'x',
    });
  }
  if (kind === 'public' && o.d !== undefined) {
    throw new ProtocolError('INVALID_VALUE', 'JWK: a public key must not carry d', { field: 'd' });
  }
  if (kind === 'private' && o.d === undefined) {
    throw new ProtocolError('INVALID_VALUE', 'JWK: a private key needs d', { field: 'd' });
  }
  if (o.d !== undefined && !isB64u32(o.d)) {
    throw new ProtocolError('INVALID_VALUE', 'JWK: d must be 32 bytes, unpadded base64url', {
      field: 'd',
    });
  }
  if (o.kid !== undefined && typeof o.kid !== 'string') {
    throw new ProtocolError('INVALID_VALUE', 'JWK: kid must be a string', { field: 'kid' });
  }
  if (o.use !== undefined && o.use !== USE[o.crv]) {
    throw new ProtocolError('INVALID_VALUE', `JWK: use must be ${USE[o.crv]}`, { field: 'use' });
  }
  if (o.alg !== undefined && o.alg !== ALG[o.crv]) {
    throw new ProtocolError('INVALID_VALUE', `JWK: alg must be ${ALG[o.crv]}`, { field: 'alg' });
  }
  return { crv: o.crv, x: o.x, d: o.d };
}

function isB64u32(v: unknown): v is string {
  // The regex pins the length (43) and the zero padding bits of the last character, so one key
  // has one spelling; the decode is a belt-and-braces check of the byte count.
  return (
    typeof v === 'string' && B64U_32.test(v) && Buffer.from(v, 'base64url').length === KEY_BYTES
  );
}
