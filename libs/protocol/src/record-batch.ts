/**
 * Many records built by one node in one request (a bulk create, an import of a list) usually
 * share every field but their id, value and dates. {@link RecordBatch} validates each distinct
 * shape once with {@link parseRecord}, then checks only what differs row by row, and writes each
 * record's canonical text by filling the template's text (ADR 0057).
 */
import { randomUUID } from 'node:crypto';
import { canonicalize } from './json.js';
import type { IndicatorRecord } from './model.js';
import type { NormalizedIndicator } from './normalize.js';
import { isRfc3339Ms, parseRecord, UUID_PATTERN } from './record.js';

/** The fields that vary row by row, in the order RFC 8785 writes them (UTF-16 key order). */
const VARYING = ['firstSeen', 'id', 'lastSeen', 'validUntil', 'value'] as const;
const VARYING_SET: ReadonlySet<string> = new Set(VARYING);

interface Template {
  /** A validated record whose shared parts are frozen deep copies. */
  readonly record: IndicatorRecord;
  /** Its keys other than {@link VARYING}, compared with each new candidate. */
  readonly shared: readonly (keyof IndicatorRecord)[];
  /** Number of keys of the record: a candidate with as many, all its own, has its key set. */
  readonly keys: number;
  /** The canonical text around the five varying values (six parts). */
  readonly parts: readonly string[];
}

/** A record and its canonical text (RFC 8785), as {@link RecordBatch.build} returns them. */
export interface BuiltRecord {
  record: IndicatorRecord;
  text: string;
}

/**
 * Builds records that pass {@link parseRecord}, with their canonical text, for one batch.
 *
 * `build(candidate, normalized)` returns exactly what `parseRecord(candidate, { normalized })` and
 * `text(record)` would (the differential test in libs/protocol/test/record-batch.spec.ts), and
 * throws the same errors. A candidate that has the shape of the last one validated (every field
 * equal but `id`, `value`, `firstSeen`, `lastSeen` and `validUntil`) is checked only on those
 * five; any other candidate goes through `parseRecord` and becomes the new template.
 *
 * Records built on the template share its frozen `categories`, `handling`, `scope` and
 * `relations`: they are values, and an attempt to change one throws rather than changing every
 * record of the batch.
 */
export class RecordBatch {
  /** The last template per type, subtype and chain (a mixed file alternates between them). */
  private readonly templates = new Map<string, Template>();

  /** @param text the record's canonical text; `canonicalize` unless the caller has a faster equal one */
  constructor(private readonly text: (r: IndicatorRecord) => string = canonicalize) {}

  build(candidate: Record<string, unknown>, normalized: NormalizedIndicator): BuiltRecord {
    const key = `${String(candidate.type)}|${normalized.subtype ?? ''}|${normalized.chain ?? ''}`;
    const t = this.templates.get(key);
    if (t !== undefined && fits(t, candidate, normalized)) {
      const record: IndicatorRecord = {
        ...t.record,
        id: candidate.id as string,
        value: normalized.value,
        firstSeen: candidate.firstSeen as string,
        lastSeen: candidate.lastSeen as string,
        validUntil: candidate.validUntil as string,
      };
      const quoted = JSON.stringify(record.value);
      // RFC 8785 writes strings as JSON.stringify does, except that it refuses lone surrogates
      // (which JSON.stringify escapes as \u....); leave anything escaped that way to `text`.
      if (quoted.includes('\\u')) return { record, text: this.text(record) };
      const p = t.parts;
      const text =
        p[0]! +
        record.firstSeen +
        p[1]! +
        record.id +
        p[2]! +
        record.lastSeen +
        p[3]! +
        record.validUntil +
        p[4]! +
        quoted +
        p[5]!;
      return { record, text };
    }
    const record = parseRecord(candidate, { normalized });
    const text = this.text(record);
    const made = makeTemplate(record, text);
    if (made !== undefined) this.templates.set(key, made);
    return { record, text };
  }
}

/** True when `c` has the template's shape and its varying fields pass parseRecord's checks. */
function fits(t: Template, c: Record<string, unknown>, n: NormalizedIndicator): boolean {
  const proto: unknown = Object.getPrototypeOf(c);
  if (proto !== Object.prototype && proto !== null) return false;
  const r = t.record;
  // Conservative: a key the template lacks, or one present but undefined (parseRecord takes
  // some of those as absent and refuses others), leaves the candidate to parseRecord.
  let keys = 0;
  for (const k in c) {
    if (c[k] === undefined || !Object.hasOwn(r, k)) return false;
    keys++;
  }
  if (keys !== t.keys) return false;
  for (const k of t.shared) if (!same(c[k], r[k])) return false;
  // The caller's normalization must be the one stored (parseRecord's rule for `normalized`).
  if (n.value !== c.value || n.subtype !== r.subtype || n.chain !== r.chain) return false;
  const id = c.id;
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) return false;
  for (const rel of r.relations) {
    if (rel.target === id && rel.targetOrigin === r.origin) return false;
  }
  const { firstSeen, lastSeen, validUntil } = c;
  return (
    isRfc3339Ms(firstSeen) &&
    isRfc3339Ms(lastSeen) &&
    isRfc3339Ms(validUntil) &&
    lastSeen >= firstSeen &&
    validUntil > firstSeen
  );
}

/** Structural equality of a candidate's value with a validated (JSON-shaped) one. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof b !== 'object' || b === null || typeof a !== 'object' || a === null) return false;
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return false;
    for (let i = 0; i < b.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(a)) return false;
  const proto: unknown = Object.getPrototypeOf(a);
  if (proto !== Object.prototype && proto !== null) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const k in x) {
    if (x[k] === undefined || !Object.hasOwn(y, k) || !same(x[k], y[k])) return false;
    keys++;
  }
  let expected = 0;
  for (const k in y) if (Object.hasOwn(y, k)) expected++;
  return keys === expected;
}

/** Deep-frozen copy of JSON data. */
function frozen<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  const copy = (Array.isArray(v) ? v.map(frozen) : { ...v }) as Record<string, unknown>;
  if (!Array.isArray(v)) for (const k of Object.keys(copy)) copy[k] = frozen(copy[k]);
  return Object.freeze(copy) as T;
}

/**
 * The template of a validated record: its canonical text cut around the five varying values,
 * found by writing the record with a placeholder in each (a random token that occurs nowhere
 * else in the text). Undefined when the text cannot be cut that way.
 */
function makeTemplate(record: IndicatorRecord, text: string): Template | undefined {
  const token = `~${randomUUID()}~`;
  if (text.includes(token)) return undefined;
  const marked = canonicalize({
    ...record,
    firstSeen: `${token}0`,
    id: `${token}1`,
    lastSeen: `${token}2`,
    validUntil: `${token}3`,
    value: `${token}4`,
  });
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < VARYING.length; i++) {
    const mark = `${token}${i}`;
    const at = marked.indexOf(mark, from);
    if (at < 0 || marked.indexOf(mark, at + 1) >= 0) return undefined;
    // The value is written with its quotes (JSON.stringify); the others are plain ASCII.
    const quoted = VARYING[i] === 'value';
    parts.push(marked.slice(from, quoted ? at - 1 : at));
    from = at + mark.length + (quoted ? 1 : 0);
  }
  parts.push(marked.slice(from));
  const shared = (Object.keys(record) as (keyof IndicatorRecord)[]).filter(
    (k) => !VARYING_SET.has(k),
  );
  const base = { ...record } as Record<string, unknown>;
  for (const k of shared) base[k] = frozen(base[k]);
  const t: Template = {
    record: base as unknown as IndicatorRecord,
    shared,
    keys: Object.keys(record).length,
    parts,
  };
  // The parts must give back the text they were cut from.
  const again =
    parts[0]! +
    record.firstSeen +
    parts[1]! +
    record.id +
    parts[2]! +
    record.lastSeen +
    parts[3]! +
    record.validUntil +
    parts[4]! +
    JSON.stringify(record.value) +
    parts[5]!;
  return again === text ? t : undefined;
}
