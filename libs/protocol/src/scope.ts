/**
 * Scope and handling evaluation (docs/protocol-parts/80-scope-and-handling.md): the source policy
 * that decides what may leave a node, to whom, and in which projection. Pure functions over a
 * record, a directory and an instant; every rule here is a line of the policy table in the doc.
 */
import { type Agreement, type Directory, type Member, memberById } from './directory.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import {
  type Addressee,
  HANDLING_CODES,
  type Handling,
  type IndicatorRecord,
  type LocalIndicator,
  type MemberId,
  type Relation,
  TLP_LEVELS,
  type Tlp,
} from './model.js';

/** A recipient of a disclosure: a member id, the hub's (`hub`) included. */
export type Recipient = MemberId;

/**
 * How explicitly a scope reaches a recipient, from most to least explicit. A recipient reached
 * several ways keeps the most explicit one.
 */
export type Reach = 'named' | 'group' | 'all';

const REACH_ORDER: Record<Reach, number> = { named: 0, group: 1, all: 2 };

/** Why a disclosure is refused. Stable strings: they are audited. */
export type DenialReason =
  /** The recipient is the record's origin (nothing to disclose to oneself). */
  | 'RECIPIENT_IS_ORIGIN'
  /** The origin is not an active directory entry. */
  | 'ORIGIN_INACTIVE'
  /** The recipient is unknown to the directory, suspended or removed. */
  | 'RECIPIENT_INACTIVE'
  /** The scope names an unknown member or group, or is malformed. */
  | 'SCOPE_INVALID'
  /** The recipient is not in the record's resolved scope. */
  | 'NOT_IN_SCOPE'
  /** TLP:RED reaches a recipient only when the scope names it. */
  | 'RED_NOT_NAMED'
  /** TLP:RED never goes to the hub. */
  | 'RED_TO_HUB'
  /** TLP:AMBER+STRICT never goes through `all`. */
  | 'AMBER_STRICT_VIA_ALL'
  /** No agreement in force covers origin, recipient, type and TLP. */
  | 'NO_AGREEMENT'
  /** Hub redistribution: the handling code forbids onward sharing (H2, H3). */
  | 'HANDLING_NO_ONWARD'
  /** Hub redistribution: the TLP forbids onward sharing (AMBER+STRICT, RED). */
  | 'TLP_NO_ONWARD'
  /** Hub redistribution: the hub was not itself an addressee of the record. */
  | 'HUB_NOT_IN_SCOPE';

/** The outcome of a disclosure decision; when allowed, `record` is what may be sent. */
export type Disclosure =
  | { allowed: true; agreementId: string; record: IndicatorRecord }
  | { allowed: false; reason: DenialReason; detail: string };

// --- helpers ---------------------------------------------------------------------------------

/**
 * Orders TLP levels by restrictiveness: negative when `a` is less restrictive than `b`, 0 when
 * equal, positive when more restrictive.
 */
export function compareTlp(a: Tlp, b: Tlp): number {
  return TLP_LEVELS.indexOf(a) - TLP_LEVELS.indexOf(b);
}

/** The more restrictive of two TLP levels (distribution only narrows). */
export function narrowTlp(a: Tlp, b: Tlp): Tlp {
  return compareTlp(a, b) >= 0 ? a : b;
}

/**
 * The most restrictive of several handling markings, e.g. for an aggregate of records. When the
 * result is H3, the distinct conditions of all H3 inputs are kept, joined with `"; "`, so that no
 * condition is dropped.
 */
export function strictestHandling(first: Handling, ...rest: Handling[]): Handling {
  const all = [first, ...rest];
  let code = first.code;
  for (const h of rest) {
    if (HANDLING_CODES.indexOf(h.code) > HANDLING_CODES.indexOf(code)) code = h.code;
  }
  if (code !== 'H3') return { code };
  const conditions = [
    ...new Set(
      all.filter((h) => h.code === 'H3' && h.conditions).map((h) => h.conditions as string),
    ),
  ];
  return conditions.length > 0 ? { code, conditions: conditions.join('; ') } : { code };
}

// --- scope resolution ------------------------------------------------------------------------

function isActive(m: Member | undefined): m is Member {
  return m !== undefined && m.status === 'active';
}

/**
 * Resolves a scope to each recipient it reaches and how explicitly ({@link Reach}).
 *
 * - a member id (or `hub`) names that entry; it is included when the entry is active;
 * - `group:<id>` reaches the group's active members;
 * - `all` reaches every active entry holding the role `member` or `hub` (observers must be
 *   named or grouped).
 *
 * The origin may be in the result; {@link evaluateDisclosure} refuses it separately.
 *
 * @throws ProtocolError `MEMBER_UNKNOWN` for a member id absent from the directory,
 *   `SCOPE_DENIED` for an unknown group, `INVALID_FIELD` for a malformed or empty scope.
 *   Unknown names fail closed rather than being skipped: a typo must not silently shrink, or a
 *   stale directory silently change, the audience the analyst chose.
 */
export function resolveScope(
  scope: { addressees: Addressee[] },
  directory: Directory,
): Map<Recipient, Reach> {
  const out = new Map<Recipient, Reach>();
  const add = (id: Recipient, reach: Reach): void => {
    const prev = out.get(id);
    if (prev === undefined || REACH_ORDER[reach] < REACH_ORDER[prev]) out.set(id, reach);
  };
  if (!Array.isArray(scope.addressees) || scope.addressees.length === 0) {
    throw new ProtocolError('INVALID_FIELD', 'scope.addressees must be a non-empty array', {
      field: 'scope.addressees',
    });
  }
  scope.addressees.forEach((a, i) => {
    const field = `scope.addressees[${i}]`;
    if (typeof a !== 'string' || a.length === 0) {
      throw new ProtocolError('INVALID_FIELD', `${field} must be a non-empty string`, { field });
    }
    if (a === 'all') {
      for (const m of directory.members) {
        if (isActive(m) && (m.roles.includes('member') || m.roles.includes('hub')))
          add(m.id, 'all');
      }
    } else if (a.startsWith('group:')) {
      const gid = a.slice('group:'.length);
      const group = directory.groups.find((g) => g.id === gid);
      if (!group) {
        throw new ProtocolError('SCOPE_DENIED', `${field}: unknown group "${gid}"`, { field });
      }
      for (const id of group.members) {
        if (isActive(memberById(directory, id))) add(id, 'group');
      }
    } else {
      const m = memberById(directory, a);
      if (!m)
        throw new ProtocolError('MEMBER_UNKNOWN', `${field}: unknown member "${a}"`, { field });
      if (isActive(m)) add(m.id, 'named');
    }
  });
  return out;
}

/**
 * The set of recipients a scope reaches (see {@link resolveScope} for the rules and errors).
 *
 * @example
 * resolveAddressees({ addressees: ['group:asean-mou', 'hub'] }, directory); // Set { 'vn', 'th', 'hub' }
 */
export function resolveAddressees(
  scope: { addressees: Addressee[] },
  directory: Directory,
): Set<Recipient> {
  return new Set(resolveScope(scope, directory).keys());
}

// --- agreements ------------------------------------------------------------------------------

// Parsed validity bounds of frozen agreements (parsed directories are deep-frozen): scope
// evaluation runs once per record and recipient, and Date.parse dominates it otherwise.
const agreementBounds = new WeakMap<Agreement, { from: number; until: number }>();

function inForce(a: Agreement, now: Date): boolean {
  let b = agreementBounds.get(a);
  if (!b) {
    b = {
      from: Date.parse(a.validFrom),
      until: a.validUntil === undefined ? Infinity : Date.parse(a.validUntil),
    };
    if (Object.isFrozen(a)) agreementBounds.set(a, b);
  }
  const t = now.getTime();
  return b.from <= t && t < b.until;
}

function isParty(a: Agreement, id: Recipient): boolean {
  return a.parties.includes('*') || a.parties.includes(id);
}

/**
 * The first agreement (in directory order) in force at `now` whose parties include both `x` and
 * `y` (or are `['*']`), whose types include `type` (or are `['*']`) and whose `maxTlp` is at least
 * as restrictive as `tlp`.
 */
export function findAgreement(
  directory: Directory,
  x: Recipient,
  y: Recipient,
  record: Pick<IndicatorRecord, 'type' | 'tlp'>,
  now: Date,
): Agreement | undefined {
  return directory.agreements.find(
    (a) =>
      inForce(a, now) &&
      isParty(a, x) &&
      isParty(a, y) &&
      ((a.types as string[]).includes('*') || (a.types as string[]).includes(record.type)) &&
      compareTlp(a.maxTlp, record.tlp) >= 0,
  );
}

// --- projection ------------------------------------------------------------------------------

/**
 * Copies a record field by field. Listing the fields (rather than spreading) is the point: any
 * property that is not part of the shareable model, local fields included, is left behind even
 * when a caller smuggled it into the object at run time.
 */
function copyRecord(r: IndicatorRecord, relations: Relation[]): IndicatorRecord {
  const out: IndicatorRecord = {
    id: r.id,
    origin: r.origin,
    version: r.version,
    status: r.status,
    type: r.type,
    value: r.value,
    categories: [...r.categories],
    confidence: r.confidence,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    validUntil: r.validUntil,
    tlp: r.tlp,
    handling:
      r.handling.conditions === undefined
        ? { code: r.handling.code }
        : { code: r.handling.code, conditions: r.handling.conditions },
    reliability: r.reliability,
    accuracy: r.accuracy,
    scope: { addressees: [...r.scope.addressees] },
    relations: relations.map((x) => ({
      type: x.type,
      target: x.target,
      targetOrigin: x.targetOrigin,
    })),
    issuedAt: r.issuedAt,
  };
  if (r.subtype !== undefined) out.subtype = r.subtype;
  if (r.chain !== undefined) out.chain = r.chain;
  if (r.reviewBy !== undefined) out.reviewBy = r.reviewBy;
  if (r.sharedNote !== undefined) out.sharedNote = r.sharedNote;
  return out;
}

/**
 * The shareable record of a local indicator: case reference, sources, notes and evidence never
 * leave the node, nor does any other property that is not a field of {@link IndicatorRecord}.
 */
export function projectLocal(local: LocalIndicator): IndicatorRecord {
  return copyRecord(local.record, local.record.relations);
}

// --- decisions -------------------------------------------------------------------------------

function deny(reason: DenialReason, detail: string): Disclosure {
  return { allowed: false, reason, detail };
}

function isDenial(x: ReadonlyMap<Recipient, Reach> | Disclosure): x is Disclosure {
  return !(x instanceof Map);
}

// Resolved scopes per frozen directory, keyed by the addressee list: records of one batch mostly
// share a scope. Bounded; outcomes (including refusals) are immutable once computed.
const SCOPE_CACHE_MAX = 1024;
const scopeCache = new WeakMap<
  Directory,
  Map<string, ReadonlyMap<Recipient, Reach> | Disclosure>
>();

function resolveOrDeny(
  record: IndicatorRecord,
  directory: Directory,
): ReadonlyMap<Recipient, Reach> | Disclosure {
  const cacheable = Object.isFrozen(directory) && Array.isArray(record.scope.addressees);
  // JSON, not a join: no two different lists may share a key.
  const key = cacheable ? JSON.stringify(record.scope.addressees) : '';
  let perDirectory = cacheable ? scopeCache.get(directory) : undefined;
  const hit = perDirectory?.get(key);
  if (hit) return isDenial(hit) ? { ...hit } : hit;
  let outcome: ReadonlyMap<Recipient, Reach> | Disclosure;
  try {
    outcome = resolveScope(record.scope, directory);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    outcome = deny('SCOPE_INVALID', e.message);
  }
  if (cacheable) {
    if (!perDirectory) {
      perDirectory = new Map();
      scopeCache.set(directory, perDirectory);
    }
    if (perDirectory.size >= SCOPE_CACHE_MAX) perDirectory.clear();
    perDirectory.set(key, outcome);
  }
  return isDenial(outcome) ? { ...outcome } : outcome;
}

/** Input of {@link evaluateDisclosure}. */
export interface DisclosureInput {
  record: IndicatorRecord;
  directory: Directory;
  recipient: Recipient;
  now: Date;
  /**
   * Which relations the recipient may see (e.g. only those whose target it may also see).
   * Default: all. The projection removes nothing else and adds nothing.
   */
  relationVisible?: (r: Relation) => boolean;
}

/**
 * Decides whether the origin may send `record` directly to `recipient`, and what exactly.
 *
 * Rules, in the order they are checked (the first failing one is the reason):
 * 1. recipient ≠ origin (`RECIPIENT_IS_ORIGIN`);
 * 2. origin is an active directory entry (`ORIGIN_INACTIVE`);
 * 3. recipient is an active directory entry (`RECIPIENT_INACTIVE`);
 * 4. the scope resolves (`SCOPE_INVALID`) and reaches the recipient (`NOT_IN_SCOPE`);
 * 5. TLP:RED: never to the hub (`RED_TO_HUB`), otherwise only when named (`RED_NOT_NAMED`);
 * 6. TLP:AMBER+STRICT: not when reached only through `all` (`AMBER_STRICT_VIA_ALL`);
 * 7. an agreement in force at `now` covers origin, recipient, type and TLP (`NO_AGREEMENT`).
 *
 * Handling codes do not restrict a direct disclosure (they govern onward sharing, see
 * {@link evaluateOnward}). A retracted record (tombstone) follows the same rules; sending it to
 * every earlier recipient of the record is the caller's job, the caller knowing its history.
 */
export function evaluateDisclosure(input: DisclosureInput): Disclosure {
  const { record, directory, recipient, now } = input;
  if (recipient === record.origin) {
    return deny('RECIPIENT_IS_ORIGIN', `${recipient} is the origin of the record`);
  }
  if (!isActive(memberById(directory, record.origin))) {
    return deny('ORIGIN_INACTIVE', `origin ${record.origin} is not an active directory entry`);
  }
  if (!isActive(memberById(directory, recipient))) {
    return deny('RECIPIENT_INACTIVE', `recipient ${recipient} is not an active directory entry`);
  }
  const resolved = resolveOrDeny(record, directory);
  if (isDenial(resolved)) return resolved;
  const reach = resolved.get(recipient);
  if (reach === undefined) {
    return deny(
      'NOT_IN_SCOPE',
      `${recipient} is not reached by scope [${record.scope.addressees.join(', ')}]`,
    );
  }
  if (record.tlp === 'RED') {
    if (recipient === 'hub') return deny('RED_TO_HUB', 'TLP:RED is never disclosed to the hub');
    if (reach !== 'named') {
      return deny(
        'RED_NOT_NAMED',
        `TLP:RED needs ${recipient} named in the scope (reached via ${reach})`,
      );
    }
  }
  if (record.tlp === 'AMBER+STRICT' && reach === 'all') {
    return deny('AMBER_STRICT_VIA_ALL', `TLP:AMBER+STRICT reaches ${recipient} only via "all"`);
  }
  const agreement = findAgreement(directory, record.origin, recipient, record, now);
  if (!agreement) {
    return deny(
      'NO_AGREEMENT',
      `no agreement in force covers ${record.origin} → ${recipient} for ${record.type} at TLP:${record.tlp}`,
    );
  }
  const visible = input.relationVisible;
  const relations = visible ? record.relations.filter((r) => visible(r)) : record.relations;
  return { allowed: true, agreementId: agreement.id, record: copyRecord(record, relations) };
}

/** Input of {@link evaluateOnward}. */
export interface OnwardInput {
  record: IndicatorRecord;
  directory: Directory;
  from: 'hub';
  to: MemberId;
  now: Date;
  /** As in {@link DisclosureInput.relationVisible}. */
  relationVisible?: (r: Relation) => boolean;
}

/**
 * Decides whether the hub may redistribute a record it received to member `to`. Distribution only
 * narrows: the hub forwards within the origin's scope and never beyond it.
 *
 * Rules, in order:
 * 1. `to` ≠ origin (`RECIPIENT_IS_ORIGIN`); origin and `to` active (`ORIGIN_INACTIVE`,
 *    `RECIPIENT_INACTIVE`);
 * 2. handling H0 or H1 (`HANDLING_NO_ONWARD` for H2, H3);
 * 3. TLP CLEAR, GREEN or AMBER (`TLP_NO_ONWARD` for AMBER+STRICT, RED);
 * 4. the scope resolves (`SCOPE_INVALID`), reaches the hub (`HUB_NOT_IN_SCOPE`) and reaches
 *    `to` (`NOT_IN_SCOPE`);
 * 5. an agreement in force covers hub ↔ `to`, type and TLP (`NO_AGREEMENT`).
 */
export function evaluateOnward(input: OnwardInput): Disclosure {
  const { record, directory, from, to, now } = input;
  if (to === record.origin) return deny('RECIPIENT_IS_ORIGIN', `${to} is the origin of the record`);
  if (!isActive(memberById(directory, record.origin))) {
    return deny('ORIGIN_INACTIVE', `origin ${record.origin} is not an active directory entry`);
  }
  if (to === from || !isActive(memberById(directory, to))) {
    return deny('RECIPIENT_INACTIVE', `recipient ${to} is not an active member`);
  }
  if (record.handling.code === 'H2' || record.handling.code === 'H3') {
    return deny('HANDLING_NO_ONWARD', `handling ${record.handling.code} forbids onward sharing`);
  }
  if (record.tlp === 'AMBER+STRICT' || record.tlp === 'RED') {
    return deny('TLP_NO_ONWARD', `TLP:${record.tlp} forbids onward sharing`);
  }
  const resolved = resolveOrDeny(record, directory);
  if (isDenial(resolved)) return resolved;
  if (!resolved.has(from))
    return deny('HUB_NOT_IN_SCOPE', 'the hub is not an addressee of the record');
  if (!resolved.has(to)) {
    return deny(
      'NOT_IN_SCOPE',
      `${to} is not reached by scope [${record.scope.addressees.join(', ')}]`,
    );
  }
  const agreement = findAgreement(directory, from, to, record, now);
  if (!agreement) {
    return deny(
      'NO_AGREEMENT',
      `no agreement in force covers hub → ${to} for ${record.type} at TLP:${record.tlp}`,
    );
  }
  const visible = input.relationVisible;
  const relations = visible ? record.relations.filter((r) => visible(r)) : record.relations;
  return { allowed: true, agreementId: agreement.id, record: copyRecord(record, relations) };
}

/** The protocol error code a receiver raises for a denial (e.g. when a received record fails). */
export function denialErrorCode(reason: DenialReason): ProtocolErrorCode {
  switch (reason) {
    case 'NO_AGREEMENT':
      return 'NO_AGREEMENT';
    case 'ORIGIN_INACTIVE':
    case 'RECIPIENT_INACTIVE':
    case 'RECIPIENT_IS_ORIGIN':
    case 'SCOPE_INVALID':
    case 'NOT_IN_SCOPE':
    case 'RED_NOT_NAMED':
    case 'RED_TO_HUB':
    case 'AMBER_STRICT_VIA_ALL':
    case 'HANDLING_NO_ONWARD':
    case 'TLP_NO_ONWARD':
    case 'HUB_NOT_IN_SCOPE':
      return 'SCOPE_DENIED';
  }
}

/**
 * Throws when a disclosure is denied, with {@link denialErrorCode}; returns the allowed one.
 *
 * @throws ProtocolError `SCOPE_DENIED` or `NO_AGREEMENT`
 */
export function assertDisclosed(d: Disclosure): Extract<Disclosure, { allowed: true }> {
  if (d.allowed) return d;
  throw new ProtocolError(denialErrorCode(d.reason), `${d.reason}: ${d.detail}`, {
    field: 'scope',
  });
}
