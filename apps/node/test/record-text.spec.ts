// The node's fast canonical text of a record it just built (ADR 0047) is byte for byte what
// libs/protocol canonicalize gives, for every shape a record can take, and falls back to it
// for anything it does not account for.
import { describe, expect, it } from '@jest/globals';
import {
  canonicalize,
  parseRecord,
  type IndicatorRecord,
} from '../../../libs/protocol/src/index.js';
import { canonicalRecordText } from '../src/indicators/record-text.js';

const base = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  origin: 'kr',
  version: 1,
  status: 'active',
  type: 'domain',
  value: 'newtoki469.com',
  categories: ['webtoon'],
  confidence: 80,
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-11-02T00:00:00.000Z',
  validUntil: '2027-05-01T00:00:00.000Z',
  tlp: 'AMBER',
  handling: { code: 'H1' },
  reliability: 'B',
  accuracy: 2,
  scope: { addressees: ['group:kr-vn-mou'] },
  relations: [],
  issuedAt: '2026-11-29T00:00:00.000Z',
};

const variants: [string, Record<string, unknown>][] = [
  ['a minimal record', {}],
  ['version 7, retracted', { version: 7, status: 'retracted' }],
  [
    'every optional field',
    {
      reviewBy: '2027-01-01T00:00:00.000Z',
      sharedNote: 'mirror of a known operator',
      handling: { code: 'H3', conditions: 'police use only' },
    },
  ],
  [
    'a payment account with subtype',
    {
      type: 'payment-account',
      subtype: 'iban',
      value: 'GB82WEST12345698765432',
    },
  ],
  [
    'a crypto wallet with chain',
    {
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'ethereum',
      value: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    },
  ],
  [
    'relations',
    {
      relations: [
        { type: 'mirrors', target: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', targetOrigin: 'vn' },
        { targetOrigin: 'kr', type: 'operates', target: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d' },
      ],
    },
  ],
  [
    'many categories and addressees',
    {
      categories: ['webtoon', 'drama', 'film', 'sports', 'music', 'live-tv'],
      scope: { addressees: ['vn', 'hub', 'group:kr-vn-mou', 'all'] },
    },
  ],
  [
    'non-ASCII, quotes, backslashes and line breaks in free text',
    {
      sharedNote: 'Ünïcødé “quotes” "plain" back\\slash \\u0041 tab\tnew\nline\r 😀 한국어',
      handling: { code: 'H3', conditions: 'a "quoted" \\ condition\n' },
    },
  ],
  ['an internationalized domain', { value: 'xn--bcher-kva.de' }],
  ['confidence 0 and 100', { confidence: 0 }],
];

function build(overrides: Record<string, unknown>): IndicatorRecord {
  return parseRecord({ ...base, ...overrides });
}

describe('canonicalRecordText', () => {
  for (const [name, overrides] of variants) {
    it(`equals canonicalize for ${name}`, () => {
      const r = build(overrides);
      expect(canonicalRecordText(r)).toBe(canonicalize(r));
    });
  }

  it('equals canonicalize for records whose fields were set in any order', () => {
    const r = build({ confidence: 100, sharedNote: 'x' });
    const shuffled = Object.fromEntries(Object.entries(r).reverse()) as unknown as IndicatorRecord;
    expect(canonicalRecordText(shuffled)).toBe(canonicalize(r));
  });

  it('falls back to canonicalize for a field it does not know', () => {
    const r = { ...build({}), futureField: 'x' } as unknown as IndicatorRecord;
    expect(canonicalRecordText(r)).toBe(canonicalize(r));
    expect(canonicalRecordText(r)).toContain('"futureField":"x"');
  });

  it('falls back to canonicalize for unknown keys inside handling, scope or a relation', () => {
    const r = build({
      relations: [
        { type: 'mirrors', target: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', targetOrigin: 'vn' },
      ],
    });
    for (const bad of [
      { ...r, handling: { ...r.handling, extra: 1 } },
      { ...r, scope: { ...r.scope, extra: 1 } },
      { ...r, relations: [{ ...r.relations[0]!, extra: 1 }] },
    ] as unknown as IndicatorRecord[]) {
      expect(canonicalRecordText(bad)).toBe(canonicalize(bad));
      expect(canonicalRecordText(bad)).toContain('"extra":1');
    }
  });

  it('refuses a lone surrogate as canonicalize does (never an escaped one)', () => {
    const r = { ...build({}), sharedNote: 'broken \ud800 text' } as IndicatorRecord;
    expect(() => canonicalRecordText(r)).toThrow(/lone surrogate/);
  });

  it('writes a control character as canonicalize does', () => {
    const r = { ...build({}), sharedNote: 'bell \u0007 and nul \u0000' } as IndicatorRecord;
    expect(canonicalRecordText(r)).toBe(canonicalize(r));
  });
});
