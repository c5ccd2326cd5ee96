import { BrokerError } from './errors.js';

/**
 * The one module that owns federation subject and stream naming. Everything that builds or reads a
 * `fed.v1.*` subject, a stream name, a deliver prefix or an account name goes through here, so the
 * hub config, the stream plan and the applications cannot drift apart.
 */

/** First two tokens of every federation subject. Bumped only with a wire-incompatible change. */
export const FED_SUBJECT_ROOT = 'fed.v1';

/** Pseudo-member id of the hub (Interpol): an origin for feeds, an addressee for member reports. */
export const HUB = 'hub';

/** Addressee meaning "every member and the hub". Only members may use it as an addressee. */
export const ALL = 'all';

/**
 * Ids that can never be member ids: `hub` and `all` are addressees, and `sys` / `quarantine` would
 * collide with the hub's `SYS` and `QUARANTINE` accounts once upper-cased.
 */
export const RESERVED_IDS: readonly string[] = Object.freeze([HUB, ALL, 'sys', 'quarantine']);

const MEMBER_ID = /^[a-z][a-z0-9]{1,15}$/;
const KIND = /^[a-z][a-z0-9-]{0,31}$/;

/** Who may send: a member id or {@link HUB}. */
export type Origin = string;
/** Who a subject is for: a member id, {@link HUB} or {@link ALL}. */
export type Addressee = string;

/** The three meaningful tokens of a federation subject. */
export interface FedSubject {
  /** member id or `hub` */
  readonly origin: Origin;
  /** member id, `hub` or `all` */
  readonly addressee: Addressee;
  /** message kind, e.g. `records`, `receipts`, `feed` */
  readonly kind: string;
}

/** True when `id` is a syntactically valid, non-reserved member id (`kr`, `vn`, `th`...). */
export function isMemberId(id: string): boolean {
  return MEMBER_ID.test(id) && !RESERVED_IDS.includes(id);
}

/**
 * Throws `INVALID_SUBJECT` unless `id` is a member id: 2-16 characters, lower-case ASCII letters
 * and digits, starting with a letter, not one of {@link RESERVED_IDS}. The same token is used as a
 * subject token, a JetStream domain and (upper-cased) a hub account name, so it must be safe in all.
 */
export function assertMemberId(id: string, what = 'member id'): void {
  if (!isMemberId(id)) {
    throw new BrokerError(
      'INVALID_SUBJECT',
      `${what} ${JSON.stringify(id)} must match ${MEMBER_ID.source} and not be one of ${RESERVED_IDS.join(', ')}`,
    );
  }
}

/** Throws `INVALID_SUBJECT` unless `kind` is a lower-case token (`records`, `receipts`...). */
export function assertKind(kind: string): void {
  if (!KIND.test(kind)) {
    throw new BrokerError(
      'INVALID_SUBJECT',
      `kind ${JSON.stringify(kind)} must match ${KIND.source}`,
    );
  }
}

function assertOrigin(origin: string): void {
  if (origin !== HUB) assertMemberId(origin, 'origin');
}

/**
 * Checks an origin → addressee pair: members may address another member, the hub or `all`; the
 * hub addresses members one at a time (it has no broadcast outbox); nobody addresses itself.
 */
function assertPair(origin: string, addressee: string): void {
  assertOrigin(origin);
  if (addressee === ALL) {
    if (origin === HUB) {
      throw new BrokerError('INVALID_SUBJECT', 'the hub addresses members one by one, not "all"');
    }
    return;
  }
  if (addressee !== HUB) assertMemberId(addressee, 'addressee');
  if (addressee === origin) {
    throw new BrokerError('INVALID_SUBJECT', `origin and addressee are both ${origin}`);
  }
}

/**
 * The subject a message of `kind` from `origin` to `addressee` is published on.
 *
 * @example subjectFor('kr', 'vn', 'records') === 'fed.v1.kr.vn.records'
 * @throws BrokerError `INVALID_SUBJECT` on a bad token or pair
 */
export function subjectFor(origin: Origin, addressee: Addressee, kind: string): string {
  assertPair(origin, addressee);
  assertKind(kind);
  return `${FED_SUBJECT_ROOT}.${origin}.${addressee}.${kind}`;
}

/**
 * The wildcard that captures everything `origin` sends to `addressee`: the subject filter of the
 * outbox stream for that pair.
 *
 * @example pairFilter('kr', 'vn') === 'fed.v1.kr.vn.>'
 */
export function pairFilter(origin: Origin, addressee: Addressee): string {
  assertPair(origin, addressee);
  return `${FED_SUBJECT_ROOT}.${origin}.${addressee}.>`;
}

/**
 * Parses a federation subject; returns `undefined` for anything that is not a well-formed
 * `fed.v1.<origin>.<addressee>.<kind>` subject with a valid pair.
 */
export function tryParseSubject(subject: string): FedSubject | undefined {
  try {
    return parseSubject(subject);
  } catch {
    return undefined;
  }
}

/**
 * Parses a federation subject.
 *
 * @throws BrokerError `INVALID_SUBJECT` when the subject has the wrong shape, a bad token, or an
 *   origin/addressee pair that {@link subjectFor} would refuse
 */
export function parseSubject(subject: string): FedSubject {
  const tokens = subject.split('.');
  if (tokens.length !== 5 || `${tokens[0]}.${tokens[1]}` !== FED_SUBJECT_ROOT) {
    throw new BrokerError(
      'INVALID_SUBJECT',
      `${JSON.stringify(subject)} is not ${FED_SUBJECT_ROOT}.<origin>.<addressee>.<kind>`,
    );
  }
  const [, , origin = '', addressee = '', kind = ''] = tokens;
  assertPair(origin, addressee);
  assertKind(kind);
  return { origin, addressee, kind };
}

/** Hub account (and leaf-local account) name of a member: its id upper-cased (`kr` → `KR`). */
export function accountName(memberOrHub: string): string {
  assertOrigin(memberOrHub);
  return memberOrHub.toUpperCase();
}

/**
 * Name of the outbox stream that holds what `origin` sends to `addressee`, in the origin's domain.
 * The origin is part of the name because the source consumer's flow-control replies travel on
 * `$JS.FC.<stream>.>`: two origins both owning an `OUT_VN` would export the same subject to VN.
 *
 * @example outboxStreamName('kr', 'vn') === 'KR_OUT_VN'
 */
export function outboxStreamName(origin: Origin, addressee: Addressee): string {
  assertPair(origin, addressee);
  return `${origin.toUpperCase()}_OUT_${addressee.toUpperCase()}`;
}

/** Name of the inbox stream in `self`'s domain: `INBOX` on a member leaf, `HUB_INBOX` on the hub. */
export function inboxStreamName(self: Origin): string {
  assertOrigin(self);
  return self === HUB ? 'HUB_INBOX' : 'INBOX';
}

/** JetStream API prefix of a domain, as used in `sources[].external.api`: `$JS.<domain>.API`. */
export function jsApiPrefix(domain: Origin): string {
  assertOrigin(domain);
  return `$JS.${domain}.API`;
}

/**
 * Deliver-subject prefix of the source consumer that `reader` runs on the outbox
 * `origin → addressee`. Direct pairs use `deliver.<origin>.<addressee>` (the reader is the
 * addressee); a broadcast outbox has several readers, so each gets `deliver.<origin>.all.<reader>`
 * and the hub exports each prefix to its one reader only.
 */
export function deliverPrefix(origin: Origin, addressee: Addressee, reader: Origin): string {
  assertPair(origin, addressee);
  assertOrigin(reader);
  if (addressee === ALL) {
    if (reader === origin) {
      throw new BrokerError('INVALID_SUBJECT', `${origin} does not read its own broadcast outbox`);
    }
    return `deliver.${origin}.${ALL}.${reader}`;
  }
  if (reader !== addressee) {
    throw new BrokerError(
      'INVALID_SUBJECT',
      `only ${addressee} reads the outbox ${origin} → ${addressee}, not ${reader}`,
    );
  }
  return `deliver.${origin}.${addressee}`;
}
