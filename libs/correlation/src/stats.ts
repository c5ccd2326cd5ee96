import type { Aggregate } from './aggregate.js';

/** Dimensions of the cross-border statistics. */
export const STAT_DIMENSIONS = ['country-pair', 'type', 'category', 'week'] as const;
export type StatDimension = (typeof STAT_DIMENSIONS)[number];

/** One row: how many cross-border aggregates fall under `key` (e.g. `KR-VN`, `domain`, `2026-W47`). */
export interface StatRow {
  key: string;
  aggregates: number;
}

/** ISO 8601 week of an RFC 3339 instant, `YYYY-Www` (weeks start on Monday; week 1 holds a Thursday). */
export function isoWeek(instant: string): string {
  const d = new Date(instant);
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3),
  );
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week1Monday = Date.UTC(year, 0, 4 - ((jan4.getUTCDay() + 6) % 7));
  const week = 1 + Math.round((thursday.getTime() - week1Monday - 3 * 86400000) / (7 * 86400000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * Cross-border statistics over aggregates reported from two or more countries, by one dimension:
 * each unordered country pair (`KR-VN`), indicator type, content category, or ISO week of first
 * sighting. Rows are ordered by key.
 */
export function crossBorderStats(
  aggregates: readonly Aggregate[],
  dimension: StatDimension,
): StatRow[] {
  const counts = new Map<string, number>();
  const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const a of aggregates) {
    const countries = a.countries.map((c) => c.country).sort();
    if (countries.length < 2) continue;
    switch (dimension) {
      case 'country-pair':
        for (let i = 0; i < countries.length; i++) {
          for (let j = i + 1; j < countries.length; j++) add(`${countries[i]}-${countries[j]}`);
        }
        break;
      case 'type':
        add(a.type);
        break;
      case 'category':
        for (const c of a.categories) add(c);
        break;
      case 'week':
        add(isoWeek(a.firstSeen));
        break;
    }
  }
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, aggregates]) => ({ key, aggregates }));
}
