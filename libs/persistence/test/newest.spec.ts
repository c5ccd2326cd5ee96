import { describe, expect, it } from '@jest/globals';
import { newestPerRecord } from '../src/index.js';

const row = (origin: string, id: string, version: number) => ({
  record: { origin, id, version },
  tag: `${origin}/${id}@${version}`,
});

describe('newestPerRecord', () => {
  it('keeps every row when each record appears once, in order', () => {
    const rows = [row('th', 'a', 1), row('th', 'b', 4), row('kr', 'a', 2)];
    expect(newestPerRecord(rows).map((r) => r.tag)).toEqual(['th/a@1', 'th/b@4', 'kr/a@2']);
  });

  it('keeps only the newest version of a record that appears several times', () => {
    const rows = [row('th', 'a', 1), row('th', 'b', 1), row('th', 'a', 3), row('th', 'a', 2)];
    expect(newestPerRecord(rows).map((r) => r.tag)).toEqual(['th/a@3', 'th/b@1']);
  });
});
