import {
  HANDLING_CODES,
  narrowTlp,
  strictestHandling,
  type ContentCategory,
  type Handling,
  type IndicatorRecord,
  type IndicatorType,
  type Tlp,
} from '../../protocol/src/index.js';

/** A record the hub accepted, with the country of its origin (from the directory). */
export interface SourceRecord {
  record: IndicatorRecord;
  /** ISO 3166-1 alpha-2 country of the origin member, e.g. `KR`. */
  country: string;
}

/** What an aggregate or a network cites: one version of one source record. */
export interface SourceRef {
  origin: string;
  id: string;
  version: number;
  confidence: number;
  country: string;
}

/** Sightings of an aggregated indicator in one country: how many live records report it. */
export interface CountrySightings {
  country: string;
  sightings: number;
}

/** One aggregated indicator: every live source record of one (type, normalized value). */
export interface Aggregate {
  type: IndicatorType;
  value: string;
  /** Contributing records, ordered by origin then id. */
  sources: SourceRef[];
  /** Per-country sightings, ordered by country. */
  countries: CountrySightings[];
  firstSeen: string;
  lastSeen: string;
  /** Noisy-OR of the source confidences, 0..100 (see {@link combinedConfidence}). */
  confidence: number;
  /** The most restrictive TLP of the sources. */
  tlp: Tlp;
  /** The most restrictive handling code of the sources (H3 conditions kept). */
  handling: Handling;
  /** Union of the sources' content categories, sorted. */
  categories: ContentCategory[];
  /** Earliest `validUntil` of the sources: when the aggregate next changes by expiry. */
  nextExpiry: string;
}

/** The key of an aggregate: type and normalized value. */
export function aggregateKey(type: string, value: string): string {
  return `${type}|${value}`;
}

/**
 * Whether a record contributes at `now`: an active (not retracted) version whose `validUntil`
 * is still ahead. Expired and retracted records contribute nothing.
 */
export function isLive(record: IndicatorRecord, now: Date): boolean {
  return record.status === 'active' && Date.parse(record.validUntil) > now.getTime();
}

/**
 * Combined confidence of independent sources: noisy-OR, `1 - Π(1 - cᵢ/100)`, as a percentage
 * rounded to an integer. Two sources at 80 give 96; one source keeps its own confidence; adding a
 * source never lowers the result, and a source at 0 changes nothing.
 */
export function combinedConfidence(confidences: readonly number[]): number {
  let miss = 1;
  for (const c of confidences) miss *= 1 - Math.min(100, Math.max(0, c)) / 100;
  return Math.round((1 - miss) * 100);
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The aggregate of the given sources of ONE (type, value) at `now`, or `undefined` when no source
 * is live (every one retracted or expired): such an aggregate disappears.
 * Only the latest version of each (origin, id) counts; callers pass current versions.
 */
export function aggregate(sources: readonly SourceRecord[], now: Date): Aggregate | undefined {
  const live = sources
    .filter((s) => isLive(s.record, now))
    .sort((a, b) => byText(a.record.origin, b.record.origin) || byText(a.record.id, b.record.id));
  const first = live[0];
  if (!first) return undefined;
  const countries = new Map<string, number>();
  const categories = new Set<ContentCategory>();
  let tlp: Tlp = first.record.tlp;
  let firstSeen = first.record.firstSeen;
  let lastSeen = first.record.lastSeen;
  let nextExpiry = first.record.validUntil;
  for (const { record, country } of live) {
    if (record.type !== first.record.type || record.value !== first.record.value) {
      throw new Error(`aggregate: ${record.type}:${record.value} mixed with ${first.record.value}`);
    }
    countries.set(country, (countries.get(country) ?? 0) + 1);
    for (const c of record.categories) categories.add(c);
    tlp = narrowTlp(tlp, record.tlp);
    if (record.firstSeen < firstSeen) firstSeen = record.firstSeen;
    if (record.lastSeen > lastSeen) lastSeen = record.lastSeen;
    if (record.validUntil < nextExpiry) nextExpiry = record.validUntil;
  }
  const [h0, ...hs] = live.map((s) => s.record.handling);
  return {
    type: first.record.type,
    value: first.record.value,
    sources: live.map(({ record, country }) => ({
      origin: record.origin,
      id: record.id,
      version: record.version,
      confidence: record.confidence,
      country,
    })),
    countries: [...countries.entries()]
      .sort(([a], [b]) => byText(a, b))
      .map(([country, sightings]) => ({ country, sightings })),
    firstSeen,
    lastSeen,
    confidence: combinedConfidence(live.map((s) => s.record.confidence)),
    tlp,
    handling: strictestHandling(h0 ?? { code: HANDLING_CODES[0] }, ...hs),
    categories: [...categories].sort(byText),
    nextExpiry,
  };
}

/**
 * Aggregates every (type, value) of `sources` at `now`, ordered by type then value. Sources that
 * are not live contribute nothing; keys without a live source are absent.
 */
export function aggregateAll(sources: readonly SourceRecord[], now: Date): Aggregate[] {
  const groups = new Map<string, SourceRecord[]>();
  for (const s of sources) {
    const k = aggregateKey(s.record.type, s.record.value);
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  const out: Aggregate[] = [];
  for (const k of [...groups.keys()].sort(byText)) {
    const a = aggregate(groups.get(k) ?? [], now);
    if (a) out.push(a);
  }
  return out;
}
