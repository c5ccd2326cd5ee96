import { randomUUID } from 'node:crypto';
import type { IndicatorRecord } from '../../protocol/src/index.js';
import type { SourceRecord } from '../src/index.js';

export const NOW = new Date('2026-11-28T12:00:00.000Z');

const COUNTRY: Record<string, string> = { kr: 'KR', vn: 'VN', th: 'TH' };

/** A live record of `origin`, valid a week past {@link NOW}; override any field. */
export function rec(origin: string, overrides: Partial<IndicatorRecord> = {}): SourceRecord {
  const record: IndicatorRecord = {
    id: randomUUID(),
    origin,
    version: 1,
    status: 'active',
    type: 'domain',
    value: 'toonkor123.com',
    categories: ['webtoon'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-20T00:00:00.000Z',
    validUntil: '2026-12-05T00:00:00.000Z',
    tlp: 'GREEN',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['all'] },
    relations: [],
    issuedAt: '2026-11-20T00:00:00.000Z',
    ...overrides,
  };
  return { record, country: COUNTRY[origin] ?? origin.toUpperCase() };
}

/** `from` states a relation to `to`. */
export function relate(
  from: SourceRecord,
  type: IndicatorRecord['relations'][number]['type'],
  to: SourceRecord,
): SourceRecord {
  from.record.relations.push({ type, target: to.record.id, targetOrigin: to.record.origin });
  return from;
}
