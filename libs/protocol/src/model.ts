/**
 * The shareable record model (docs/protocol.md, "Record"). Everything here travels between
 * jurisdictions; local-only fields (case references, sources, notes, evidence) are in
 * {@link LocalFields} and never leave the origin node.
 */

/** Member id: lower-case ISO 3166-1 alpha-2 country code or another short id, `[a-z][a-z0-9-]{1,15}`. */
export type MemberId = string;

export const INDICATOR_TYPES = [
  'domain',
  'url',
  'ip',
  'payment-account',
  'operator-alias',
  'iptv-service',
] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

export const PAYMENT_SUBTYPES = [
  'iban',
  'bank-account',
  'card-merchant',
  'e-wallet',
  'crypto-address',
] as const;
export type PaymentSubtype = (typeof PAYMENT_SUBTYPES)[number];

export const ALIAS_SUBTYPES = ['handle', 'email', 'messenger-id'] as const;
export type AliasSubtype = (typeof ALIAS_SUBTYPES)[number];

/** Chains whose address checksums the protocol knows. */
export const CRYPTO_CHAINS = ['bitcoin', 'ethereum'] as const;
export type CryptoChain = (typeof CRYPTO_CHAINS)[number];

export const CONTENT_CATEGORIES = [
  'webtoon',
  'drama',
  'film',
  'sports',
  'music',
  'live-tv',
] as const;
export type ContentCategory = (typeof CONTENT_CATEGORIES)[number];

/** TLP 2.0, from least to most restrictive. */
export const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const;
export type Tlp = (typeof TLP_LEVELS)[number];

/**
 * Handling codes in the manner of Europol's:
 * - H0: intelligence purposes; no further restriction beyond TLP;
 * - H1: not to be used in judicial proceedings without the originator's permission;
 * - H2: no onward dissemination (including hub redistribution) without the originator's permission;
 * - H3: other conditions, stated in `handling.conditions`.
 * Ordered from least to most restrictive.
 */
export const HANDLING_CODES = ['H0', 'H1', 'H2', 'H3'] as const;
export type HandlingCode = (typeof HANDLING_CODES)[number];

/** Source reliability (A completely reliable … C fairly reliable, X unknown). */
export const RELIABILITY = ['A', 'B', 'C', 'X'] as const;
export type Reliability = (typeof RELIABILITY)[number];

/** Information accuracy: 1 confirmed … 4 unconfirmed. */
export type Accuracy = 1 | 2 | 3 | 4;

export const RELATION_TYPES = ['operates', 'pays-into', 'mirrors', 'successor-of'] as const;
export type RelationType = (typeof RELATION_TYPES)[number];

/** A directed relation from this record to another record (same or other origin). */
export interface Relation {
  type: RelationType;
  /** Target record id. */
  target: string;
  /** Origin of the target record. */
  targetOrigin: MemberId;
}

/**
 * An addressee in a scope: a member id, `group:<id>` (e.g. an MoU), `hub`, or `all`
 * (every member and the hub).
 */
export type Addressee = string;

export interface Handling {
  code: HandlingCode;
  /** Free-text conditions; required for H3. */
  conditions?: string;
}

/** The signed, shareable indicator record (one version of it). */
export interface IndicatorRecord {
  /** Record id, a UUID chosen by the origin; stable across versions. */
  id: string;
  origin: MemberId;
  /** 1 for the first version, +1 on each update or retraction. */
  version: number;
  status: 'active' | 'retracted';
  type: IndicatorType;
  /** Payment account or alias subtype; absent for other types. */
  subtype?: PaymentSubtype | AliasSubtype;
  /** Chain of a crypto address. */
  chain?: CryptoChain;
  /** Normalized value (see normalize.ts). */
  value: string;
  categories: ContentCategory[];
  /** 0..100 */
  confidence: number;
  /** RFC 3339 UTC with milliseconds, e.g. `2026-11-28T10:00:00.000Z`. */
  firstSeen: string;
  lastSeen: string;
  validUntil: string;
  reviewBy?: string;
  tlp: Tlp;
  handling: Handling;
  reliability: Reliability;
  accuracy: Accuracy;
  scope: { addressees: Addressee[] };
  relations: Relation[];
  /** Free text the analyst explicitly marked shareable. */
  sharedNote?: string;
  /** When this version was issued (RFC 3339 UTC ms). */
  issuedAt: string;
}

/** Fields that never leave the origin node. */
export interface LocalFields {
  caseReference?: string;
  sources?: string[];
  notes?: string;
  evidence?: string[];
}

/** What a node stores for its own indicators: the record plus its local-only fields. */
export interface LocalIndicator {
  record: IndicatorRecord;
  local: LocalFields;
}
