/**
 * Validation of a whole indicator record (docs/protocol-parts/20-record-and-normalization.md).
 *
 * `parseRecord` is the single gate for records received from the wire or built by a node: it
 * accepts exactly the shape of {@link IndicatorRecord}, with every value canonical, and returns a
 * fresh object, so nothing the caller holds can change what was validated.
 */
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELATION_TYPES,
  RELIABILITY,
  TLP_LEVELS,
  type Accuracy,
  type ContentCategory,
  type Handling,
  type IndicatorRecord,
  type IndicatorType,
  type Relation,
} from './model.js';
import { normalizeIndicator, type NormalizedIndicator } from './normalize.js';

/** Member id pattern (also the id part of `group:<id>`). */
export const MEMBER_ID_PATTERN = /^[a-z][a-z0-9-]{1,15}$/;

/** Lower-case RFC 9562 UUID (versions 1-8, variant 10xx). */
export const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Longest `sharedNote` and `handling.conditions`, in Unicode code points. */
export const MAX_FREE_TEXT = 4000;

/** Highest record version (a signed 32-bit integer, safe in every JSON implementation). */
export const MAX_VERSION = 2 ** 31 - 1;

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * True when `s` is an RFC 3339 UTC timestamp with exactly three fraction digits
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`) naming a real instant (no 30 February, no leap second `:60`).
 *
 * @example isRfc3339Ms('2026-11-28T10:00:00.000Z') // true
 */
export function isRfc3339Ms(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 24 || !RFC3339_MS.test(s)) return false;
  // Calendar arithmetic instead of a Date round trip: same verdicts (years 0000..9999, no
  // rollover of impossible dates), a fifth of the cost on the receive path (docs/benchmarks.md).
  // The pattern matched, so every field is ASCII digits: read them without substrings.
  const year = digits(s, 0) * 100 + digits(s, 2);
  const month = digits(s, 5);
  const day = digits(s, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!;
  return day <= days && digits(s, 11) <= 23 && digits(s, 14) <= 59 && digits(s, 17) <= 59;
}

/** The two-digit number at `i` of a string known to hold ASCII digits there. */
function digits(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Formats a date as the protocol's timestamp (`YYYY-MM-DDTHH:mm:ss.sssZ`).
 *
 * @example toRfc3339Ms(new Date(Date.UTC(2026, 10, 28, 10))) // '2026-11-28T10:00:00.000Z'
 * @throws {ProtocolError} `INVALID_VALUE` for an invalid date or a year outside 0000..9999
 */
export function toRfc3339Ms(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new ProtocolError('INVALID_VALUE', 'date: invalid date');
  const s = d.toISOString();
  if (!RFC3339_MS.test(s)) {
    throw new ProtocolError('INVALID_VALUE', 'date: year outside 0000..9999');
  }
  return s;
}

/** True for a member id (`[a-z][a-z0-9-]{1,15}`) that is not the reserved word `all`. */
export function isMemberId(s: unknown): s is string {
  return typeof s === 'string' && MEMBER_ID_PATTERN.test(s) && s !== 'all';
}

/** True for a scope addressee: a member id, `group:<id>`, `hub` or `all`. */
export function isAddressee(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  if (s === 'all' || s === 'hub') return true;
  if (s.startsWith('group:')) return MEMBER_ID_PATTERN.test(s.slice('group:'.length));
  return isMemberId(s);
}

const RECORD_KEYS = [
  'id',
  'origin',
  'version',
  'status',
  'type',
  'subtype',
  'chain',
  'value',
  'categories',
  'confidence',
  'firstSeen',
  'lastSeen',
  'validUntil',
  'reviewBy',
  'tlp',
  'handling',
  'reliability',
  'accuracy',
  'scope',
  'relations',
  'sharedNote',
  'issuedAt',
] as const;
const OPTIONAL_KEYS: ReadonlySet<string> = new Set(['subtype', 'chain', 'reviewBy', 'sharedNote']);
/** The record's keys as a set, with the one method `Reader.object` needs of a list. */
const RECORD_KEY_SET = ((set: ReadonlySet<string>) => ({
  includes: (k: string) => set.has(k),
}))(new Set<string>(RECORD_KEYS));

// Free text is shown to analysts in other jurisdictions: bidi overrides could disguise it
// (Trojan Source), controls other than tab and line breaks have no business in it.
const HOSTILE_TEXT = /[\p{Cc}\u202A-\u202E\u2066-\u2069\p{Cs}]/u;
const ALLOWED_CONTROLS = /[\t\n\r]/g;

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly prefix: string | undefined) {}

  path(field: string): string {
    if (field === '') return this.prefix ?? 'record';
    return this.prefix === undefined || this.prefix === '' ? field : `${this.prefix}.${field}`;
  }

  fail(field: string, reason: string, code: ProtocolErrorCode = 'INVALID_FIELD'): never {
    const path = this.path(field);
    throw new ProtocolError(code, `${path}: ${reason}`, { field: path });
  }

  object(v: unknown, field: string, keys: readonly string[], optional: ReadonlySet<string>): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(field, 'must be an object');
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) this.fail(field, 'must be a plain object');
    const o = v as Obj;
    const known = keys === RECORD_KEYS ? RECORD_KEY_SET : keys;
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.fail(field === '' ? k : `${field}.${k}`, 'unknown key');
    }
    for (const k of keys) {
      if (!optional.has(k) && o[k] === undefined) {
        this.fail(field === '' ? k : `${field}.${k}`, 'required');
      }
      if (o[k] === null) this.fail(field === '' ? k : `${field}.${k}`, 'must not be null');
    }
    return o;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }

  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
    if (!(allowed as readonly unknown[]).includes(v)) {
      this.fail(field, `must be one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  integer(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, `must be an integer in ${min}..${max}`);
    }
    return v;
  }

  timestamp(v: unknown, field: string): string {
    if (!isRfc3339Ms(v)) {
      this.fail(field, 'must be an RFC 3339 UTC timestamp YYYY-MM-DDTHH:mm:ss.sssZ of a real date');
    }
    return v;
  }

  text(v: unknown, field: string): string {
    const s = this.string(v, field);
    if (s.trim() === '') this.fail(field, 'must not be empty (omit it instead)');
    if ([...s].length > MAX_FREE_TEXT) this.fail(field, `longer than ${MAX_FREE_TEXT} characters`);
    if (HOSTILE_TEXT.test(s.replace(ALLOWED_CONTROLS, ''))) {
      this.fail(field, 'contains a control, bidi override/isolate or unpaired surrogate character');
    }
    return s;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array');
    return v;
  }
}

/**
 * Validates a complete indicator record and returns a new object with keys in the order of
 * {@link IndicatorRecord}.
 *
 * @param value the record, e.g. from `JSON.parse` of received bytes
 * @param opts.field prefix for error field paths (e.g. `records[3]`)
 * @param opts.normalized what {@link normalizeIndicator} returned for this record's type, value,
 * subtype and chain, when the caller has just run it (a node building its own record): the record
 * must then carry exactly that value, subtype and chain, and the normalization is not run twice
 * @throws {ProtocolError} `INVALID_FIELD` (unknown, missing or ill-typed key, broken constraint),
 * `INVALID_VALUE` (value not canonical or not normalizable), `UNSUPPORTED_TYPE` (unknown type or chain)
 */
export function parseRecord(
  value: unknown,
  opts: { field?: string; normalized?: NormalizedIndicator } = {},
): IndicatorRecord {
  const r: Reader = new Reader(opts.field);
  const o = r.object(value, '', RECORD_KEYS, OPTIONAL_KEYS);

  const id = r.string(o.id, 'id');
  if (!UUID_PATTERN.test(id)) r.fail('id', 'must be a lower-case UUID');
  const origin = r.string(o.origin, 'origin');
  if (!isMemberId(origin)) r.fail('origin', 'must be a member id [a-z][a-z0-9-]{1,15}, not "all"');
  const version = r.integer(o.version, 'version', 1, MAX_VERSION);
  const status = r.oneOf(o.status, 'status', ['active', 'retracted'] as const);
  if (!(INDICATOR_TYPES as readonly unknown[]).includes(o.type)) {
    r.fail('type', 'unknown indicator type', 'UNSUPPORTED_TYPE');
  }
  const type = o.type as IndicatorType;
  const subtype = o.subtype === undefined ? undefined : r.string(o.subtype, 'subtype');
  const chain = o.chain === undefined ? undefined : r.string(o.chain, 'chain');
  const rawValue = r.string(o.value, 'value');

  let normalized = opts.normalized;
  if (normalized !== undefined && (normalized.subtype !== subtype || normalized.chain !== chain)) {
    r.fail('value', 'subtype or chain differ from the normalized indicator');
  }
  try {
    normalized ??= normalizeIndicator({ type, value: rawValue, subtype, chain });
  } catch (e) {
    if (e instanceof ProtocolError) {
      const path = r.path(e.field ?? 'value');
      const reason = e.message.replace(/^[^:]*: /, '');
      throw new ProtocolError(e.code, `${path}: ${reason}`, { field: path, cause: e });
    }
    throw e;
  }
  if (normalized.value !== rawValue) {
    r.fail(
      'value',
      `not in canonical form (expected ${JSON.stringify(normalized.value)})`,
      'INVALID_VALUE',
    );
  }

  const categories = r
    .array(o.categories, 'categories')
    .map((c, i) => r.oneOf<ContentCategory>(c, `categories[${i}]`, CONTENT_CATEGORIES));
  categories.forEach((c, i) => {
    if (categories.indexOf(c) !== i) r.fail(`categories[${i}]`, `duplicate category "${c}"`);
  });
  const confidence = r.integer(o.confidence, 'confidence', 0, 100);

  const firstSeen = r.timestamp(o.firstSeen, 'firstSeen');
  const lastSeen = r.timestamp(o.lastSeen, 'lastSeen');
  const validUntil = r.timestamp(o.validUntil, 'validUntil');
  const reviewBy = o.reviewBy === undefined ? undefined : r.timestamp(o.reviewBy, 'reviewBy');
  const issuedAt = r.timestamp(o.issuedAt, 'issuedAt');
  // Same-format UTC timestamps order lexically as they order in time.
  if (lastSeen < firstSeen) r.fail('lastSeen', 'must not be before firstSeen');
  if (validUntil <= firstSeen) r.fail('validUntil', 'must be after firstSeen');

  const tlp = r.oneOf(o.tlp, 'tlp', TLP_LEVELS);
  const h = r.object(o.handling, 'handling', ['code', 'conditions'], new Set(['conditions']));
  const handling: Handling = { code: r.oneOf(h.code, 'handling.code', HANDLING_CODES) };
  if (handling.code === 'H3') {
    if (h.conditions === undefined) r.fail('handling.conditions', 'required for H3');
    handling.conditions = r.text(h.conditions, 'handling.conditions');
  } else if (h.conditions !== undefined) {
    r.fail('handling.conditions', 'allowed only for H3');
  }
  const reliability = r.oneOf(o.reliability, 'reliability', RELIABILITY);
  const accuracy = r.integer(o.accuracy, 'accuracy', 1, 4) as Accuracy;

  const scope = r.object(o.scope, 'scope', ['addressees'], new Set());
  const addressees = r.array(scope.addressees, 'scope.addressees').map((a, i) => {
    const field = `scope.addressees[${i}]`;
    if (!isAddressee(a)) r.fail(field, 'must be a member id, group:<id>, hub or all');
    return a;
  });
  if (addressees.length === 0) r.fail('scope.addressees', 'must not be empty');
  addressees.forEach((a, i) => {
    if (addressees.indexOf(a) !== i) r.fail(`scope.addressees[${i}]`, `duplicate addressee "${a}"`);
  });

  const relationKeys = ['type', 'target', 'targetOrigin'];
  const seen = new Set<string>();
  const relations = r.array(o.relations, 'relations').map((v, i): Relation => {
    const f = `relations[${i}]`;
    const rel = r.object(v, f, relationKeys, new Set());
    const relType = r.oneOf(rel.type, `${f}.type`, RELATION_TYPES);
    const target = r.string(rel.target, `${f}.target`);
    if (!UUID_PATTERN.test(target)) r.fail(`${f}.target`, 'must be a lower-case UUID');
    const targetOrigin = r.string(rel.targetOrigin, `${f}.targetOrigin`);
    if (!isMemberId(targetOrigin)) r.fail(`${f}.targetOrigin`, 'must be a member id');
    if (target === id && targetOrigin === origin) r.fail(f, 'a record cannot relate to itself');
    const key = `${relType} ${targetOrigin} ${target}`;
    if (seen.has(key)) r.fail(f, 'duplicate relation');
    seen.add(key);
    return { type: relType, target, targetOrigin };
  });

  const sharedNote = o.sharedNote === undefined ? undefined : r.text(o.sharedNote, 'sharedNote');

  const record: IndicatorRecord = {
    id,
    origin,
    version,
    status,
    type,
    ...(normalized.subtype === undefined ? {} : { subtype: normalized.subtype }),
    ...(normalized.chain === undefined ? {} : { chain: normalized.chain }),
    value: normalized.value,
    categories,
    confidence,
    firstSeen,
    lastSeen,
    validUntil,
    ...(reviewBy === undefined ? {} : { reviewBy }),
    tlp,
    handling,
    reliability,
    accuracy,
    scope: { addressees },
    relations,
    ...(sharedNote === undefined ? {} : { sharedNote }),
    issuedAt,
  };
  return record;
}
