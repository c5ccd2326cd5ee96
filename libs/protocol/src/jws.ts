/**
 * The protocol's JWS profile (docs/protocol-parts/40-signatures.md, ADR 0006): compact JWS,
 * Ed25519 only, protected header exactly `{"alg":"EdDSA","kid":…,"typ":…}` in RFC 8785 form,
 * one `typ` per message kind, no `crit`, no unencoded payloads.
 *
 * Two verifiers share one set of header rules ({@link decodeCompactHeader}): {@link verifyCompact}
 * through jose, and {@link verifyCompactFast} calling node:crypto directly for hot paths.
 */
import { Buffer } from 'node:buffer';
import { KeyObject, verify as nodeVerify } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { ProtocolError, isProtocolError } from './errors.js';
import { assertKeyObject } from './keys.js';

/** The kinds of signed message; each has its own `typ` so that one can never pass as another. */
export type MessageKind = 'bundle' | 'receipt' | 'directory' | 'checkpoint' | 'query' | 'feed';

/** Every {@link MessageKind}, in a stable order. */
export const MESSAGE_KINDS: readonly MessageKind[] = Object.freeze([
  'bundle',
  'receipt',
  'directory',
  'checkpoint',
  'query',
  'feed',
]);

/** The JWS `typ` header value of each message kind. */
export const JWS_TYP: Readonly<Record<MessageKind, string>> = Object.freeze({
  bundle: 'fedintel-bundle+jws',
  receipt: 'fedintel-receipt+jws',
  directory: 'fedintel-directory+jws',
  checkpoint: 'fedintel-checkpoint+jws',
  query: 'fedintel-query+jws',
  feed: 'fedintel-feed+jws',
});

/** The algorithm allow-list: `EdDSA` over an Ed25519 key, nothing else (ADR 0006). */
export const JWS_ALGORITHMS: readonly string[] = Object.freeze(['EdDSA']);

/** Default upper bound on the length of a compact JWS, in characters. */
export const MAX_JWS_LENGTH = 8 * 1024 * 1024;

/** A private Ed25519 key with the `kid` under which the directory publishes its public half. */
export interface SigningKey {
  kid: string;
  key: KeyObject;
}

/** The protected header of a protocol JWS, after validation. */
export interface JwsHeader {
  alg: 'EdDSA';
  kid: string;
  typ: string;
}

/**
 * Resolves a `kid` to the public Ed25519 key that verifies it, normally through the signed
 * federation directory, never from the message itself. Throws ProtocolError `KEY_UNKNOWN`,
 * `KEY_REVOKED` or `KEY_NOT_VALID` to refuse; any other error is reported as `KEY_UNKNOWN`.
 */
export type KeyResolver = (
  kid: string,
  header: { kid: string; typ: string; alg: string },
) => KeyObject | Promise<KeyObject>;

/** What a successful verification returns. */
export interface VerifiedJws {
  payload: Uint8Array;
  kid: string;
}

/** Options of the verifiers. */
export interface VerifyOptions {
  /** Longest accepted compact JWS, in characters (default {@link MAX_JWS_LENGTH}). */
  maxLength?: number;
}

/** A compact JWS split and checked against the profile, not yet verified. */
export interface DecodedCompact {
  header: JwsHeader;
  /** The JWS Signing Input: `BASE64URL(header) || '.' || BASE64URL(payload)`, as ASCII. */
  signingInput: string;
  payload: Uint8Array;
  signature: Uint8Array;
}

// A kid is resolved through the directory; it is short and needs no JSON escaping, which keeps
// the canonical header check a plain string comparison. RFC 7638 thumbprints are 43 characters.
const KID = /^[A-Za-z0-9_-]{1,128}$/;
const B64U = /^[A-Za-z0-9_-]*$/;
const B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ED25519_SIGNATURE_BYTES = 64;
const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ']);

/**
 * Signs `payload` as a compact JWS of the given kind.
 *
 * @example
 * const jws = await signCompact(canonicalBytes(header), 'bundle', { kid, key: privateKey });
 * @throws ProtocolError `KEY_NOT_VALID` when the key is not a private Ed25519 key,
 *   `INVALID_VALUE` when the kid is not a profile kid (1..128 base64url characters)
 */
export async function signCompact(
  payload: Uint8Array,
  kind: MessageKind,
  key: SigningKey,
): Promise<string> {
  assertKeyObject(key.key, 'Ed25519', 'private', 'signing key');
  if (typeof key.kid !== 'string' || !KID.test(key.kid)) {
    throw new ProtocolError('INVALID_VALUE', 'kid: 1..128 base64url characters', { field: 'kid' });
  }
  const typ = JWS_TYP[kind];
  if (typ === undefined) {
    throw new ProtocolError('INVALID_VALUE', `unknown message kind "${String(kind)}"`);
  }
  // Insertion order alg, kid, typ is the RFC 8785 order, so jose's JSON.stringify yields the
  // canonical header that verifiers insist on.
  return new CompactSign(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ })
    .sign(key.key);
}

/**
 * Splits a compact JWS and applies every header rule of the profile, without verifying the
 * signature. Both verifiers call this; callers may use it to read the `kid` first (e.g. to pick
 * a directory version), but must not trust anything before a verifier has returned.
 *
 * @throws ProtocolError `SIGNATURE_INVALID` (malformed, extra header members, non-canonical
 *   header, missing kid), `ALGORITHM_NOT_ALLOWED`, `TYPE_MISMATCH`, `CRIT_UNSUPPORTED`
 */
export function decodeCompactHeader(
  jws: unknown,
  kind: MessageKind,
  opts: VerifyOptions = {},
): DecodedCompact {
  const maxLength = opts.maxLength ?? MAX_JWS_LENGTH;
  if (typeof jws !== 'string') throw invalid('JWS: not a string');
  if (jws.length > maxLength) throw invalid(`JWS: longer than ${maxLength} characters`);
  const first = jws.indexOf('.');
  const last = jws.lastIndexOf('.');
  if (first <= 0 || last === first || jws.indexOf('.', first + 1) !== last) {
    throw invalid('JWS: compact serialization needs exactly three parts');
  }
  const h = jws.slice(0, first);
  const p = jws.slice(first + 1, last);
  const s = jws.slice(last + 1);
  if (p.length === 0) throw invalid('JWS: empty (detached) payloads are not part of the profile');

  const headerBytes = strictB64uDecode(h, 'header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(headerBytes).toString('utf8'));
  } catch (cause) {
    throw invalid('JWS: protected header is not JSON', cause, 'header');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('JWS: protected header is not a JSON object', undefined, 'header');
  }
  const header = parsed as Record<string, unknown>;

  // crit and b64 first: a header that asks for semantics we do not implement is refused as such,
  // whatever else it says.
  if ('crit' in header) {
    const names = Array.isArray(header.crit) ? header.crit.map(String).join(', ') : '?';
    throw new ProtocolError(
      'CRIT_UNSUPPORTED',
      `JWS: crit lists unsupported parameters: ${names}`,
      {
        field: 'header.crit',
      },
    );
  }
  if ('b64' in header) {
    throw new ProtocolError('CRIT_UNSUPPORTED', 'JWS: unencoded payloads (b64) are not supported', {
      field: 'header.b64',
    });
  }
  if (typeof header.alg !== 'string' || !JWS_ALGORITHMS.includes(header.alg)) {
    throw new ProtocolError(
      'ALGORITHM_NOT_ALLOWED',
      `JWS: alg ${JSON.stringify(header.alg)} is not allowed (allowed: ${JWS_ALGORITHMS.join(', ')})`,
      { field: 'header.alg' },
    );
  }
  const typ = JWS_TYP[kind];
  if (header.typ !== typ) {
    throw new ProtocolError(
      'TYPE_MISMATCH',
      `JWS: typ ${JSON.stringify(header.typ)} where ${typ} was expected`,
      { field: 'header.typ' },
    );
  }
  if (typeof header.kid !== 'string' || !KID.test(header.kid)) {
    throw invalid('JWS: kid is mandatory (1..128 base64url characters)', undefined, 'header.kid');
  }
  for (const name of Object.keys(header)) {
    if (!HEADER_MEMBERS.has(name)) {
      throw invalid(
        `JWS: header parameter "${name}" is not part of the profile`,
        undefined,
        `header.${name}`,
      );
    }
  }
  // One header, one spelling: this also rejects duplicate members, which JSON.parse would hide.
  const canonical = `{"alg":"EdDSA","kid":"${header.kid}","typ":"${typ}"}`;
  if (Buffer.from(headerBytes).toString('latin1') !== canonical) {
    throw invalid('JWS: protected header is not in RFC 8785 canonical form', undefined, 'header');
  }

  const signature = strictB64uDecode(s, 'signature');
  if (signature.length !== ED25519_SIGNATURE_BYTES) {
    throw invalid('JWS: an Ed25519 signature is 64 bytes', undefined, 'signature');
  }
  const payload = strictB64uDecode(p, 'payload');
  return {
    header: { alg: 'EdDSA', kid: header.kid, typ },
    signingInput: jws.slice(0, last),
    payload,
    signature,
  };
}

/**
 * Verifies a compact JWS of the given kind through jose (the reference path).
 *
 * @throws ProtocolError: the codes of {@link decodeCompactHeader}, the resolver's codes,
 *   `KEY_NOT_VALID` when the resolved key is not a public Ed25519 key, `SIGNATURE_INVALID`
 */
export async function verifyCompact(
  jws: string,
  kind: MessageKind,
  resolve: KeyResolver,
  opts: VerifyOptions = {},
): Promise<VerifiedJws> {
  const decoded = decodeCompactHeader(jws, kind, opts);
  const key = await resolveKey(resolve, decoded.header);
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: [...JWS_ALGORITHMS] });
    return { payload, kid: decoded.header.kid };
  } catch (cause) {
    throw invalid('JWS: signature does not verify', cause, 'signature');
  }
}

/**
 * Verifies a compact JWS of the given kind with node:crypto's Ed25519 directly: the same header
 * rules as {@link verifyCompact}, about twice as fast (ADR 0006 has the measurements).
 *
 * @throws the same codes as {@link verifyCompact}
 */
export async function verifyCompactFast(
  jws: string,
  kind: MessageKind,
  resolve: KeyResolver,
  opts: VerifyOptions = {},
): Promise<VerifiedJws> {
  const decoded = decodeCompactHeader(jws, kind, opts);
  const key = await resolveKey(resolve, decoded.header);
  let ok: boolean;
  try {
    ok = nodeVerify(null, Buffer.from(decoded.signingInput, 'latin1'), key, decoded.signature);
  } catch (cause) {
    throw invalid('JWS: signature does not verify', cause, 'signature');
  }
  if (!ok) throw invalid('JWS: signature does not verify', undefined, 'signature');
  return { payload: decoded.payload, kid: decoded.header.kid };
}

async function resolveKey(resolve: KeyResolver, header: JwsHeader): Promise<KeyObject> {
  let key: unknown;
  try {
    key = await resolve(header.kid, { kid: header.kid, typ: header.typ, alg: header.alg });
  } catch (cause) {
    if (isProtocolError(cause)) throw cause;
    throw new ProtocolError('KEY_UNKNOWN', `JWS: kid ${header.kid} could not be resolved`, {
      cause,
      field: 'header.kid',
    });
  }
  // A resolver handing back a secret or an X25519 key is a bug that confusion attacks exploit.
  assertKeyObject(key, 'Ed25519', 'public', 'resolved key');
  return key;
}

/**
 * Decodes unpadded base64url, refusing every other spelling (padding, other alphabets, non-zero
 * trailing bits), so that one byte string has one encoding.
 *
 * @throws ProtocolError `SIGNATURE_INVALID`
 */
function strictB64uDecode(s: string, field: string): Uint8Array {
  const rem = s.length % 4;
  if (!B64U.test(s) || rem === 1) throw invalid(`JWS: ${field} is not base64url`, undefined, field);
  if (rem !== 0) {
    const lastValue = B64U_ALPHABET.indexOf(s.charAt(s.length - 1));
    const mask = rem === 2 ? 0x0f : 0x03;
    if ((lastValue & mask) !== 0) {
      throw invalid(`JWS: ${field} is not canonical base64url`, undefined, field);
    }
  }
  const buf = Buffer.from(s, 'base64url');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function invalid(message: string, cause?: unknown, field?: string): ProtocolError {
  return new ProtocolError('SIGNATURE_INVALID', message, { cause, field });
}
