import { describe, expect, it } from '@jest/globals';
import {
  aggregateAll,
  correlate,
  isOneEdit,
  networkId,
  numberedName,
  oneEditIndex,
  type SourceRecord,
} from '../src/index.js';
import { NOW, rec, relate } from './factories.js';

const run = (sources: SourceRecord[], now = NOW) =>
  correlate(aggregateAll(sources, now), sources, now);
const ref = (s: SourceRecord) => ({
  origin: s.record.origin,
  id: s.record.id,
  version: s.record.version,
  confidence: s.record.confidence,
  country: s.country,
});

/** KR: alias "toonboss" operates toonkor123.com; VN: toonkor123.com pays into an IBAN. */
function crossBorder() {
  const domainKr = rec('kr', { value: 'toonkor123.com', firstSeen: '2026-10-01T00:00:00.000Z' });
  const alias = rec('kr', { type: 'operator-alias', subtype: 'handle', value: 'toonboss' });
  relate(alias, 'operates', domainKr);
  const domainVn = rec('vn', { value: 'toonkor123.com', firstSeen: '2026-10-05T00:00:00.000Z' });
  const iban = rec('vn', { type: 'payment-account', subtype: 'iban', value: 'VN12BANK0001' });
  relate(domainVn, 'pays-into', iban);
  return { domainKr, alias, domainVn, iban };
}

describe('name rules', () => {
  it('reads numbered names and one-edit variants', () => {
    expect(numberedName('toonkor123.com')).toEqual({ stem: 'toonkor', n: 123, suffix: '.com' });
    expect(numberedName('toonkor.com')).toBeUndefined();
    expect(numberedName('123.com')).toBeUndefined();
    expect(isOneEdit('newtoki.com', 'newtok1.com')).toBe(true);
    expect(isOneEdit('newtoki.com', 'newtokii.com')).toBe(true);
    expect(isOneEdit('newtoki.com', 'ewtoki.com')).toBe(true);
    expect(isOneEdit('newtoki.com', 'newtoki.com')).toBe(false);
    expect(isOneEdit('newtoki.com', 'oldtoki.com')).toBe(false);
  });
});

describe('operator networks', () => {
  it('an alias in KR and an account in VN tied through one domain form one cross-border network', () => {
    const { domainKr, alias, domainVn, iban } = crossBorder();
    const { networks } = run([domainKr, alias, domainVn, iban]);
    expect(networks).toEqual([
      {
        id: networkId('domain|toonkor123.com'),
        members: [
          { type: 'domain', value: 'toonkor123.com', countries: ['KR', 'VN'] },
          { type: 'operator-alias', value: 'toonboss', countries: ['KR'] },
          { type: 'payment-account', value: 'VN12BANK0001', countries: ['VN'] },
        ],
        countries: ['KR', 'VN'],
        evidence: [
          {
            from: { type: 'domain', value: 'toonkor123.com' },
            relation: 'pays-into',
            to: { type: 'payment-account', value: 'VN12BANK0001' },
            source: ref(domainVn),
          },
          {
            from: { type: 'operator-alias', value: 'toonboss' },
            relation: 'operates',
            to: { type: 'domain', value: 'toonkor123.com' },
            source: ref(alias),
          },
        ],
        sources: [domainKr, alias, domainVn, iban]
          .map(ref)
          .sort((a, b) => (a.origin + a.id < b.origin + b.id ? -1 : 1)),
      },
    ]);
  });

  it('a component reported by one country only is not a cross-border network', () => {
    const d = rec('kr');
    const a = relate(rec('kr', { type: 'operator-alias', value: 'boss' }), 'operates', d);
    expect(run([d, a]).networks).toEqual([]);
  });

  it('a retracted or expired relation record unlinks the network', () => {
    const { domainKr, alias, domainVn, iban } = crossBorder();
    alias.record.status = 'retracted';
    domainVn.record.validUntil = '2026-11-28T11:00:00.000Z';
    expect(run([domainKr, alias, domainVn, iban]).networks).toEqual([]);
  });

  it('a relation to a record the hub never received links nothing', () => {
    const d = rec('kr');
    d.record.relations.push({
      type: 'pays-into',
      target: '00000000-0000-4000-8000-000000000000',
      targetOrigin: 'vn',
    });
    expect(run([d, rec('vn', { value: 'other.com' })]).networks).toEqual([]);
  });
});

describe('successor flags', () => {
  it('a numbered successor of a network domain is flagged with the network and sources', () => {
    const net = crossBorder();
    const next = rec('th', { value: 'toonkor124.com', firstSeen: '2026-11-15T00:00:00.000Z' });
    const far = rec('th', { value: 'toonkor200.net', firstSeen: '2026-11-15T00:00:00.000Z' });
    const { networks, successors } = run([...Object.values(net), next, far]);
    expect(successors).toEqual([
      {
        domain: 'toonkor124.com',
        predecessor: 'toonkor123.com',
        networkId: networks[0]?.id,
        rules: ['numbered-successor'],
        via: [],
        evidence: [],
        sources: [net.domainKr, next, net.domainVn]
          .map(ref)
          .sort((a, b) => (a.origin + a.id < b.origin + b.id ? -1 : 1)),
      },
    ]);
  });

  it('a lower number or an older domain is not a successor', () => {
    const net = crossBorder();
    const older = rec('th', { value: 'toonkor124.com', firstSeen: '2026-09-01T00:00:00.000Z' });
    const lower = rec('th', { value: 'toonkor99.com', firstSeen: '2026-11-15T00:00:00.000Z' });
    expect(run([...Object.values(net), older, lower]).successors).toEqual([]);
  });

  it('a one-edit variant of a network domain is flagged', () => {
    const net = crossBorder();
    const typo = rec('th', { value: 'toonkor123.co', firstSeen: '2026-11-15T00:00:00.000Z' });
    const flags = run([...Object.values(net), typo]).successors;
    expect(flags.map((f) => [f.domain, f.predecessor, f.rules])).toEqual([
      ['toonkor123.co', 'toonkor123.com', ['one-edit-variant']],
    ]);
  });

  it('a new domain paying into a known account is flagged with both relations as evidence', () => {
    const net = crossBorder();
    const hop = rec('th', { value: 'webtoonhub.org', firstSeen: '2026-11-20T00:00:00.000Z' });
    relate(hop, 'pays-into', net.iban);
    const { successors } = run([...Object.values(net), hop]);
    expect(successors).toHaveLength(1);
    expect(successors[0]).toMatchObject({
      domain: 'webtoonhub.org',
      predecessor: 'toonkor123.com',
      rules: ['shared-payment-account'],
      via: [{ type: 'payment-account', value: 'VN12BANK0001' }],
    });
    expect(successors[0]?.evidence.map((e) => [e.from.value, e.relation, e.source.origin])).toEqual(
      [
        ['toonkor123.com', 'pays-into', 'vn'],
        ['webtoonhub.org', 'pays-into', 'th'],
      ],
    );
  });

  it('a succession a member already reported is not flagged again', () => {
    const net = crossBorder();
    const next = rec('th', { value: 'toonkor124.com', firstSeen: '2026-11-15T00:00:00.000Z' });
    relate(next, 'successor-of', net.domainKr);
    expect(run([...Object.values(net), next]).successors).toEqual([]);
  });
});

describe('one-edit index', () => {
  it('finds exactly the names one insertion, deletion or substitution away', () => {
    const near = oneEditIndex(['newtoki.com', 'toonkor123.com', 'ab.com']);
    expect(near('newtok1.com')).toEqual(['newtoki.com']);
    expect(near('newtokii.com')).toEqual(['newtoki.com']);
    expect(near('ewtoki.com')).toEqual(['newtoki.com']);
    expect(near('newtoki.com')).toEqual([]);
    expect(near('ba.com')).toEqual([]); // a transposition is two edits
    expect(near('toonkor123.co')).toEqual(['toonkor123.com']);
    expect(near('unrelated.org')).toEqual([]);
  });
});
