// The relay's bundle sizing: by bytes of the escaped texts in the wire JSON, never empty.
import { describe, expect, it } from '@jest/globals';
import { RELAY_MAX_PLAINTEXT_BYTES, takeByBytes } from '../src/sharing/relay.service.js';

const item = (id: number, text: string) => ({ id, recordText: text });

describe('takeByBytes', () => {
  it('takes the longest prefix whose escaped texts fit, counting quotes and non-ASCII bytes', () => {
    // A text counts as its JSON string (quotes escaped, UTF-8 bytes) plus a comma.
    const quoted = '"'.repeat(100);
    const korean = '웹툰'.repeat(50); // 300 UTF-8 bytes
    const items = [item(1, quoted), item(2, korean), item(3, quoted)];
    const size = (t: string) => Buffer.byteLength(JSON.stringify(t), 'utf8') + 1;
    const overhead = 2048;
    const budget = overhead + size(quoted) + size(korean);
    expect(takeByBytes(items, budget).map((i) => i.id)).toEqual([1, 2]);
    expect(takeByBytes(items, budget - 1).map((i) => i.id)).toEqual([1]);
    expect(takeByBytes(items, budget + size(quoted)).map((i) => i.id)).toEqual([1, 2, 3]);
  });

  it('always takes one item, however large, and nothing from an empty queue', () => {
    expect(takeByBytes([item(7, 'x'.repeat(70_000))], 1_000).map((i) => i.id)).toEqual([7]);
    expect(takeByBytes([], RELAY_MAX_PLAINTEXT_BYTES)).toEqual([]);
  });

  it('keeps a bundle of 1,000 typical 600-byte records within one message', () => {
    // 600 bytes with 60 quotes, like a canonical record of the benchmarks.
    const typical = `${'"'.repeat(60)}${'x'.repeat(540)}`;
    const items = Array.from({ length: 1000 }, (_, i) => item(i, typical));
    expect(takeByBytes(items, RELAY_MAX_PLAINTEXT_BYTES)).toHaveLength(1000);
    const big = Array.from({ length: 1000 }, (_, i) => item(i, 'y'.repeat(4000)));
    const taken = takeByBytes(big, RELAY_MAX_PLAINTEXT_BYTES);
    expect(taken.length).toBeLessThan(1000);
    // The JWE is about 4/3 of the plaintext: under nats-server's 1 MiB max_payload.
    const plaintext = taken.reduce((n, i) => n + i.recordText.length + 3, 2048);
    expect((plaintext * 4) / 3).toBeLessThan(1024 * 1024);
  });
});
