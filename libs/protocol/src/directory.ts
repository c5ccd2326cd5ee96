/**
 * The signed federation directory (docs/protocol-parts/70-directory.md): who the members are,
 * which keys they sign and encrypt with, their NATS identities, groups and sharing agreements.
 * Every signature in the federation is checked against it, so parsing is strict and fails closed.
 */
import { Buffer } from 'node:buffer';
import { KeyObject, createHash } from 'node:crypto';
import { ProtocolError } from './errors.js';
import { type KeyResolver, type SigningKey, signCompact, verifyCompact } from './jws.js';
import { canonicalBytes, parseStrictJson } from './json.js';
import { type OkpJwk, importPublicKey } from './keys.js';
import {
  INDICATOR_TYPES,
  type IndicatorType,
  type MemberId,
  TLP_LEVELS,
  type Tlp,
} from './model.js';
import { isRfc3339Ms } from './record.js';

/** Roles a directory entry may hold. `hub` is held by the entry with id `hub` and no other. */
export const MEMBER_ROLES = ['member', 'hub', 'observer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** Membership status; only `active` members send, receive and have their new signatures accepted. */
export const MEMBER_STATUSES = ['active', 'suspended', 'removed'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** Key status: `retired` keys stop signing but verify until `notAfter`; `revoked` keys are compromised. */
export const KEY_STATUSES = ['active', 'retired', 'revoked'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** A public key of a member, with its validity window and status. */
export interface DirectoryKey {
  /** RFC 7638 SHA-256 thumbprint of `jwk` (base64url); unique across the whole directory. */
  kid: string;
  /** `sig` for Ed25519 keys, `enc` for X25519 keys. */
  use: 'sig' | 'enc';
  /** Public OKP JWK; a JWK carrying `d` is rejected. */
  jwk: OkpJwk;
  /** Start of validity (inclusive), RFC 3339 UTC with milliseconds. */
  notBefore: string;
  /** End of validity (exclusive); required for `retired` keys. */
  notAfter?: string;
  status: KeyStatus;
  /** For `revoked` keys: signatures made before this instant stay valid in historical mode. */
  compromisedAt?: string;
}

/** A member agency, an observer, or the hub (id `hub`, role `hub`). */
export interface Member {
  id: MemberId;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  name: string;
  roles: MemberRole[];
  status: MemberStatus;
  /** The member's NATS identity; both values are unique in the directory (one account per member). */
  nats: { account: string; user: string };
  keys: DirectoryKey[];
}

/** A named set of members (e.g. the parties of an MoU), addressable as `group:<id>`. */
export interface Group {
  id: string;
  name: string;
  members: MemberId[];
}

/**
 * A sharing agreement. `parties` is either a list of at least two directory ids (members or
 * `hub`), any two of which may share, or exactly `['*']`, federation-wide.
 */
export interface Agreement {
  id: string;
  name: string;
  /** Directory ids (members or `hub`), or exactly `['*']`. */
  parties: MemberId[];
  /** Covered indicator types, or exactly `['*']` for every type. */
  types: IndicatorType[] | ['*'];
  /** Most restrictive TLP the agreement covers. */
  maxTlp: Tlp;
  /** In force from (inclusive). */
  validFrom: string;
  /** In force until (exclusive); absent = open-ended. */
  validUntil?: string;
}

/** A governance public key announced by a directory for verifying the versions after it. */
export interface GovernanceKey {
  kid: string;
  jwk: OkpJwk;
}

/** The federation directory, one version of it. */
export interface Directory {
  federation: string;
  /** Strictly increasing across published versions. */
  version: number;
  issuedAt: string;
  members: Member[];
  groups: Group[];
  agreements: Agreement[];
  /**
   * Governance keys that may sign the next versions (key rotation without touching every node's
   * configuration). Absent = only the configured trust anchors.
   */
  governanceKeys?: GovernanceKey[];
}

const MEMBER_ID = /^[a-z][a-z0-9-]{1,15}$/;
const GROUP_ID = /^[a-z][a-z0-9-]{1,31}$/;
const AGREEMENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FEDERATION = /^[a-z][a-z0-9.-]{0,63}$/;
const COUNTRY = /^[A-Z]{2}$/;
const KID = /^[A-Za-z0-9_-]{43}$/;
const MAX_TEXT = 200;
/** Tolerated clock skew for a directory's `issuedAt` against the verifier's `now`. */
const ISSUED_AT_SKEW_MS = 5 * 60 * 1000;

// --- parsing --------------------------------------------------------------------------------

function invalid(field: string, reason: string, cause?: unknown): ProtocolError {
  return new ProtocolError('DIRECTORY_INVALID', `${field}: ${reason}`, { field, cause });
}

function obj(
  v: unknown,
  field: string,
  required: string[],
  optional: string[] = [],
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) {
      throw invalid(`${field}.${k}`, 'unknown member');
    }
  }
  for (const k of required) {
    if (o[k] === undefined) throw invalid(`${field}.${k}`, 'is required');
  }
  return o;
}

function str(v: unknown, field: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) {
    throw invalid(field, `must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  if (pattern && !pattern.test(v)) throw invalid(field, `must match ${pattern.source}`);
  return v;
}

function time(v: unknown, field: string): string {
  if (typeof v !== 'string' || !isRfc3339Ms(v)) {
    throw invalid(field, 'must be an RFC 3339 UTC timestamp with milliseconds');
  }
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalid(field, `must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function arr(v: unknown, field: string, nonEmpty: boolean): unknown[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  if (nonEmpty && v.length === 0) throw invalid(field, 'must not be empty');
  return v;
}

function uniqueStrings<T extends string>(items: T[], field: string): T[] {
  const seen = new Set<string>();
  items.forEach((s, i) => {
    if (seen.has(s)) throw invalid(`${field}[${i}]`, `duplicate "${s}"`);
    seen.add(s);
  });
  return items;
}

/** RFC 7638 thumbprint, computed synchronously so that parsing stays synchronous. */
function thumbprint(jwk: OkpJwk): string {
  const json = JSON.stringify({ crv: jwk.crv, kty: 'OKP', x: jwk.x });
  return createHash('sha256').update(json).digest().toString('base64url');
}

function parseKey(v: unknown, field: string): DirectoryKey {
  const o = obj(
    v,
    field,
    ['kid', 'use', 'jwk', 'notBefore', 'status'],
    ['notAfter', 'compromisedAt'],
  );
  const kid = str(o.kid, `${field}.kid`, KID);
  const use = oneOf(o.use, `${field}.use`, ['sig', 'enc'] as const);
  const crv = use === 'sig' ? 'Ed25519' : 'X25519';
  // importPublicKey is the one strict JWK validator (and refuses `d`); the import is cached.
  try {
    importPublicKey(o.jwk as OkpJwk, crv);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : 'not a public JWK';
    throw invalid(`${field}.jwk`, `${reason} (a ${use} key is ${crv})`, cause);
  }
  const src = o.jwk as OkpJwk;
  const jwk: OkpJwk = { kty: 'OKP', crv: src.crv, x: src.x };
  if (src.kid !== undefined) jwk.kid = src.kid;
  if (src.use !== undefined) jwk.use = src.use;
  if (src.alg !== undefined) jwk.alg = src.alg;
  if (thumbprint(jwk) !== kid)
    throw invalid(`${field}.kid`, 'is not the RFC 7638 thumbprint of jwk');
  if (jwk.kid !== undefined && jwk.kid !== kid)
    throw invalid(`${field}.jwk.kid`, 'differs from kid');
  const notBefore = time(o.notBefore, `${field}.notBefore`);
  const status = oneOf(o.status, `${field}.status`, KEY_STATUSES);
  const key: DirectoryKey = { kid, use, jwk, notBefore, status };
  if (o.notAfter !== undefined) {
    key.notAfter = time(o.notAfter, `${field}.notAfter`);
    if (Date.parse(key.notAfter) <= Date.parse(notBefore)) {
      throw invalid(`${field}.notAfter`, 'must be later than notBefore');
    }
  }
  if (status === 'retired' && key.notAfter === undefined) {
    // A retired key without an end would verify new signatures for ever.
    throw invalid(`${field}.notAfter`, 'is required for a retired key');
  }
  if (o.compromisedAt !== undefined) {
    if (status !== 'revoked') throw invalid(`${field}.compromisedAt`, 'only a revoked key has one');
    key.compromisedAt = time(o.compromisedAt, `${field}.compromisedAt`);
  }
  return key;
}

function parseMember(v: unknown, field: string): Member {
  const o = obj(v, field, ['id', 'country', 'name', 'roles', 'status', 'nats', 'keys']);
  const id = str(o.id, `${field}.id`, MEMBER_ID);
  const country = str(o.country, `${field}.country`, COUNTRY);
  const name = str(o.name, `${field}.name`);
  const roles = uniqueStrings(
    arr(o.roles, `${field}.roles`, true).map((r, i) =>
      oneOf(r, `${field}.roles[${i}]`, MEMBER_ROLES),
    ),
    `${field}.roles`,
  );
  if (roles.includes('hub') !== (id === 'hub')) {
    throw invalid(
      `${field}.roles`,
      'the role hub belongs to the entry with id "hub" and to no other',
    );
  }
  const status = oneOf(o.status, `${field}.status`, MEMBER_STATUSES);
  const n = obj(o.nats, `${field}.nats`, ['account', 'user']);
  const nats = {
    account: str(n.account, `${field}.nats.account`),
    user: str(n.user, `${field}.nats.user`),
  };
  const keys = arr(o.keys, `${field}.keys`, false).map((k, i) =>
    parseKey(k, `${field}.keys[${i}]`),
  );
  return { id, country, name, roles, status, nats, keys };
}

function parseGroup(v: unknown, field: string, memberIds: Set<string>): Group {
  const o = obj(v, field, ['id', 'name', 'members']);
  const id = str(o.id, `${field}.id`, GROUP_ID);
  const name = str(o.name, `${field}.name`);
  const members = uniqueStrings(
    arr(o.members, `${field}.members`, true).map((m, i) => {
      const mid = str(m, `${field}.members[${i}]`);
      if (!memberIds.has(mid)) throw invalid(`${field}.members[${i}]`, `unknown member "${mid}"`);
      return mid;
    }),
    `${field}.members`,
  );
  return { id, name, members };
}

function parseAgreement(v: unknown, field: string, memberIds: Set<string>): Agreement {
  const o = obj(
    v,
    field,
    ['id', 'name', 'parties', 'types', 'maxTlp', 'validFrom'],
    ['validUntil'],
  );
  const id = str(o.id, `${field}.id`, AGREEMENT_ID);
  const name = str(o.name, `${field}.name`);
  const rawParties = arr(o.parties, `${field}.parties`, true).map((p, i) =>
    str(p, `${field}.parties[${i}]`),
  );
  let parties: Agreement['parties'];
  if (rawParties.includes('*')) {
    // '*' beside named parties would silently mean '*': refuse the ambiguity.
    if (rawParties.length !== 1) throw invalid(`${field}.parties`, '"*" must be the only party');
    parties = ['*'];
  } else {
    if (rawParties.length < 2) throw invalid(`${field}.parties`, 'needs at least two parties');
    rawParties.forEach((p, i) => {
      if (!memberIds.has(p)) throw invalid(`${field}.parties[${i}]`, `unknown member "${p}"`);
    });
    parties = uniqueStrings(rawParties, `${field}.parties`);
  }
  const rawTypes = arr(o.types, `${field}.types`, true);
  let types: Agreement['types'];
  if (rawTypes.includes('*')) {
    if (rawTypes.length !== 1) throw invalid(`${field}.types`, '"*" must be the only type');
    types = ['*'];
  } else {
    types = uniqueStrings(
      rawTypes.map((t, i) => oneOf(t, `${field}.types[${i}]`, INDICATOR_TYPES)),
      `${field}.types`,
    );
  }
  const maxTlp = oneOf(o.maxTlp, `${field}.maxTlp`, TLP_LEVELS);
  const validFrom = time(o.validFrom, `${field}.validFrom`);
  const agreement: Agreement = { id, name, parties, types, maxTlp, validFrom };
  if (o.validUntil !== undefined) {
    agreement.validUntil = time(o.validUntil, `${field}.validUntil`);
    if (Date.parse(agreement.validUntil) <= Date.parse(validFrom)) {
      throw invalid(`${field}.validUntil`, 'must be later than validFrom');
    }
  }
  return agreement;
}

function parseGovernanceKey(v: unknown, field: string): GovernanceKey {
  const o = obj(v, field, ['kid', 'jwk']);
  const kid = str(o.kid, `${field}.kid`, KID);
  try {
    importPublicKey(o.jwk as OkpJwk, 'Ed25519');
  } catch (cause) {
    throw invalid(`${field}.jwk`, 'must be a public Ed25519 JWK', cause);
  }
  const src = o.jwk as OkpJwk;
  const jwk: OkpJwk = { kty: 'OKP', crv: 'Ed25519', x: src.x };
  if (thumbprint(jwk) !== kid)
    throw invalid(`${field}.kid`, 'is not the RFC 7638 thumbprint of jwk');
  return { kid, jwk };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/**
 * Validates a directory value (typically from `parseStrictJson`) and returns a deep-frozen copy
 * built field by field. Checks shape, formats, unique member ids, kids (across all members),
 * NATS accounts and users, group and agreement ids, and that groups and agreements name only
 * existing members. Every kid must be the RFC 7638 thumbprint of its JWK.
 *
 * @throws ProtocolError `DIRECTORY_INVALID` with `field` set to the offending path
 * @example
 * const directory = parseDirectory(parseStrictJson(bytes));
 */
export function parseDirectory(value: unknown): Directory {
  const o = obj(
    value,
    'directory',
    ['federation', 'version', 'issuedAt', 'members', 'groups', 'agreements'],
    ['governanceKeys'],
  );
  const federation = str(o.federation, 'federation', FEDERATION);
  if (typeof o.version !== 'number' || !Number.isSafeInteger(o.version) || o.version < 1) {
    throw invalid('version', 'must be a safe integer ≥ 1');
  }
  const version = o.version;
  const issuedAt = time(o.issuedAt, 'issuedAt');
  const members = arr(o.members, 'members', true).map((m, i) => parseMember(m, `members[${i}]`));
  const ids = new Set<string>();
  const kids = new Set<string>();
  const accounts = new Set<string>();
  const users = new Set<string>();
  members.forEach((m, i) => {
    if (ids.has(m.id)) throw invalid(`members[${i}].id`, `duplicate member id "${m.id}"`);
    ids.add(m.id);
    // One NATS account per member: a shared account is unsafe on the leaf topology (DESIGN §7).
    if (accounts.has(m.nats.account)) throw invalid(`members[${i}].nats.account`, 'duplicate');
    accounts.add(m.nats.account);
    if (users.has(m.nats.user)) throw invalid(`members[${i}].nats.user`, 'duplicate');
    users.add(m.nats.user);
    m.keys.forEach((k, j) => {
      if (kids.has(k.kid))
        throw invalid(`members[${i}].keys[${j}].kid`, `duplicate kid "${k.kid}"`);
      kids.add(k.kid);
    });
  });
  const groups = arr(o.groups, 'groups', false).map((g, i) => parseGroup(g, `groups[${i}]`, ids));
  uniqueStrings(
    groups.map((g) => g.id),
    'groups',
  );
  const agreements = arr(o.agreements, 'agreements', false).map((a, i) =>
    parseAgreement(a, `agreements[${i}]`, ids),
  );
  uniqueStrings(
    agreements.map((a) => a.id),
    'agreements',
  );
  const directory: Directory = { federation, version, issuedAt, members, groups, agreements };
  if (o.governanceKeys !== undefined) {
    const gk = arr(o.governanceKeys, 'governanceKeys', true).map((k, i) =>
      parseGovernanceKey(k, `governanceKeys[${i}]`),
    );
    uniqueStrings(
      gk.map((k) => k.kid),
      'governanceKeys',
    );
    directory.governanceKeys = gk;
  }
  return deepFreeze(directory);
}

// --- signing and verification ---------------------------------------------------------------

/**
 * Signs a directory with a governance key: JWS compact, `typ` of kind `directory`, payload the
 * RFC 8785 canonical bytes of the (re-validated) directory.
 *
 * @throws ProtocolError `DIRECTORY_INVALID` when `d` does not parse
 */
export async function signDirectory(d: Directory, governance: SigningKey): Promise<string> {
  const checked = parseDirectory(d);
  return signCompact(canonicalBytes(checked), 'directory', governance);
}

/** What a verifier trusts when it receives a directory. */
export interface DirectoryTrust {
  /** Configured governance public keys (trust anchors). */
  governanceKeys: GovernanceKey[];
  /** The directory in force, if any: rollback protection and its announced governance keys. */
  current?: Directory;
  /** The verifier's clock. */
  now: Date;
}

/**
 * Verifies a signed directory and returns it parsed.
 *
 * The signer's kid must be one of `trust.governanceKeys` or of `trust.current.governanceKeys`.
 * The payload must be the canonical bytes of the directory it carries. Against `current`: the
 * federation must match; a lower version, or the same version with different bytes, is a
 * rollback; the same version with identical bytes is returned (idempotent re-delivery).
 *
 * @throws ProtocolError `KEY_UNKNOWN` (signer not trusted), the codes of `verifyCompact`
 *   (`SIGNATURE_INVALID`, `TYPE_MISMATCH`, …), `DIRECTORY_INVALID`, `DIRECTORY_ROLLBACK`
 */
export async function verifyDirectory(jws: string, trust: DirectoryTrust): Promise<Directory> {
  const anchors = new Map<string, OkpJwk>();
  for (const k of trust.governanceKeys) anchors.set(k.kid, k.jwk);
  for (const k of trust.current?.governanceKeys ?? []) anchors.set(k.kid, k.jwk);
  const resolve: KeyResolver = (kid) => {
    const jwk = anchors.get(kid);
    if (jwk === undefined) {
      throw new ProtocolError('KEY_UNKNOWN', `directory signer "${kid}" is not a governance key`, {
        field: 'kid',
      });
    }
    return importPublicKey(jwk, 'Ed25519');
  };
  const { payload } = await verifyCompact(jws, 'directory', resolve);
  const directory = parseDirectory(parseStrictJson(payload));
  if (!Buffer.from(canonicalBytes(directory)).equals(Buffer.from(payload))) {
    throw invalid('payload', 'is not the RFC 8785 canonical form of the directory');
  }
  if (Date.parse(directory.issuedAt) > trust.now.getTime() + ISSUED_AT_SKEW_MS) {
    throw invalid('issuedAt', 'lies in the future');
  }
  const current = trust.current;
  if (current !== undefined) {
    if (directory.federation !== current.federation) {
      throw invalid('federation', `is "${directory.federation}", expected "${current.federation}"`);
    }
    if (directory.version < current.version) {
      throw new ProtocolError(
        'DIRECTORY_ROLLBACK',
        `directory version ${directory.version} is older than the current ${current.version}`,
        { field: 'version' },
      );
    }
    if (directory.version === current.version) {
      if (!Buffer.from(canonicalBytes(current)).equals(Buffer.from(payload))) {
        // Two different documents under one version: equivocation by the signer.
        throw new ProtocolError(
          'DIRECTORY_ROLLBACK',
          `directory version ${directory.version} differs from the current one of the same version`,
          { field: 'version' },
        );
      }
      return directory;
    }
    if (Date.parse(directory.issuedAt) < Date.parse(current.issuedAt)) {
      throw new ProtocolError(
        'DIRECTORY_ROLLBACK',
        'directory issuedAt is earlier than that of the current version',
        { field: 'issuedAt' },
      );
    }
  }
  return directory;
}

// --- key resolution -------------------------------------------------------------------------

/** Options of {@link resolveVerificationKey}. */
export interface KeyResolutionOptions {
  /**
   * The instant the key must be valid at: the receive time in `receive` mode, the signing time
   * (as recorded) in `historical` mode.
   */
  at: Date;
  /**
   * `receive`: accepting a message now (member must be active, revoked keys fail at once).
   * `historical`: re-verifying something signed earlier (audits, hub citations).
   */
  mode: 'receive' | 'historical';
  /** Default `sig`. */
  use?: 'sig' | 'enc';
  /** When given, the key must belong to this member (e.g. the claimed origin of a bundle). */
  member?: MemberId;
}

function inWindow(key: DirectoryKey, at: number): boolean {
  return (
    Date.parse(key.notBefore) <= at && (key.notAfter === undefined || at < Date.parse(key.notAfter))
  );
}

/**
 * Finds the key `kid` and decides whether it verifies at `opts.at` (docs/protocol-parts/70-directory.md,
 * "Key resolution").
 *
 * @throws ProtocolError `KEY_UNKNOWN` (no such kid), `KEY_NOT_VALID` (wrong use or member, member
 *   not active in receive mode, `at` outside [notBefore, notAfter)), `KEY_REVOKED` (revoked, in
 *   receive mode; in historical mode unless `at` < compromisedAt)
 */
export function resolveVerificationKey(
  d: Directory,
  kid: string,
  opts: KeyResolutionOptions,
): { member: Member; key: DirectoryKey } {
  let found: { member: Member; key: DirectoryKey } | undefined;
  for (const member of d.members) {
    const key = member.keys.find((k) => k.kid === kid);
    if (key) {
      found = { member, key };
      break;
    }
  }
  if (!found)
    throw new ProtocolError('KEY_UNKNOWN', `kid "${kid}" is not in the directory`, {
      field: 'kid',
    });
  const { member, key } = found;
  const use = opts.use ?? 'sig';
  if (key.use !== use) {
    throw new ProtocolError('KEY_NOT_VALID', `kid "${kid}" is a ${key.use} key, not ${use}`, {
      field: 'kid',
    });
  }
  if (opts.member !== undefined && member.id !== opts.member) {
    throw new ProtocolError(
      'KEY_NOT_VALID',
      `kid "${kid}" belongs to ${member.id}, not ${opts.member}`,
      {
        field: 'kid',
      },
    );
  }
  if (opts.mode === 'receive' && member.status !== 'active') {
    throw new ProtocolError('KEY_NOT_VALID', `member ${member.id} is ${member.status}`, {
      field: 'kid',
    });
  }
  const at = opts.at.getTime();
  if (!inWindow(key, at)) {
    throw new ProtocolError(
      'KEY_NOT_VALID',
      `kid "${kid}" is not valid at ${opts.at.toISOString()} (window ${key.notBefore} .. ${key.notAfter ?? 'open'})`,
      { field: 'kid' },
    );
  }
  if (key.status === 'revoked') {
    const before =
      opts.mode === 'historical' &&
      key.compromisedAt !== undefined &&
      at < Date.parse(key.compromisedAt);
    if (!before)
      throw new ProtocolError('KEY_REVOKED', `kid "${kid}" is revoked`, { field: 'kid' });
  }
  return found;
}

// Imported KeyObjects per directory object and kid: verification is the hot path. The entry keeps
// the JWK's `x` so that a caller mutating an unparsed directory can never get a stale key.
const keyObjectCache = new WeakMap<Directory, Map<string, { x: string; key: KeyObject }>>();

/**
 * A {@link KeyResolver} over a directory for `verifyCompact`: each call runs the full
 * {@link resolveVerificationKey} checks (cheap) and returns a cached `KeyObject`.
 *
 * @example
 * const { payload } = await verifyCompact(jws, 'bundle',
 *   directoryKeyResolver(directory, { at: now, mode: 'receive', member: origin }));
 */
export function directoryKeyResolver(d: Directory, opts: KeyResolutionOptions): KeyResolver {
  let cache = keyObjectCache.get(d);
  if (!cache) {
    cache = new Map();
    keyObjectCache.set(d, cache);
  }
  const perDirectory = cache;
  return (kid: string) => {
    const { key } = resolveVerificationKey(d, kid, opts);
    const hit = perDirectory.get(kid);
    if (hit && hit.x === key.jwk.x) return hit.key;
    const imported = importPublicKey(key.jwk, key.use === 'sig' ? 'Ed25519' : 'X25519');
    perDirectory.set(kid, { x: key.jwk.x, key: imported });
    return imported;
  };
}

// --- lookups --------------------------------------------------------------------------------

// Member index per frozen directory: scope evaluation looks members up once per recipient per
// record. Unfrozen (hand-built) directories are searched linearly, as they may still change.
const memberIndex = new WeakMap<Directory, Map<MemberId, Member>>();

/** The directory entry with this id, or `undefined`. */
export function memberById(d: Directory, id: MemberId): Member | undefined {
  if (!Object.isFrozen(d) || !Object.isFrozen(d.members)) return d.members.find((m) => m.id === id);
  let index = memberIndex.get(d);
  if (!index) {
    index = new Map(d.members.map((m) => [m.id, m]));
    memberIndex.set(d, index);
  }
  return index.get(id);
}

function requireMember(d: Directory, id: MemberId): Member {
  const m = memberById(d, id);
  if (!m)
    throw new ProtocolError('MEMBER_UNKNOWN', `member "${id}" is not in the directory`, {
      field: 'member',
    });
  return m;
}

/**
 * The key a member signs with at `at`: its `active` `sig` key in its validity window, the one
 * with the latest `notBefore` when a rotation overlaps.
 *
 * @throws ProtocolError `MEMBER_UNKNOWN`, `KEY_UNKNOWN` when there is none
 */
export function currentSigningKey(d: Directory, memberId: MemberId, at: Date): DirectoryKey {
  const usable = usableKeys(requireMember(d, memberId), 'sig', at);
  const latest = usable[usable.length - 1];
  if (!latest) {
    throw new ProtocolError(
      'KEY_UNKNOWN',
      `member ${memberId} has no active signing key at ${at.toISOString()}`,
      {
        field: 'keys',
      },
    );
  }
  return latest;
}

/**
 * The keys to encrypt to for a member at `at`: its `active` `enc` keys in their validity window,
 * oldest first. Encrypt to all of them so that a receiver mid-rotation can decrypt.
 *
 * @throws ProtocolError `MEMBER_UNKNOWN`, `KEY_UNKNOWN` when there is none
 */
export function encryptionKeysOf(d: Directory, memberId: MemberId, at: Date): DirectoryKey[] {
  const keys = usableKeys(requireMember(d, memberId), 'enc', at);
  if (keys.length === 0) {
    throw new ProtocolError(
      'KEY_UNKNOWN',
      `member ${memberId} has no active encryption key at ${at.toISOString()}`,
      {
        field: 'keys',
      },
    );
  }
  return keys;
}

function usableKeys(m: Member, use: 'sig' | 'enc', at: Date): DirectoryKey[] {
  const t = at.getTime();
  return m.keys
    .filter((k) => k.use === use && k.status === 'active' && inWindow(k, t))
    .sort((a, b) => Date.parse(a.notBefore) - Date.parse(b.notBefore));
}
