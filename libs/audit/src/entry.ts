import { canonicalBytes, isRfc3339Ms, leafHash } from '../../protocol/src/index.js';
import { AuditError } from './errors.js';

/**
 * The operations logged, in the manner of the EU Law Enforcement Directive's logging article
 * (Art. 25): collection, alteration, consultation, disclosure, combination and erasure, plus the
 * receiving side of a disclosure (receipt, rejection) and the auditor's own work (`audit`).
 */
export const AUDIT_OPERATIONS = [
  'collection',
  'alteration',
  'consultation',
  'disclosure',
  'receipt',
  'rejection',
  'combination',
  'erasure',
  'audit',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/**
 * A record reference: `<origin>/<record id>@<version>`. Never the indicator's value: the log holds
 * metadata and digests only.
 */
export type RecordRef = string;

/** What an operation is about, before it gets its position in the log. */
export interface AuditEvent {
  /** When it happened (RFC 3339 UTC with milliseconds). */
  at: string;
  /** Who: an API subject (`analyst.kim`), `system` or a member id for federation traffic. */
  actor: string;
  op: AuditOperation;
  /** The stated purpose of a consultation (`investigation:KNPA-2026-0412`). */
  purpose?: string;
  /** The records concerned, as {@link RecordRef}s. */
  records?: RecordRef[];
  /** The other member: recipient of a disclosure, sender of a receipt or rejection. */
  partner?: string;
  /** The agreement a disclosure was made under. */
  agreement?: string;
  /** The bundle: its sequence number and Merkle root (the digest of its records). */
  bundle?: { seq: string; root: string };
  /** A stable reason code (rejections, erasures: `retraction`, `expiry`, `SCOPE_DENIED`...). */
  reason?: string;
  /** Free metadata with a fixed vocabulary (route, query filter names, counts); never values. */
  detail?: Record<string, string | number | boolean>;
}

/** An entry of the log: an event at its position (`seq`, the Merkle leaf index, from 0). */
export interface AuditEntry extends AuditEvent {
  v: 1;
  /** The node (or `hub`) whose log this is. */
  log: string;
  seq: number;
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;
const ACTOR = /^[A-Za-z0-9._@:-]{1,128}$/;
const REF = /^[a-z][a-z0-9-]{0,31}\/[0-9a-f-]{36}@[1-9][0-9]{0,9}$/;
const REASON = /^[A-Za-z0-9_.:-]{1,64}$/;
const SEQ = /^[1-9][0-9]{0,18}$/;
const ROOT = /^[A-Za-z0-9_-]{43}$/;
const DETAIL_KEY = /^[a-zA-Z][a-zA-Z0-9]{0,31}$/;
const DETAIL_TEXT = /^[A-Za-z0-9 _.:/,@=+-]{0,200}$/;

/**
 * A purpose: a category from a fixed list and an optional case reference, e.g.
 * `investigation:KNPA-2026-0412`. The reference allows no dots or spaces, so neither a domain,
 * a URL nor an IP address can be typed into it by mistake.
 */
export const PURPOSE_CATEGORIES = [
  'investigation',
  'analysis',
  'deconfliction',
  'quality-review',
  'legal-request',
  'supervision',
  'audit',
] as const;
const PURPOSE = new RegExp(`^(${PURPOSE_CATEGORIES.join('|')})(:[A-Za-z0-9_/-]{1,64})?$`);

/** True when `p` is a valid stated purpose (see {@link PURPOSE_CATEGORIES}). */
export function isPurpose(p: unknown): p is string {
  return typeof p === 'string' && PURPOSE.test(p);
}

/** The reference of a record version in the log. */
export function recordRef(origin: string, id: string, version: number): RecordRef {
  return `${origin}/${id}@${version}`;
}

const FIELDS = new Set([
  'v',
  'log',
  'seq',
  'at',
  'actor',
  'op',
  'purpose',
  'records',
  'partner',
  'agreement',
  'bundle',
  'reason',
  'detail',
]);

function bad(field: string, why: string): never {
  throw new AuditError('INVALID_ENTRY', `entry.${field}: ${why}`);
}

/**
 * Validates an entry (exact keys, types, vocabularies). Every free-text field has a closed
 * alphabet, so an entry cannot carry an indicator value.
 * @throws AuditError `INVALID_ENTRY`
 */
export function parseAuditEntry(value: unknown): AuditEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('', 'not an object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) bad(k, 'is not an entry field');
  if (o.v !== 1) bad('v', 'must be 1');
  if (typeof o.log !== 'string' || !ID.test(o.log)) bad('log', 'must be a member id or hub');
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) {
    bad('seq', 'must be a non-negative integer');
  }
  checkEvent(o);
  return o as unknown as AuditEntry;
}

/**
 * Validates an event before it is appended.
 * @throws AuditError `INVALID_ENTRY`
 */
export function checkEvent(o: Record<string, unknown>): void {
  if (typeof o.at !== 'string' || !isRfc3339Ms(o.at)) bad('at', 'must be RFC 3339 UTC with ms');
  if (typeof o.actor !== 'string' || !ACTOR.test(o.actor)) bad('actor', 'bad actor');
  if (typeof o.op !== 'string' || !(AUDIT_OPERATIONS as readonly string[]).includes(o.op)) {
    bad('op', 'unknown operation');
  }
  if (o.purpose !== undefined && !isPurpose(o.purpose)) bad('purpose', 'not a valid purpose');
  if (o.op === 'consultation' && o.purpose === undefined)
    bad('purpose', 'a consultation needs one');
  if (o.records !== undefined) {
    if (!Array.isArray(o.records)) bad('records', 'must be an array');
    for (const r of o.records as unknown[]) {
      if (typeof r !== 'string' || !REF.test(r)) bad('records', 'must be origin/id@version refs');
    }
  }
  if (o.partner !== undefined && (typeof o.partner !== 'string' || !ID.test(o.partner))) {
    bad('partner', 'must be a member id or hub');
  }
  if (o.agreement !== undefined && (typeof o.agreement !== 'string' || !REASON.test(o.agreement))) {
    bad('agreement', 'must be an agreement id');
  }
  if (o.bundle !== undefined) {
    const b = o.bundle as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Object.keys(b).sort().join() !== 'root,seq') {
      bad('bundle', 'must be {seq, root}');
    }
    if (typeof b.seq !== 'string' || !SEQ.test(b.seq)) bad('bundle.seq', 'positive decimal');
    if (typeof b.root !== 'string' || !ROOT.test(b.root)) bad('bundle.root', 'base64url SHA-256');
  }
  if (o.reason !== undefined && (typeof o.reason !== 'string' || !REASON.test(o.reason))) {
    bad('reason', 'must be a reason code');
  }
  if (o.detail !== undefined) {
    const d = o.detail as Record<string, unknown>;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) bad('detail', 'not an object');
    for (const [k, v] of Object.entries(d)) {
      if (!DETAIL_KEY.test(k)) bad(`detail.${k}`, 'bad key');
      const ok =
        typeof v === 'boolean' ||
        (typeof v === 'number' && Number.isSafeInteger(v)) ||
        (typeof v === 'string' && DETAIL_TEXT.test(v));
      if (!ok) bad(`detail.${k}`, 'must be a boolean, an integer or short metadata text');
    }
  }
}

/** An entry from an event at a position of a log (fields in a stable order, absent ones left out). */
export function toEntry(log: string, seq: number, e: AuditEvent): AuditEntry {
  const entry: AuditEntry = { v: 1, log, seq, at: e.at, actor: e.actor, op: e.op };
  if (e.purpose !== undefined) entry.purpose = e.purpose;
  if (e.records !== undefined) entry.records = [...e.records];
  if (e.partner !== undefined) entry.partner = e.partner;
  if (e.agreement !== undefined) entry.agreement = e.agreement;
  if (e.bundle !== undefined) entry.bundle = { seq: e.bundle.seq, root: e.bundle.root };
  if (e.reason !== undefined) entry.reason = e.reason;
  if (e.detail !== undefined) entry.detail = { ...e.detail };
  return entry;
}

/**
 * The RFC 8785 form of an entry that passed {@link parseAuditEntry}, written directly: members in
 * code-unit order, and strings between quotes as they are, which is exact because every string
 * field of a valid entry has an alphabet of printable ASCII without `"` or a backslash. Only the
 * appender writes every entry with it (the events were checked first) and the verifier's fast path
 * compares lines with it; a line that differs from it goes through the strict path.
 */
export function canonicalEntryText(e: AuditEntry): string {
  let s = `{"actor":"${e.actor}"`;
  if (e.agreement !== undefined) s += `,"agreement":"${e.agreement}"`;
  s += `,"at":"${e.at}"`;
  if (e.bundle !== undefined) s += `,"bundle":{"root":"${e.bundle.root}","seq":"${e.bundle.seq}"}`;
  if (e.detail !== undefined) {
    s += ',"detail":{';
    let first = true;
    for (const k of Object.keys(e.detail).sort()) {
      const v = e.detail[k];
      s += `${first ? '' : ','}"${k}":${typeof v === 'string' ? `"${v}"` : String(v)}`;
      first = false;
    }
    s += '}';
  }
  s += `,"log":"${e.log}","op":"${e.op}"`;
  if (e.partner !== undefined) s += `,"partner":"${e.partner}"`;
  if (e.purpose !== undefined) s += `,"purpose":"${e.purpose}"`;
  if (e.reason !== undefined) s += `,"reason":"${e.reason}"`;
  if (e.records !== undefined) {
    s += e.records.length === 0 ? ',"records":[]' : `,"records":["${e.records.join('","')}"]`;
  }
  return `${s},"seq":${e.seq},"v":${e.v}}`;
}

/** The bytes that are hashed into the tree: the RFC 8785 canonical JSON of the entry. */
export function entryBytes(entry: AuditEntry): Uint8Array {
  return canonicalBytes(entry);
}

/** The Merkle leaf hash of an entry (RFC 9162: SHA-256 over 0x00 and the canonical bytes). */
export function entryLeafHash(entry: AuditEntry): Uint8Array {
  return leafHash(entryBytes(entry));
}
