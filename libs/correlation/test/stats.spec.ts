import { describe, expect, it } from '@jest/globals';
import { aggregateAll, crossBorderStats, isoWeek } from '../src/index.js';
import { NOW, rec } from './factories.js';

describe('cross-border statistics', () => {
  it('computes ISO weeks across year boundaries', () => {
    expect(isoWeek('2026-11-28T12:00:00.000Z')).toBe('2026-W48');
    expect(isoWeek('2021-01-03T00:00:00.000Z')).toBe('2020-W53');
    expect(isoWeek('2024-12-30T00:00:00.000Z')).toBe('2025-W01');
  });

  it('counts only aggregates seen in two or more countries, by each dimension', () => {
    const aggregates = aggregateAll(
      [
        rec('kr', { value: 'a.com', categories: ['webtoon'] }),
        rec('vn', { value: 'a.com', categories: ['drama'] }),
        rec('th', { value: 'a.com' }),
        rec('kr', { type: 'ip', value: '10.0.0.1', firstSeen: '2026-11-24T00:00:00.000Z' }),
        rec('vn', { type: 'ip', value: '10.0.0.1', firstSeen: '2026-11-25T00:00:00.000Z' }),
        rec('kr', { value: 'only-kr.com' }),
      ],
      NOW,
    );
    expect(crossBorderStats(aggregates, 'country-pair')).toEqual([
      { key: 'KR-TH', aggregates: 1 },
      { key: 'KR-VN', aggregates: 2 },
      { key: 'TH-VN', aggregates: 1 },
    ]);
    expect(crossBorderStats(aggregates, 'type')).toEqual([
      { key: 'domain', aggregates: 1 },
      { key: 'ip', aggregates: 1 },
    ]);
    expect(crossBorderStats(aggregates, 'category')).toEqual([
      { key: 'drama', aggregates: 1 },
      { key: 'webtoon', aggregates: 2 },
    ]);
    expect(crossBorderStats(aggregates, 'week')).toEqual([
      { key: '2026-W44', aggregates: 1 },
      { key: '2026-W48', aggregates: 1 },
    ]);
  });
});
