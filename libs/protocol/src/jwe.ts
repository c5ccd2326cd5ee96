/**
 * Encryption to addressees (docs/protocol-parts/60-encryption.md, ADR 0007): JWE General JSON
 * serialization, `ECDH-ES+A256KW` per recipient (X25519) and `A256GCM` content encryption.
 * What is encrypted is already signed (sign-then-encrypt); this module knows nothing of bundles.
 */
import { KeyObject } from 'node:crypto';
import { GeneralEncrypt, type FlattenedJWE, flattenedDecrypt } from 'jose';
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
export async function encryptTo(
  plaintext: Uint8Array,
  recipients: EncryptionKey[],
): Promise<string> {
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
  const enc = new GeneralEncrypt(plaintext).setProtectedHeader({ enc: JWE_ENC });
  recipients.forEach((r, i) => {
    assertKeyObject(r.key, 'X25519', 'public', `recipients[${i}].key`);
    if (typeof r.kid !== 'string' || r.kid.length === 0 || seen.has(r.kid)) {
      throw new ProtocolError('INVALID_VALUE', `JWE: recipients[${i}].kid missing or repeated`, {
        field: `recipients[${i}].kid`,
      });
    }
    seen.add(r.kid);
    enc.addRecipient(r.key).setUnprotectedHeader({ alg: JWE_ALG, kid: r.kid });
  });
  return JSON.stringify(await enc.encrypt());
}

/**
 * Decrypts a JWE produced by {@link encryptTo} with one's own private X25519 key. Only the
 * recipient entry carrying `me.kid` is tried; the algorithms are pinned to
 * `ECDH-ES+A256KW` / `A256GCM` and the structure to exactly what {@link encryptTo} writes.
 *
 * @throws ProtocolError `DECRYPTION_FAILED` (malformed, not a recipient, wrong key, tampered,
 *   other algorithms), `JSON_TOO_LARGE`, `KEY_NOT_VALID` (`me.key` not a private X25519 key)
 */
export async function decryptFor(
  jwe: string | Uint8Array,
  me: EncryptionKey,
  opts: DecryptOptions = {},
): Promise<Uint8Array> {
  assertKeyObject(me.key, 'X25519', 'private', 'own key');
  let parsed: unknown;
  try {
    parsed = parseStrictJson(jwe, { maxBytes: opts.maxBytes ?? MAX_JWE_BYTES, maxDepth: 8 });
  } catch (cause) {
    if (cause instanceof ProtocolError && cause.code === 'JSON_TOO_LARGE') throw cause;
    throw failed('JWE: not strict JSON', cause);
  }
  const flattened = pickRecipient(parsed, me.kid);
  try {
    const { plaintext } = await flattenedDecrypt(flattened, me.key, {
      keyManagementAlgorithms: [JWE_ALG],
      contentEncryptionAlgorithms: [JWE_ENC],
    });
    return plaintext;
  } catch (cause) {
    throw failed('JWE: cannot decrypt (wrong key or tampered)', cause);
  }
}

/** Checks the General JSON structure and returns our recipient's entry as a flattened JWE. */
function pickRecipient(parsed: unknown, kid: string): FlattenedJWE {
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
