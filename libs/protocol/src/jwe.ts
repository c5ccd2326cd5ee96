/**
 * Encryption to addressees (docs/protocol-parts/60-encryption.md, ADR 0007): JWE General JSON
 * serialization, `ECDH-ES+A256KW` per recipient (X25519) and `A256GCM` content encryption.
 * What is encrypted is already signed (sign-then-encrypt); this module knows nothing of bundles.
 *
 * Implemented on node:crypto (RFC 7516, RFC 7518 §4.6 and §4.4, RFC 8037): the output is the
 * same profile jose writes (a lone recipient's `epk` in the protected header, several recipients'
 * in their own headers) and jose decrypts it, tested both ways. jose's pure-JS base64 of the
 * ciphertext cost about 40 % of encrypting and decrypting a 700 kB bundle (docs/benchmarks.md).
 */
import { Buffer } from 'node:buffer';
import {
  KeyObject,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { ProtocolError } from './errors.js';
import { parseStrictJson } from './json.js';
import { fromB64u } from './merkle.js';
import { assertKeyObject } from './keys.js';

/** Key management algorithm of every recipient: the only one accepted on decryption. */
export const JWE_ALG = 'ECDH-ES+A256KW';
/** Content encryption algorithm: the only one accepted on decryption. */
export const JWE_ENC = 'A256GCM';
/** Default upper bound on a serialized JWE, in bytes (64 MiB, the broker's pull buffer). */
export const MAX_JWE_BYTES = 64 * 1024 * 1024;
/** Upper bound on recipients in one JWE (each costs an X25519 agreement to produce). */
export const MAX_JWE_RECIPIENTS = 256;

/** A recipient's public X25519 key, or one's own private key, with its directory `kid`. */
export interface EncryptionKey {
  kid: string;
  key: KeyObject;
}

/** Options of {@link decryptFor}. */
export interface DecryptOptions {
  /** Largest accepted serialized JWE in bytes (default {@link MAX_JWE_BYTES}). */
  maxBytes?: number;
}

const TOP_MEMBERS = new Set(['protected', 'iv', 'ciphertext', 'tag', 'recipients']);
const RECIPIENT_MEMBERS = new Set(['header', 'encrypted_key']);
const RECIPIENT_HEADER_MEMBERS = new Set(['alg', 'kid', 'epk']);

/**
 * Encrypts `plaintext` to every recipient, as a JWE General JSON serialization string.
 * Each recipient gets its own ephemeral X25519 agreement and wrapped content key, and its
 * `kid` in its per-recipient header so that a member finds its entry without trial decryption.
 *
 * @example
 * const jwe = await encryptTo(signedBundleBytes, [{ kid: vnKid, key: vnPublicKey }]);
 * @throws ProtocolError `INVALID_VALUE` (no recipients, too many, duplicate kids),
 *   `KEY_NOT_VALID` (a key that is not a public X25519 key)
 */
export function encryptTo(plaintext: Uint8Array, recipients: EncryptionKey[]): Promise<string> {
  return settle(() => encryptSync(plaintext, recipients));
}

/** A promise of `f()`: errors become rejections, as callers of an async API expect. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function encryptSync(plaintext: Uint8Array, recipients: EncryptionKey[]): string {
  if (recipients.length === 0) {
    throw new ProtocolError('INVALID_VALUE', 'JWE: at least one recipient is needed', {
      field: 'recipients',
    });
  }
  if (recipients.length > MAX_JWE_RECIPIENTS) {
    throw new ProtocolError('INVALID_VALUE', `JWE: more than ${MAX_JWE_RECIPIENTS} recipients`, {
      field: 'recipients',
    });
  }
  const seen = new Set<string>();
  recipients.forEach((r, i) => {
    assertKeyObject(r.key, 'X25519', 'public', `recipients[${i}].key`);
    if (typeof r.kid !== 'string' || r.kid.length === 0 || seen.has(r.kid)) {
      throw new ProtocolError('INVALID_VALUE', `JWE: recipients[${i}].kid missing or repeated`, {
        field: `recipients[${i}].kid`,
      });
    }
    seen.add(r.kid);
  });
  const cek = randomBytes(32);
  const wrapped = recipients.map((r) => ({ kid: r.kid, ...wrapKey(r.key, cek) }));
  const single = wrapped.length === 1 ? wrapped[0] : undefined;
  const protectedHeader = single ? { enc: JWE_ENC, epk: single.epk } : { enc: JWE_ENC };
  const prot = Buffer.from(JSON.stringify(protectedHeader), 'utf8').toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(prot, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return JSON.stringify({
    ciphertext: ciphertext.toString('base64url'),
    iv: iv.toString('base64url'),
    recipients: wrapped.map((w) => ({
      encrypted_key: w.encryptedKey,
      header: single ? { alg: JWE_ALG, kid: w.kid } : { alg: JWE_ALG, kid: w.kid, epk: w.epk },
    })),
    tag: cipher.getAuthTag().toString('base64url'),
    protected: prot,
  });
}

interface EpkJwk {
  x: string;
  crv: 'X25519';
  kty: 'OKP';
}

/** AES Key Wrap's default initial value (RFC 3394 §2.2.3.1). */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Concat KDF's OtherInfo for `ECDH-ES+A256KW` with no apu/apv and a 256-bit key (RFC 7518 §4.6.2). */
const OTHER_INFO = Buffer.concat([
  u32(JWE_ALG.length),
  Buffer.from(JWE_ALG, 'ascii'),
  u32(0),
  u32(0),
  u32(256),
]);

/** The key-encryption key from an X25519 shared secret: one round of Concat KDF with SHA-256. */
function kekOf(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const z = diffieHellman({ privateKey, publicKey });
  // An all-zero secret means a low-order public key (RFC 7748 §6.1): refuse it.
  if (z.every((byte) => byte === 0)) throw new Error('X25519: all-zero shared secret');
  return createHash('sha256').update(u32(1)).update(z).update(OTHER_INFO).digest();
}

/** One recipient: an ephemeral X25519 agreement, its KEK, the content key wrapped with A256KW. */
function wrapKey(recipient: KeyObject, cek: Buffer): { epk: EpkJwk; encryptedKey: string } {
  const eph = generateKeyPairSync('x25519');
  const kek = kekOf(eph.privateKey, recipient);
  const c = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const encryptedKey = Buffer.concat([c.update(cek), c.final()]).toString('base64url');
  const jwk = eph.publicKey.export({ format: 'jwk' });
  return { epk: { x: String(jwk.x), crv: 'X25519', kty: 'OKP' }, encryptedKey };
}

/**
 * Decrypts a JWE produced by {@link encryptTo} with one's own private X25519 key. Only the
 * recipient entry carrying `me.kid` is tried; the algorithms are pinned to
 * `ECDH-ES+A256KW` / `A256GCM` and the structure to exactly what {@link encryptTo} writes.
 *
 * @throws ProtocolError `DECRYPTION_FAILED` (malformed, not a recipient, wrong key, tampered,
 *   other algorithms), `JSON_TOO_LARGE`, `KEY_NOT_VALID` (`me.key` not a private X25519 key)
 */
export function decryptFor(
  jwe: string | Uint8Array,
  me: EncryptionKey,
  opts: DecryptOptions = {},
): Promise<Uint8Array> {
  return settle(() => decryptSync(jwe, me, opts));
}

function decryptSync(
  jwe: string | Uint8Array,
  me: EncryptionKey,
  opts: DecryptOptions,
): Uint8Array {
  assertKeyObject(me.key, 'X25519', 'private', 'own key');
  const maxBytes = opts.maxBytes ?? MAX_JWE_BYTES;
  let parsed: unknown;
  try {
    parsed = fastJson(jwe, maxBytes) ?? parseStrictJson(jwe, { maxBytes, maxDepth: 8 });
  } catch (cause) {
    if (cause instanceof ProtocolError && cause.code === 'JSON_TOO_LARGE') throw cause;
    throw failed('JWE: not strict JSON', cause);
  }
  const f = pickRecipient(parsed, me.kid);
  if (f.header.alg !== JWE_ALG) throw failed(`JWE: alg must be ${JWE_ALG}`);
  if ('epk' in f.protectedHeader && 'epk' in f.header) {
    throw failed('JWE: epk in both the protected and the recipient header');
  }
  const epk = f.protectedHeader.epk ?? f.header.epk;
  let cek: Buffer;
  try {
    const kek = kekOf(me.key, epkKey(epk));
    const d = createDecipheriv('id-aes256-wrap', kek, KW_IV);
    cek = Buffer.concat([d.update(fromB64u(f.encrypted_key)), d.final()]);
    if (cek.length !== 32) throw new Error('content key is not 256 bits');
  } catch (cause) {
    throw failed('JWE: cannot decrypt (wrong key or tampered)', cause);
  }
  try {
    const iv = fromB64u(f.iv);
    const tag = fromB64u(f.tag);
    if (iv.length !== 12 || tag.length !== 16) throw new Error('iv or tag of the wrong size');
    const d = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(f.protected, 'ascii'));
    d.setAuthTag(tag);
    const ct = fromB64u(f.ciphertext);
    const out = Buffer.concat([d.update(ct), d.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw failed('JWE: cannot decrypt (wrong key or tampered)', cause);
  }
}

/** The sender's ephemeral public key: exactly `{kty: OKP, crv: X25519, x}`. */
function epkKey(epk: unknown): KeyObject {
  const o = asObject(epk, 'JWE epk');
  const keys = Object.keys(o).sort();
  if (keys.join(',') !== 'crv,kty,x' || o.kty !== 'OKP' || o.crv !== 'X25519') {
    throw failed('JWE: epk must be an X25519 public JWK');
  }
  if (typeof o.x !== 'string' || fromB64u(o.x).length !== 32) {
    throw failed('JWE: epk.x must be 32 bytes');
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: o.x }, format: 'jwk' });
}

// Same decoding rules as the strict parser: invalid UTF-8 is an error.
const jweDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const PRINTABLE_ASCII_NO_ESCAPE = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * Fast path of the strict parse for a JWE (about 1 MB for a large bundle): a JWE as written is
 * printable ASCII without any backslash, so native `JSON.parse` is accepted when it kept every
 * member the text names (no duplicate member name). Anything else takes the strict parser,
 * which decides; what the fast path accepts the strict parser accepts with the same value.
 */
function fastJson(jwe: string | Uint8Array, maxBytes: number): unknown {
  let text: string;
  if (typeof jwe === 'string') text = jwe;
  else {
    if (jwe.byteLength > maxBytes) return undefined;
    try {
      text = jweDecoder.decode(jwe);
    } catch {
      return undefined;
    }
  }
  if (text.length > maxBytes || !PRINTABLE_ASCII_NO_ESCAPE.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Without backslashes every '"' delimits a string, so '":' occurs exactly once per member
  // name written as `"name":`. JSON.parse keeps one member per name: if it holds fewer members
  // than the text names, a name was repeated. Whitespace before a colon also fails the
  // comparison and takes the strict path (which decides), never the other way round.
  return countMembers(value) === occurrences(text, '":') ? value : undefined;
}

function countMembers(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countMembers(x), 0);
  const o = v as Record<string, unknown>;
  let n = 0;
  for (const k of Object.keys(o)) n += 1 + countMembers(o[k]);
  return n;
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

interface PickedRecipient {
  protected: string;
  protectedHeader: Record<string, unknown>;
  iv: string;
  ciphertext: string;
  tag: string;
  header: Record<string, unknown>;
  encrypted_key: string;
}

/** Checks the General JSON structure and returns our recipient's entry as a flattened JWE. */
function pickRecipient(parsed: unknown, kid: string): PickedRecipient {
  const o = asObject(parsed, 'JWE');
  for (const k of Object.keys(o)) {
    if (!TOP_MEMBERS.has(k)) throw failed(`JWE: member "${k}" is not part of the profile`);
  }
  const { protected: prot, iv, ciphertext, tag, recipients } = o;
  if (typeof prot !== 'string' || typeof iv !== 'string' || typeof ciphertext !== 'string') {
    throw failed('JWE: protected, iv and ciphertext are required strings');
  }
  if (typeof tag !== 'string') throw failed('JWE: tag is required');
  const protectedHeader = decodeProtectedHeader(prot);
  if (!Array.isArray(recipients) || recipients.length === 0) {
    throw failed('JWE: recipients must be a non-empty array');
  }
  if (recipients.length > MAX_JWE_RECIPIENTS) throw failed('JWE: too many recipients');
  // jose writes a lone recipient's epk into the protected header, several recipients' into their
  // own headers; anything else is not what encryptTo produces.
  if ('epk' in protectedHeader && recipients.length !== 1) {
    throw failed('JWE: epk in the protected header needs exactly one recipient');
  }
  let mine: { header: Record<string, unknown>; encrypted_key: string } | undefined;
  for (const r of recipients as unknown[]) {
    const entry = asObject(r, 'JWE recipient');
    for (const k of Object.keys(entry)) {
      if (!RECIPIENT_MEMBERS.has(k)) throw failed(`JWE: recipient member "${k}" is not allowed`);
    }
    const header = asObject(entry.header, 'JWE recipient header');
    for (const k of Object.keys(header)) {
      if (!RECIPIENT_HEADER_MEMBERS.has(k)) {
        throw failed(`JWE: recipient header parameter "${k}" is not allowed`);
      }
    }
    if (header.kid !== kid) continue;
    if (mine) throw failed(`JWE: kid ${kid} appears twice`);
    if (typeof entry.encrypted_key !== 'string') throw failed('JWE: encrypted_key is required');
    mine = { header, encrypted_key: entry.encrypted_key };
  }
  if (!mine) throw failed(`JWE: not encrypted to kid ${kid}`);
  return {
    protected: prot,
    protectedHeader,
    iv,
    ciphertext,
    tag,
    header: mine.header,
    encrypted_key: mine.encrypted_key,
  };
}

/**
 * The protected header is the AES-GCM AAD, so what it says is authenticated; it may say only
 * `enc` (pinned) and, for a single recipient, `epk`. This forbids `zip`, `crit` and the rest.
 */
function decodeProtectedHeader(prot: string): Record<string, unknown> {
  let header: Record<string, unknown>;
  try {
    header = asObject(
      parseStrictJson(fromB64u(prot), { maxBytes: 4096, maxDepth: 2 }),
      'protected',
    );
  } catch (cause) {
    throw failed('JWE: protected header is not a base64url JSON object', cause);
  }
  for (const k of Object.keys(header)) {
    if (k !== 'enc' && k !== 'epk')
      throw failed(`JWE: protected header parameter "${k}" is not allowed`);
  }
  if (header.enc !== JWE_ENC) throw failed(`JWE: enc must be ${JWE_ENC}`);
  return header;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw failed(`${what}: not an object`);
  return v as Record<string, unknown>;
}

function failed(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('DECRYPTION_FAILED', message, { cause });
}
