import { describe, expect, it } from '@jest/globals';
import { parseRecord, uuidv7, uuidv7Time } from '../src/index.js';

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the time in the first 48 bits', () => {
    const at = Date.UTC(2026, 10, 29, 1, 2, 3, 456);
    const id = uuidv7(at + 10_000_000); // later than anything generated so far in this process
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBe(at + 10_000_000);
  });

  it('draws the last 62 bits at random for every id', () => {
    const ms = Date.UTC(2026, 10, 29) + 30_000_000;
    const ids = Array.from({ length: 2000 }, () => uuidv7(ms));
    const tails = new Set(ids.map((id) => id.slice(19)));
    expect(tails.size).toBe(ids.length);
    // Every hex digit of the random node part shows up, in each position.
    for (let pos = 24; pos < 36; pos++) {
      expect(new Set(ids.map((id) => id[pos])).size).toBe(16);
    }
  });

  it('sorts in creation order, also many in one millisecond and when the clock goes back', () => {
    const ms = Date.UTC(2026, 10, 29) + 20_000_000;
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7(ms)); // more than the 12-bit counter holds
    ids.push(uuidv7(ms - 5_000)); // clock stepped back
    ids.push(uuidv7(ms + 10));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is accepted as a record id by the protocol parser', () => {
    const id = uuidv7(Date.UTC(2026, 10, 29));
    const r = parseRecord({
      id,
      origin: 'kr',
      version: 1,
      status: 'active',
      type: 'domain',
      value: 'toon-mirror.example',
      categories: ['webtoon'],
      confidence: 70,
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-28T10:00:00.000Z',
      validUntil: '2027-05-28T00:00:00.000Z',
      tlp: 'GREEN',
      handling: { code: 'H0' },
      reliability: 'B',
      accuracy: 2,
      scope: { addressees: ['vn'] },
      relations: [],
      issuedAt: '2026-11-28T10:00:05.123Z',
    });
    expect(r.id).toBe(id);
  });

  it('returns null for the time of a non-v7 id', () => {
    expect(uuidv7Time('0b7c7f4e-6a0e-4b8e-9a51-2f1d8c3e5a10')).toBeNull();
  });
});
