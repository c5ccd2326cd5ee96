import type {
  Accuracy,
  ContentCategory,
  CryptoChain,
  Handling,
  IndicatorType,
  Reliability,
  Tlp,
} from '../../protocol/src/index.js';

/**
 * An indicator read from a foreign format, normalized and ready to be stored as a local indicator
 * held for review. It carries no id, origin or scope: the node decides those (ADR 0031).
 */
export interface ImportCandidate {
  /** Where it came from: a STIX object id, a MISP attribute uuid, or `line <n>`. */
  ref: string;
  type: IndicatorType;
  /** Normalized value (libs/protocol normalizeIndicator). */
  value: string;
  subtype?: string;
  chain?: CryptoChain;
  categories: ContentCategory[];
  confidence: number;
  tlp: Tlp;
  handling: Handling;
  reliability: Reliability;
  accuracy: Accuracy;
  firstSeen?: string;
  validUntil?: string;
  sharedNote?: string;
  /** Local-only provenance (never shared): where the value came from and what was said about it. */
  local: { sources: string[]; notes?: string };
}

/** The outcome for one object, attribute or line of a foreign document. */
export interface ImportReportEntry {
  ref: string;
  /** STIX type, MISP attribute type, or `row`. */
  kind: string;
  /** mapped: became a candidate; skipped: deliberately not imported; invalid: could not be read. */
  outcome: 'mapped' | 'skipped' | 'invalid';
  /** Stable reason code for skipped/invalid entries. */
  code?: string;
  detail?: string;
  /** Value as found (for skipped/invalid) or normalized (for mapped). */
  value?: string;
}

/** Defaults applied where a document says nothing (chosen by the importing analyst). */
export interface ImportDefaults {
  tlp: Tlp;
  handling: Handling;
  confidence: number;
  reliability: Reliability;
  accuracy: Accuracy;
  categories: ContentCategory[];
}

/** Conservative defaults: unmarked foreign data is treated as TLP:AMBER, reliability unknown. */
export const DEFAULT_IMPORT_DEFAULTS: ImportDefaults = Object.freeze({
  tlp: 'AMBER',
  handling: { code: 'H0' },
  confidence: 50,
  reliability: 'X',
  accuracy: 3,
  categories: [],
}) as ImportDefaults;

export interface ImportResult {
  candidates: ImportCandidate[];
  report: ImportReportEntry[];
  /** Counts per outcome and per kind, for a quick account. */
  summary: ImportSummary;
}

export interface ImportSummary {
  mapped: number;
  skipped: number;
  invalid: number;
  byKind: Record<string, { mapped: number; skipped: number; invalid: number }>;
}

export function summarize(report: readonly ImportReportEntry[]): ImportSummary {
  const s: ImportSummary = { mapped: 0, skipped: 0, invalid: 0, byKind: {} };
  for (const e of report) {
    s[e.outcome]++;
    const k = (s.byKind[e.kind] ??= { mapped: 0, skipped: 0, invalid: 0 });
    k[e.outcome]++;
  }
  return s;
}
