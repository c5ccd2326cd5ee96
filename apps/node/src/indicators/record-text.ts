import { canonicalize, type IndicatorRecord } from '../../../../libs/protocol/src/index.js';

/**
 * `canonicalize(record)` (RFC 8785) for a record that libs/protocol `parseRecord` just returned,
 * through the engine's JSON.stringify: RFC 8785 serializes strings and numbers exactly as
 * ECMAScript's JSON.stringify does, so a copy with every object's keys in code-unit order gives
 * the same text — about a quarter of the cost of the general canonicalizer, which ran once per
 * record of every bulk request and import (ADR 0047).
 *
 * Anything this copy does not account for falls back to `canonicalize`: a key it does not know
 * (a field added to the record later), or a `\u` escape in the output (a control character, or a
 * lone surrogate, which `canonicalize` refuses and JSON.stringify would escape).
 */
export function canonicalRecordText(r: IndicatorRecord): string {
  let keys = 0;
  const o: Record<string, unknown> = {};
  // Keys in UTF-16 code-unit order, optional ones only when present (as canonicalize skips
  // undefined members).
  o.accuracy = r.accuracy;
  o.categories = r.categories;
  keys += 2;
  if (r.chain !== undefined) {
    o.chain = r.chain;
    keys++;
  }
  o.confidence = r.confidence;
  o.firstSeen = r.firstSeen;
  const h = r.handling;
  if (Object.keys(h).length !== (h.conditions === undefined ? 1 : 2)) return canonicalize(r);
  o.handling =
    h.conditions === undefined ? { code: h.code } : { code: h.code, conditions: h.conditions };
  o.id = r.id;
  o.issuedAt = r.issuedAt;
  o.lastSeen = r.lastSeen;
  o.origin = r.origin;
  keys += 7;
  const relations: unknown[] = [];
  for (const x of r.relations) {
    if (Object.keys(x).length !== 3) return canonicalize(r);
    relations.push({ target: x.target, targetOrigin: x.targetOrigin, type: x.type });
  }
  o.relations = relations;
  o.reliability = r.reliability;
  keys += 2;
  if (r.reviewBy !== undefined) {
    o.reviewBy = r.reviewBy;
    keys++;
  }
  if (Object.keys(r.scope).length !== 1) return canonicalize(r);
  o.scope = { addressees: r.scope.addressees };
  keys++;
  if (r.sharedNote !== undefined) {
    o.sharedNote = r.sharedNote;
    keys++;
  }
  o.status = r.status;
  keys++;
  if (r.subtype !== undefined) {
    o.subtype = r.subtype;
    keys++;
  }
  o.tlp = r.tlp;
  o.type = r.type;
  o.validUntil = r.validUntil;
  o.value = r.value;
  o.version = r.version;
  keys += 5;
  if (Object.keys(r).length !== keys) return canonicalize(r);
  const text = JSON.stringify(o);
  return text.includes('\\u') ? canonicalize(r) : text;
}
