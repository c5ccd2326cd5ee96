// Public door of libs/keystore: the on-disk formats of a member's private keys and of the
// governance trust anchors, written by `fedctl` and read by the node and the hub.
import { readFileSync } from 'node:fs';
import {
  ProtocolError,
  importPrivateKey,
  parseStrictJson,
  publicJwkOf,
  type GovernanceKey,
  type OkpJwk,
} from '../../protocol/src/index.js';

/** A member's (or the hub's) private key file, mode 0600. */
export interface MemberKeyFile {
  memberId: string;
  /** Ed25519 federation signing key (bundles, receipts, checkpoints). */
  signing: { kid: string; privateJwk: OkpJwk };
  /** X25519 key that partners encrypt bundles to. */
  encryption: { kid: string; privateJwk: OkpJwk };
  /** Ed25519 key that signs this node's API tokens (never used on the federation). */
  api: { kid: string; privateJwk: OkpJwk };
  /**
   * Encryption keys replaced by a rotation, kept only to decrypt bundles that partners encrypted
   * before they saw the new key (`fedctl keys rotate` moves the old key here).
   */
  retiredEncryption?: { kid: string; privateJwk: OkpJwk }[];
}

/** The governance public keys that sign the directory (trust anchors). */
export interface GovernanceKeyFile {
  keys: GovernanceKey[];
}

function fail(path: string, why: string, cause?: unknown): never {
  throw new ProtocolError('INVALID_FIELD', `${path}: ${why}`, { cause, field: path });
}

function keyPair(
  v: unknown,
  path: string,
  crv: 'Ed25519' | 'X25519',
): { kid: string; privateJwk: OkpJwk } {
  if (typeof v !== 'object' || v === null) fail(path, 'must be an object');
  const o = v as Record<string, unknown>;
  if (typeof o.kid !== 'string' || o.kid.length === 0) fail(`${path}.kid`, 'must be a string');
  const jwk = o.privateJwk as OkpJwk;
  try {
    importPrivateKey(jwk, crv);
    publicJwkOf(jwk);
  } catch (e) {
    fail(`${path}.privateJwk`, `is not a private ${crv} JWK`, e);
  }
  return { kid: o.kid, privateJwk: jwk };
}

/** Parse and check a member key file's text. */
export function parseMemberKeyFile(text: string, path = 'keys'): MemberKeyFile {
  const v = parseStrictJson(text) as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null) fail(path, 'must be a JSON object');
  if (typeof v.memberId !== 'string') fail(`${path}.memberId`, 'must be a string');
  return {
    memberId: v.memberId,
    signing: keyPair(v.signing, `${path}.signing`, 'Ed25519'),
    encryption: keyPair(v.encryption, `${path}.encryption`, 'X25519'),
    api: keyPair(v.api, `${path}.api`, 'Ed25519'),
    ...retired(v.retiredEncryption, `${path}.retiredEncryption`),
  };
}

function retired(v: unknown, path: string): Pick<MemberKeyFile, 'retiredEncryption'> {
  if (v === undefined) return {};
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return { retiredEncryption: v.map((k, i) => keyPair(k, `${path}[${i}]`, 'X25519')) };
}

/** Parse a governance key file's text. */
export function parseGovernanceKeyFile(text: string, path = 'governance'): GovernanceKeyFile {
  const v = parseStrictJson(text) as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.keys) || v.keys.length === 0) {
    fail(`${path}.keys`, 'must be a non-empty array');
  }
  const keys = (v.keys as unknown[]).map((k, i) => {
    const o = k as Record<string, unknown>;
    if (typeof o?.kid !== 'string' || typeof o.jwk !== 'object' || o.jwk === null) {
      fail(`${path}.keys[${i}]`, 'must be {kid, jwk}');
    }
    if ('d' in o.jwk) fail(`${path}.keys[${i}].jwk`, 'must be a public key');
    return { kid: o.kid, jwk: o.jwk as OkpJwk };
  });
  return { keys };
}

/** Read a key file from disk, naming the file in any error. */
export function readMemberKeyFile(file: string): MemberKeyFile {
  return parseMemberKeyFile(readFileSync(file, 'utf8'), file);
}

export function readGovernanceKeyFile(file: string): GovernanceKeyFile {
  return parseGovernanceKeyFile(readFileSync(file, 'utf8'), file);
}

// ---- API tokens ------------------------------------------------------------------------------

/** Roles of a node's or the hub's REST API. */
export const API_ROLES = ['analyst', 'supervisor', 'auditor', 'admin', 'hub-operator'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** The audience of API tokens for a member: a token for KR's node is useless at VN's. */
export function apiAudience(memberId: string): string {
  return `fedintel:${memberId}`;
}

/**
 * Issue an EdDSA-signed API token (JWT) for a user of a member's node.
 * @example issueApiToken({ memberId: 'kr', subject: 'analyst.kim', roles: ['analyst'], key, kid, now: new Date(), ttlSeconds: 3600 })
 */
export async function issueApiToken(p: {
  memberId: string;
  subject: string;
  roles: ApiRole[];
  kid: string;
  key: import('node:crypto').KeyObject;
  now: Date;
  ttlSeconds: number;
}): Promise<string> {
  const { SignJWT } = await import('jose');
  const iat = Math.floor(p.now.getTime() / 1000);
  return new SignJWT({ roles: p.roles })
    .setProtectedHeader({ alg: 'EdDSA', kid: p.kid, typ: 'JWT' })
    .setSubject(p.subject)
    .setIssuer(apiAudience(p.memberId))
    .setAudience(apiAudience(p.memberId))
    .setIssuedAt(iat)
    .setExpirationTime(iat + p.ttlSeconds)
    .sign(p.key);
}
