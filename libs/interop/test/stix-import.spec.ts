import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_IMPORT_DEFAULTS,
  TLP1_MARKING_IDS,
  TLP2_MARKING_IDS,
  importStixBundle,
  parseSimplePattern,
  toStixBundle,
  InteropError,
} from '../src/index.js';
import { everyKind, makeRecord } from './records.js';

const indicator = (pattern: string, extra: Record<string, unknown> = {}) => ({
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  created: '2026-01-01T00:00:00Z',
  modified: '2026-01-01T00:00:00Z',
  pattern,
  pattern_type: 'stix',
  valid_from: '2026-01-01T00:00:00.1234Z',
  ...extra,
});
const bundle = (...objects: unknown[]) => ({ type: 'bundle', id: 'bundle--1', objects });

describe('STIX 2.1 import', () => {
  it('round-trips every exported type, value, TLP and handling (retracted records excepted)', () => {
    const records = everyKind();
    const r = importStixBundle(toStixBundle(records));
    const active = records.filter((x) => x.status === 'active');
    expect(
      r.candidates.map((c) => [c.type, c.value, c.subtype, c.chain, c.tlp, c.handling]),
    ).toEqual(active.map((x) => [x.type, x.value, x.subtype, x.chain, x.tlp, x.handling]));
    expect(r.candidates.map((c) => c.reliability)).toEqual(active.map((x) => x.reliability));
    const revoked = r.report.filter((e) => e.code === 'REVOKED');
    expect(revoked).toHaveLength(1);
    expect(r.summary.invalid).toBe(0);
  });

  it('reports each observable of an imported indicator as covered, not twice', () => {
    const r = importStixBundle(toStixBundle([makeRecord()]));
    expect(r.candidates).toHaveLength(1);
    expect(r.report.find((e) => e.kind === 'domain-name')?.code).toBe('COVERED');
    expect(r.report.find((e) => e.kind === 'relationship')?.code).toBe('RELATIONSHIP');
  });

  it('takes the strictest of several TLP markings, TLP 1.0 ids included', () => {
    const amber1 = Object.keys(TLP1_MARKING_IDS).find((k) => TLP1_MARKING_IDS[k] === 'AMBER')!;
    const r = importStixBundle(
      bundle(
        indicator("[domain-name:value = 'a.example']", {
          object_marking_refs: [TLP2_MARKING_IDS.GREEN, amber1],
        }),
      ),
    );
    expect(r.candidates[0]?.tlp).toBe('AMBER');
  });

  it('refuses an object whose marking it cannot interpret, never importing it looser', () => {
    const r = importStixBundle(
      bundle(
        indicator("[domain-name:value = 'a.example']", {
          object_marking_refs: ['marking-definition--2c5bd1f4-8d6f-4a0d-9f5f-6c6ac0b4c8e1'],
        }),
      ),
    );
    expect(r.candidates).toHaveLength(0);
    expect(r.report[0]).toMatchObject({ outcome: 'skipped', code: 'UNKNOWN_MARKING' });
  });

  it('keeps a foreign statement marking verbatim as H3 conditions', () => {
    const id = 'marking-definition--2c5bd1f4-8d6f-4a0d-9f5f-6c6ac0b4c8e1';
    const r = importStixBundle(
      bundle(
        {
          type: 'marking-definition',
          spec_version: '2.1',
          id,
          created: '2026-01-01T00:00:00.000Z',
          definition_type: 'statement',
          definition: { statement: 'Copyright ACME; do not forward' },
        },
        indicator("[domain-name:value = 'a.example']", { object_marking_refs: [id] }),
      ),
    );
    expect(r.candidates[0]?.handling).toEqual({
      code: 'H3',
      conditions: 'Copyright ACME; do not forward',
    });
    expect(r.candidates[0]?.tlp).toBe(DEFAULT_IMPORT_DEFAULTS.tlp);
  });

  it('skips patterns a single record cannot hold, and says why', () => {
    const r = importStixBundle(
      bundle(
        indicator("[domain-name:value = 'a.example' OR domain-name:value = 'b.example']"),
        indicator("[file:hashes.'SHA-256' = 'ab']", { id: 'indicator--2' }),
        indicator('[network-traffic:dst_port = 443]', { id: 'indicator--3' }),
        indicator("[x:y = 'z']", { id: 'indicator--4', pattern_type: 'yara' }),
      ),
    );
    expect(r.candidates).toHaveLength(0);
    expect(r.report.map((e) => e.code)).toEqual([
      'UNSUPPORTED_PATTERN',
      'UNSUPPORTED_PATTERN',
      'UNSUPPORTED_PATTERN',
      'UNSUPPORTED_PATTERN',
    ]);
  });

  it('reports a value that fails normalization as invalid with the protocol code', () => {
    const r = importStixBundle(bundle(indicator("[ipv4-addr:value = '010.1.1.1']")));
    expect(r.report[0]).toMatchObject({ outcome: 'invalid', code: 'INVALID_VALUE' });
  });

  it('reads fractional seconds of any precision into milliseconds', () => {
    const r = importStixBundle(bundle(indicator("[domain-name:value = 'a.example']")));
    expect(r.candidates[0]?.firstSeen).toBe('2026-01-01T00:00:00.123Z');
  });

  it('parses escaped quotes in pattern literals', () => {
    expect(parseSimplePattern("[user-account:account_login = 'o\\'neil']")).toEqual([
      { objectType: 'user-account', property: 'account_login', value: "o'neil" },
    ]);
  });

  it('refuses a document that is not a bundle', () => {
    expect(() => importStixBundle({ type: 'indicator' })).toThrow(InteropError);
    expect(() => importStixBundle([])).toThrow(/bundle/);
  });

  it('imports standalone observables and OpenCTI payment observables', () => {
    const r = importStixBundle(
      bundle(
        { type: 'domain-name', id: 'domain-name--1', value: 'Bücher.example' },
        {
          type: 'cryptocurrency-wallet',
          id: 'cryptocurrency-wallet--1',
          value: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
        },
        { type: 'malware', id: 'malware--1', name: 'x' },
      ),
    );
    expect(r.candidates.map((c) => [c.type, c.value, c.chain])).toEqual([
      ['domain', 'xn--bcher-kva.example', undefined],
      ['payment-account', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'bitcoin'],
    ]);
    expect(r.report[2]).toMatchObject({ kind: 'malware', outcome: 'skipped', code: 'UNMAPPABLE' });
  });
});
