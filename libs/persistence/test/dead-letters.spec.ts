import { describe, expect, it } from '@jest/globals';
import { MAX_DEAD_LETTER_BYTES, deadLetterRow } from '../src/index.js';

describe('deadLetterRow', () => {
  it('keeps a small message whole, in base64, with its size', () => {
    const row = deadLetterRow({
      subject: 'fed.v1.kr.vn.records',
      origin: 'kr',
      code: 'SIGNATURE_INVALID',
      detail: 'bad signature',
      data: Buffer.from('payload'),
      receivedAt: '2026-11-29T06:00:00.000Z',
    });
    expect(row).toEqual({
      subject: 'fed.v1.kr.vn.records',
      origin: 'kr',
      code: 'SIGNATURE_INVALID',
      detail: 'bad signature',
      size: 7,
      data: Buffer.from('payload').toString('base64'),
      receivedAt: '2026-11-29T06:00:00.000Z',
    });
  });

  it('cuts what does not fit its columns, and records the full size of a huge message', () => {
    const data = new Uint8Array(MAX_DEAD_LETTER_BYTES + 10).fill(0x41);
    const row = deadLetterRow({
      subject: 's'.repeat(300),
      origin: null,
      code: 'C'.repeat(40),
      detail: 'd'.repeat(5000),
      data,
      receivedAt: '2026-11-29T06:00:00.000Z',
    });
    expect(row.subject).toHaveLength(255);
    expect(row.code).toHaveLength(32);
    expect(row.detail).toHaveLength(4000);
    expect(row.origin).toBeNull();
    expect(row.size).toBe(MAX_DEAD_LETTER_BYTES + 10);
    expect(Buffer.from(row.data, 'base64')).toHaveLength(MAX_DEAD_LETTER_BYTES);
  });
});
