import { describe, expect, it } from '@jest/globals';
import { aggregate, aggregateAll, combinedConfidence } from '../src/index.js';
import { NOW, rec } from './factories.js';

describe('combined confidence (noisy-OR)', () => {
  it('keeps a single source, combines independent ones and never decreases', () => {
    expect(combinedConfidence([70])).toBe(70);
    expect(combinedConfidence([80, 80])).toBe(96);
    expect(combinedConfidence([80, 50, 60])).toBe(96);
    expect(combinedConfidence([80, 0])).toBe(80);
    expect(combinedConfidence([100, 10])).toBe(100);
    expect(combinedConfidence([])).toBe(0);
  });
});

describe('aggregate', () => {
  it('the same domain from three countries becomes one aggregate citing three records', () => {
    const kr = rec('kr', { confidence: 80, tlp: 'GREEN', firstSeen: '2026-11-03T00:00:00.000Z' });
    const vn = rec('vn', {
      confidence: 50,
      tlp: 'AMBER',
      handling: { code: 'H1' },
      categories: ['drama', 'webtoon'],
      lastSeen: '2026-11-25T00:00:00.000Z',
    });
    const th = rec('th', { confidence: 60, validUntil: '2026-11-30T00:00:00.000Z' });
    const a = aggregate([th, kr, vn], NOW);
    expect(a).toEqual({
      type: 'domain',
      value: 'toonkor123.com',
      sources: [kr, th, vn].map((s) => ({
        origin: s.record.origin,
        id: s.record.id,
        version: 1,
        confidence: s.record.confidence,
        country: s.country,
      })),
      countries: [
        { country: 'KR', sightings: 1 },
        { country: 'TH', sightings: 1 },
        { country: 'VN', sightings: 1 },
      ],
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-25T00:00:00.000Z',
      confidence: 96,
      tlp: 'AMBER',
      handling: { code: 'H1' },
      categories: ['drama', 'webtoon'],
      nextExpiry: '2026-11-30T00:00:00.000Z',
    });
  });

  it('counts two records of one country as two sightings of that country', () => {
    const a = aggregate([rec('kr'), rec('kr'), rec('vn')], NOW);
    expect(a?.countries).toEqual([
      { country: 'KR', sightings: 2 },
      { country: 'VN', sightings: 1 },
    ]);
  });

  it('a retracted or expired source stops contributing; no live source means no aggregate', () => {
    const kr = rec('kr', { confidence: 90 });
    const vn = rec('vn', { status: 'retracted', version: 2, confidence: 50 });
    const th = rec('th', { validUntil: NOW.toISOString(), confidence: 40 });
    expect(aggregate([kr, vn, th], NOW)?.sources.map((s) => s.origin)).toEqual(['kr']);
    expect(aggregate([kr, vn, th], NOW)?.confidence).toBe(90);
    expect(aggregate([vn, th], NOW)).toBeUndefined();
    const later = new Date('2026-12-06T00:00:00.000Z');
    expect(aggregate([kr], later)).toBeUndefined();
  });

  it('keeps the strictest handling, with every H3 condition', () => {
    const a = aggregate(
      [
        rec('kr', { handling: { code: 'H3', conditions: 'no court use' } }),
        rec('vn', { handling: { code: 'H2' } }),
        rec('th', { handling: { code: 'H3', conditions: 'notify KNPA' } }),
      ],
      NOW,
    );
    expect(a?.handling).toEqual({ code: 'H3', conditions: 'no court use; notify KNPA' });
  });

  it('aggregateAll groups by type and normalized value, ordered', () => {
    const all = aggregateAll(
      [
        rec('kr', { value: 'b.com' }),
        rec('vn', { value: 'a.com' }),
        rec('th', { type: 'ip', value: 'a.com' }),
        rec('th', { value: 'b.com' }),
        rec('th', { value: 'gone.com', status: 'retracted' }),
      ],
      NOW,
    );
    expect(all.map((a) => [a.type, a.value, a.sources.length])).toEqual([
      ['domain', 'a.com', 1],
      ['domain', 'b.com', 2],
      ['ip', 'a.com', 1],
    ]);
  });
});
