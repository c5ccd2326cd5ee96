import { describe, expect, it } from '@jest/globals';
import {
  aggregateIndicatorId,
  aggregateToStixObjects,
  networkToStixObjects,
  toStixBundle,
  type AggregateInput,
  type NetworkInput,
} from '../src/index.js';
import { stixSchemaErrors } from './stix-validator.js';

const agg = (over: Partial<AggregateInput> = {}): AggregateInput => ({
  type: 'domain',
  value: 'newtoki469.com',
  sources: [
    { origin: 'kr', id: '0b7c7f4e-6a0e-4b8e-9a51-000000000001', version: 1, country: 'KR' },
    { origin: 'vn', id: '0b7c7f4e-6a0e-4b8e-9a51-000000000002', version: 2, country: 'VN' },
  ],
  countries: [
    { country: 'KR', sightings: 1 },
    { country: 'VN', sightings: 1 },
  ],
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-11-20T00:00:00.000Z',
  confidence: 96,
  tlp: 'GREEN',
  handling: { code: 'H1' },
  categories: ['webtoon'],
  nextExpiry: '2027-05-01T00:00:00.000Z',
  ...over,
});

describe('STIX export of the hub aggregates and networks', () => {
  const at = '2026-11-28T10:00:00.000Z';
  const aggregates = [
    agg(),
    agg({
      type: 'payment-account',
      subtype: 'iban',
      value: 'GB82WEST12345698765432',
      tlp: 'AMBER',
      categories: [],
    }),
    agg({ type: 'operator-alias', subtype: 'email', value: 'admin@toki.example' }),
    agg({ type: 'iptv-service', value: 'super iptv 4k' }),
  ];
  const network: NetworkInput = {
    id: 'net-0123456789ab',
    members: aggregates.map((a) => ({ type: a.type, value: a.value, countries: ['KR', 'VN'] })),
    countries: ['KR', 'VN'],
    evidence: [
      { from: aggregates[2]!, relation: 'operates', to: aggregates[0]! },
      { from: aggregates[0]!, relation: 'pays-into', to: aggregates[1]! },
    ],
  };
  const tlpOf = (type: string, value: string) =>
    aggregates.find((a) => a.type === type && a.value === value)?.tlp ?? 'RED';

  it('aggregates and networks export to a bundle that validates against the OASIS schemas', () => {
    const objects = [
      ...aggregates.flatMap((a) => aggregateToStixObjects(a, at)),
      ...networkToStixObjects(network, at, tlpOf),
    ];
    const bundle = toStixBundle([], objects);
    expect(stixSchemaErrors(bundle)).toEqual([]);
    expect(new Set(bundle.objects.map((o) => o.type))).toEqual(
      new Set([
        'indicator',
        'domain-name',
        'payment-account',
        'email-addr',
        'infrastructure',
        'relationship',
        'intrusion-set',
        'marking-definition',
      ]),
    );
  });

  it('the same aggregate keeps its id when it changes; a network takes the strictest TLP of its members', () => {
    const a = aggregateToStixObjects(agg(), at).find((o) => o.type === 'indicator')!;
    const b = aggregateToStixObjects(agg({ confidence: 99 }), '2026-11-29T00:00:00.000Z').find(
      (o) => o.type === 'indicator',
    )!;
    expect(b.id).toBe(a.id);
    expect(a.id).toBe(aggregateIndicatorId('domain', 'newtoki469.com'));
    const objects = networkToStixObjects(network, at, tlpOf);
    const set = objects.find((o) => o.type === 'intrusion-set')!;
    expect(set.object_marking_refs).toEqual([
      'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
    ]);
    expect(objects.find((o) => o.source_ref === a.id)).toMatchObject({
      relationship_type: 'indicates',
      target_ref: set.id,
    });
  });
});
