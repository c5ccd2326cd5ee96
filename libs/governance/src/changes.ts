import {
  ProtocolError,
  jwkThumbprint,
  parseDirectory,
  toRfc3339Ms,
  type Directory,
  type DirectoryKey,
  type Member,
  type MemberRole,
  type OkpJwk,
} from '../../protocol/src/index.js';

/**
 * Directory changes that a federation's governance makes over its life: onboarding, key rotation
 * with overlap, revocation of a compromised key, removal of a member, agreements. Each change is a
 * pure function from one directory version to the next (version + 1, `issuedAt` = `now`), checked
 * by the protocol's own parser, so a change that would produce an invalid directory throws instead
 * of being signed. Nothing is ever deleted: retired, revoked and removed entries stay, so that what
 * was signed in the past still verifies through the directory's history.
 */

/** A public key to announce, as written by `fedctl keys generate` (public half only). */
export interface AnnouncedKey {
  kid: string;
  jwk: OkpJwk;
}

/** What a new member brings: identity, public keys and its NATS identity. */
export interface NewMember {
  id: string;
  country: string;
  name: string;
  roles?: MemberRole[];
  signing: AnnouncedKey;
  encryption: AnnouncedKey;
}

function fail(message: string): never {
  throw new ProtocolError('DIRECTORY_INVALID', message, { field: 'directory' });
}

/** The next version of `d`: a deep copy with the version bumped and `issuedAt` set. */
function next(d: Directory, now: Date): Directory {
  const copy = structuredClone(d);
  copy.version = d.version + 1;
  copy.issuedAt = toRfc3339Ms(now);
  return copy;
}

function member(d: Directory, id: string): Member {
  const m = d.members.find((x) => x.id === id);
  if (!m) fail(`member "${id}" is not in the directory`);
  return m;
}

/** Re-validates through the protocol parser and returns the checked copy. */
function checked(d: Directory): Directory {
  return parseDirectory(structuredClone(d));
}

async function assertKid(k: AnnouncedKey, what: string): Promise<void> {
  if ((await jwkThumbprint(k.jwk)) !== k.kid) fail(`${what}: kid is not the JWK's thumbprint`);
}

/**
 * Onboarding: adds an active member with its signing and encryption keys (valid from `now`), its
 * NATS account (`<ID>`) and leaf user (`<id>-leaf`), and makes it a member of `groups`.
 * Federation-wide agreements (`parties: ['*']`) cover it at once; bilateral ones do not.
 *
 * @throws ProtocolError `DIRECTORY_INVALID` (duplicate id or kid, bad key, unknown group...)
 */
export async function addMember(
  d: Directory,
  m: NewMember,
  now: Date,
  opts: { groups?: string[] } = {},
): Promise<Directory> {
  if (d.members.some((x) => x.id === m.id)) fail(`member "${m.id}" is already in the directory`);
  await assertKid(m.signing, 'signing key');
  await assertKid(m.encryption, 'encryption key');
  const out = next(d, now);
  const notBefore = toRfc3339Ms(now);
  out.members.push({
    id: m.id,
    country: m.country,
    name: m.name,
    roles: m.roles ?? ['member'],
    status: 'active',
    nats: { account: m.id.toUpperCase(), user: `${m.id}-leaf` },
    keys: [
      { kid: m.signing.kid, use: 'sig', jwk: m.signing.jwk, notBefore, status: 'active' },
      { kid: m.encryption.kid, use: 'enc', jwk: m.encryption.jwk, notBefore, status: 'active' },
    ],
  });
  for (const g of opts.groups ?? []) {
    const group = out.groups.find((x) => x.id === g);
    if (!group) fail(`group "${g}" is not in the directory`);
    group.members.push(m.id);
  }
  return checked(out);
}

/**
 * Rotation with overlap: the member's active keys of this use become `retired` with
 * `notAfter = now + overlapMs` (they keep verifying what was signed before and during the
 * overlap), and `key` becomes the active one from `now`. After the overlap the old key verifies
 * only in historical mode (records stored earlier, audits).
 *
 * @throws ProtocolError `DIRECTORY_INVALID` (unknown member, reused kid, overlap not positive)
 */
export async function rotateKey(
  d: Directory,
  memberId: string,
  use: 'sig' | 'enc',
  key: AnnouncedKey,
  now: Date,
  overlapMs: number,
): Promise<Directory> {
  if (!Number.isFinite(overlapMs) || overlapMs <= 0) fail('the overlap must be positive');
  await assertKid(key, 'new key');
  const out = next(d, now);
  const m = member(out, memberId);
  if (m.status !== 'active') fail(`member "${memberId}" is ${m.status}`);
  const notAfter = toRfc3339Ms(new Date(now.getTime() + overlapMs));
  for (const k of m.keys) {
    if (k.use === use && k.status === 'active') {
      k.status = 'retired';
      k.notAfter =
        k.notAfter && Date.parse(k.notAfter) < Date.parse(notAfter) ? k.notAfter : notAfter;
    }
  }
  const fresh: DirectoryKey = {
    kid: key.kid,
    use,
    jwk: key.jwk,
    notBefore: toRfc3339Ms(now),
    status: 'active',
  };
  m.keys.push(fresh);
  return checked(out);
}

/**
 * Revocation of a compromised key: status `revoked` with `compromisedAt`. Receivers refuse every
 * signature by it at once; in historical mode, signatures proven older than `compromisedAt`
 * (records stored or checkpointed before it) stay valid.
 *
 * @throws ProtocolError `DIRECTORY_INVALID` (unknown member or kid, already revoked,
 *   compromisedAt in the future)
 */
export function revokeKey(
  d: Directory,
  memberId: string,
  kid: string,
  compromisedAt: Date,
  now: Date,
): Directory {
  if (compromisedAt.getTime() > now.getTime()) fail('compromisedAt cannot be in the future');
  const out = next(d, now);
  const k = member(out, memberId).keys.find((x) => x.kid === kid);
  if (!k) fail(`member "${memberId}" has no key "${kid}"`);
  if (k.status === 'revoked') fail(`key "${kid}" is already revoked`);
  k.status = 'revoked';
  k.compromisedAt = toRfc3339Ms(compromisedAt);
  return checked(out);
}

/**
 * Removal: the member's status becomes `removed` (its new records are refused everywhere), it
 * leaves every group and bilateral agreement names it no longer; its keys stay so that what it
 * sent before remains verifiable in historical mode.
 *
 * @throws ProtocolError `DIRECTORY_INVALID` (unknown member, the hub, already removed, or an
 *   agreement that would be left with fewer than two parties)
 */
export function removeMember(d: Directory, memberId: string, now: Date): Directory {
  if (memberId === 'hub') fail('the hub cannot be removed');
  const out = next(d, now);
  const m = member(out, memberId);
  if (m.status === 'removed') fail(`member "${memberId}" is already removed`);
  m.status = 'removed';
  for (const g of out.groups) g.members = g.members.filter((x) => x !== memberId);
  const at = toRfc3339Ms(now);
  for (const a of out.agreements) {
    if (!a.parties.includes(memberId)) continue;
    // A bilateral agreement ends for everyone when one party leaves: close it rather than
    // silently turning it into something its other parties never signed.
    if (a.validUntil === undefined || Date.parse(a.validUntil) > now.getTime()) a.validUntil = at;
  }
  return checked(out);
}

/** Summary of what changed between two versions (for the operator's confirmation). */
export function describeChange(before: Directory, after: Directory): string[] {
  const lines = [`directory ${before.federation}: version ${before.version} -> ${after.version}`];
  const old = new Map(before.members.map((m) => [m.id, m]));
  for (const m of after.members) {
    const o = old.get(m.id);
    if (!o) {
      lines.push(`+ member ${m.id} (${m.country}, ${m.status})`);
      continue;
    }
    if (o.status !== m.status) lines.push(`~ member ${m.id}: ${o.status} -> ${m.status}`);
    const oldKeys = new Map(o.keys.map((k) => [k.kid, k]));
    for (const k of m.keys) {
      const ok = oldKeys.get(k.kid);
      if (!ok) lines.push(`+ ${m.id} ${k.use} key ${k.kid} (${k.status} from ${k.notBefore})`);
      else if (ok.status !== k.status) {
        const until = k.notAfter ? ` until ${k.notAfter}` : '';
        const comp = k.compromisedAt ? ` compromised at ${k.compromisedAt}` : '';
        lines.push(`~ ${m.id} ${k.use} key ${k.kid}: ${ok.status} -> ${k.status}${until}${comp}`);
      }
    }
  }
  for (const a of after.agreements) {
    const o = before.agreements.find((x) => x.id === a.id);
    if (!o) lines.push(`+ agreement ${a.id}`);
    else if (o.validUntil !== a.validUntil) lines.push(`~ agreement ${a.id} ends ${a.validUntil}`);
  }
  return lines;
}

/** Input of {@link initialDirectory}. */
export interface FoundingMember extends NewMember {
  /** `member` by default; the hub's entry (id `hub`) gets role `hub` */
  roles?: MemberRole[];
}

/**
 * Version 1 of a federation's directory: the founding members (and the hub, id `hub`) with keys
 * valid from `now`, no groups, and one federation-wide charter up to TLP:AMBER from `now` (bilateral
 * agreements are added later, as governance signs them).
 *
 * @throws ProtocolError `DIRECTORY_INVALID` (bad ids, duplicate ids or kids, kid not a thumbprint)
 */
export async function initialDirectory(p: {
  federation: string;
  members: FoundingMember[];
  now: Date;
  charter?: { id: string; name: string };
}): Promise<Directory> {
  const at = toRfc3339Ms(p.now);
  const seen = new Set<string>();
  const members: Member[] = [];
  for (const m of p.members) {
    if (seen.has(m.id)) fail(`member "${m.id}" appears twice`);
    seen.add(m.id);
    await assertKid(m.signing, `${m.id} signing key`);
    await assertKid(m.encryption, `${m.id} encryption key`);
    members.push({
      id: m.id,
      country: m.country,
      name: m.name,
      roles: m.roles ?? [m.id === 'hub' ? 'hub' : 'member'],
      status: 'active',
      nats: { account: m.id.toUpperCase(), user: `${m.id}-leaf` },
      keys: [
        { kid: m.signing.kid, use: 'sig', jwk: m.signing.jwk, notBefore: at, status: 'active' },
        {
          kid: m.encryption.kid,
          use: 'enc',
          jwk: m.encryption.jwk,
          notBefore: at,
          status: 'active',
        },
      ],
    });
  }
  const charter = p.charter ?? { id: 'charter', name: 'Federation charter' };
  return checked({
    federation: p.federation,
    version: 1,
    issuedAt: at,
    members,
    groups: [],
    agreements: [
      {
        id: charter.id,
        name: charter.name,
        parties: ['*'],
        types: ['*'],
        maxTlp: 'AMBER',
        validFrom: at,
      },
    ],
  });
}
