import type { IndicatorView } from './indicators.service.js';

/** The API's view of an indicator: the signed record, local fields (own only), provenance summary. */
export function toIndicatorResponse(v: IndicatorView): Record<string, unknown> {
  const r = v.record;
  return {
    id: r.id,
    origin: r.origin,
    version: r.version,
    status: r.status,
    type: r.type,
    subtype: r.subtype,
    chain: r.chain,
    value: r.value,
    categories: r.categories,
    confidence: r.confidence,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    validUntil: r.validUntil,
    reviewBy: r.reviewBy,
    tlp: r.tlp,
    handling: r.handling,
    reliability: r.reliability,
    accuracy: r.accuracy,
    scope: r.scope,
    relations: r.relations,
    sharedNote: r.sharedNote,
    issuedAt: r.issuedAt,
    local: v.local ?? undefined,
    receivedFrom: v.receivedFrom ?? undefined,
    updatedAt: v.updatedAt,
  };
}
