// The bulk endpoint's hand-written shape check (ADR 0047) against the class-validator DTO it
// replaced: for every malformed body below, the same messages as Nest's global ValidationPipe
// gave with BulkCreateDto, in the same order, and the same verdict for well-formed bodies. Where the two differ on
// purpose (the hand-written check is stricter about missing or array-shaped nested objects), the
// case says so and pins the new message.
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { BulkItemsPipe, bulkBodyErrors } from '../src/indicators/bulk-items.pipe.js';
import { BulkCreateDto } from '../src/indicators/indicator.dto.js';

const classValidator = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
});

/** What the global ValidationPipe said about a body: [] when it accepted it. */
async function before(body: unknown): Promise<string[]> {
  try {
    await classValidator.transform(structuredClone(body), {
      type: 'body',
      metatype: BulkCreateDto,
    });
    return [];
  } catch (e) {
    const m = (e as BadRequestException).getResponse() as { message: string[] };
    return m.message;
  }
}

const ok = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'domain',
  value: 'newtoki469.com',
  categories: ['webtoon'],
  confidence: 80,
  tlp: 'AMBER',
  handling: { code: 'H1' },
  reliability: 'B',
  accuracy: 2,
  scope: { addressees: ['group:kr-vn-mou'] },
  ...o,
});
const full = ok({
  subtype: 'x',
  chain: 'bitcoin',
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-11-02T00:00:00.000Z',
  validUntil: '2027-11-01T00:00:00.000Z',
  reviewBy: '2027-01-01T00:00:00.000Z',
  handling: { code: 'H2', conditions: 'law enforcement only' },
  relations: [
    { type: 'mirrors', target: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', targetOrigin: 'vn' },
  ],
  sharedNote: 'shared',
  local: { caseReference: 'C-1', sources: ['a'], notes: 'n', evidence: ['e'] },
});

const wellFormed: [string, unknown][] = [
  ['one minimal item', { items: [ok()] }],
  ['one item with every field', { items: [full] }],
  ['optional fields given as null', { items: [ok({ sharedNote: null, local: null })] }],
  ['empty categories (libs/protocol decides per item)', { items: [ok({ categories: [] })] }],
  ['null inside local', { items: [ok({ local: { caseReference: null, sources: null } })] }],
  ['5000 items', { items: Array.from({ length: 5000 }, () => ok()) }],
];

const malformed: [string, unknown][] = [
  ['no items', {}],
  ['items not an array', { items: 'x' }],
  ['items null', { items: null }],
  ['items empty', { items: [] }],
  ['5001 items', { items: Array.from({ length: 5001 }, () => ok()) }],
  ['an unknown top-level field', { items: [ok()], smuggled: 1 }],
  ['items that are not objects', { items: [1, 'x', null, ok()] }],
  ['an unknown item field', { items: [ok({ smuggled: 'x' })] }],
  ['a wrong type', { items: [ok({ type: 'phone' })] }],
  ['value not a string', { items: [ok({ value: 7 })] }],
  ['value too long', { items: [ok({ value: 'a'.repeat(2049) })] }],
  ['subtype and chain not strings', { items: [ok({ subtype: 1, chain: 'c'.repeat(33) })] }],
  ['categories not an array', { items: [ok({ categories: 'webtoon' })] }],
  ['categories a number', { items: [ok({ categories: 1 })] }],
  ['an unknown category', { items: [ok({ categories: ['webtoon', 'porn'] })] }],
  [
    'seven categories',
    {
      items: [ok({ categories: ['webtoon', 'drama', 'film', 'sports', 'music', 'live-tv', 'x'] })],
    },
  ],
  ['confidence a string', { items: [ok({ confidence: 'high' })] }],
  ['confidence null', { items: [ok({ confidence: null })] }],
  ['confidence out of range', { items: [ok({ confidence: 101 }), ok({ confidence: -1 })] }],
  ['confidence not an integer', { items: [ok({ confidence: 50.5 })] }],
  [
    'malformed timestamps',
    {
      items: [
        ok({
          firstSeen: 1,
          lastSeen: '2026-11-01',
          validUntil: 'x',
          reviewBy: '2026-11-01T00:00:00Z',
        }),
      ],
    },
  ],
  ['a bad TLP', { items: [ok({ tlp: 'PURPLE' })] }],
  ['tlp null', { items: [ok({ tlp: null })] }],
  ['a bad handling code', { items: [ok({ handling: { code: 'H9' } })] }],
  [
    'handling with an unknown field and bad conditions',
    { items: [ok({ handling: { code: 'H1', conditions: 5, sneaky: true } })] },
  ],
  ['handling a string', { items: [ok({ handling: 'H1' })] }],
  ['handling null', { items: [ok({ handling: null })] }],
  ['a bad reliability', { items: [ok({ reliability: 'Z' })] }],
  ['accuracy as a string', { items: [ok({ accuracy: '2' })] }],
  ['addressees not an array', { items: [ok({ scope: { addressees: 'vn' } })] }],
  ['no addressees', { items: [ok({ scope: { addressees: [] } })] }],
  ['scope without addressees', { items: [ok({ scope: {} })] }],
  ['malformed addressees', { items: [ok({ scope: { addressees: ['VN!', 1, 'group:x1'] } })] }],
  ['65 addressees', { items: [ok({ scope: { addressees: Array(65).fill('vn') } })] }],
  ['an unknown field in scope', { items: [ok({ scope: { addressees: ['vn'], extra: 1 } })] }],
  ['scope a number', { items: [ok({ scope: 3 })] }],
  ['relations a number', { items: [ok({ relations: 1 })] }],
  ['a relation that is not an object', { items: [ok({ relations: [1] })] }],
  ['an empty relation', { items: [ok({ relations: [{}] })] }],
  [
    'a relation with bad fields and an extra one',
    { items: [ok({ relations: [{ type: 'x', target: 'y', targetOrigin: 'Z', w: 1 }] })] },
  ],
  [
    '101 relations',
    {
      items: [
        ok({
          relations: Array(101).fill({
            type: 'mirrors',
            target: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
            targetOrigin: 'vn',
          }),
        }),
      ],
    },
  ],
  ['sharedNote not a string', { items: [ok({ sharedNote: 1 })] }],
  ['sharedNote too long', { items: [ok({ sharedNote: 'x'.repeat(4001) })] }],
  ['local a number', { items: [ok({ local: 1 })] }],
  ['an unknown field inside local', { items: [ok({ local: { informant: 'y' } })] }],
  [
    'bad local fields',
    {
      items: [
        ok({
          local: {
            caseReference: 'c'.repeat(201),
            sources: [1],
            notes: 1,
            evidence: Array(51).fill('e'),
          },
        }),
      ],
    },
  ],
  ['local lists as strings', { items: [ok({ local: { sources: 'a', evidence: 'b' } })] }],
  [
    'everything wrong at once',
    {
      x: 1,
      items: [
        ok(),
        {
          type: 1,
          value: 1,
          subtype: 1,
          chain: 1,
          categories: 1,
          confidence: null,
          firstSeen: 1,
          lastSeen: 'x',
          validUntil: null,
          reviewBy: '2026',
          tlp: null,
          handling: { code: 'H9', conditions: 1, q: 1 },
          reliability: 'Z',
          accuracy: '2',
          scope: { addressees: 'vn' },
          relations: [1, { type: 'x' }],
          sharedNote: 1,
          local: { sources: [1], z: 1 },
        },
      ],
    },
  ],
];

/** Cases where the hand-written check refuses what class-validator let through to fail later. */
const stricter: [string, unknown, string[]][] = [
  [
    'an empty object item',
    { items: [{}] },
    [
      'items.0.type must be one of the following values: domain, url, ip, payment-account, operator-alias, iptv-service',
      'items.0.value must be shorter than or equal to 2048 characters',
      'items.0.value must be a string',
      'items.0.each value in categories must be one of the following values: webtoon, drama, film, sports, music, live-tv',
      'items.0.categories must contain no more than 6 elements',
      'items.0.categories must be an array',
      'items.0.confidence must not be greater than 100',
      'items.0.confidence must not be less than 0',
      'items.0.confidence must be an integer number',
      'items.0.tlp must be one of the following values: CLEAR, GREEN, AMBER, AMBER+STRICT, RED',
      'items.0.nested property handling must be either object or array',
      'items.0.reliability must be one of the following values: A, B, C, X',
      'items.0.accuracy must be one of the following values: 1, 2, 3, 4',
      'items.0.nested property scope must be either object or array',
    ],
  ],
  [
    'an item without handling or scope',
    { items: [ok({ handling: undefined, scope: undefined })] },
    [
      'items.0.nested property handling must be either object or array',
      'items.0.nested property scope must be either object or array',
    ],
  ],
  [
    'handling, scope and local given as arrays',
    { items: [ok({ handling: [], scope: [], local: [] })] },
    [
      'items.0.nested property handling must be either object or array',
      'items.0.nested property scope must be either object or array',
      'items.0.nested property local must be either object or array',
    ],
  ],
  [
    'an item that is an array',
    { items: [[]] },
    ['items.each value in nested property items must be either object or array'],
  ],
  [
    'a relation that is an array',
    { items: [ok({ relations: [[]] })] },
    ['items.0.relations.each value in nested property relations must be either object or array'],
  ],
  [
    'relations an object',
    { items: [ok({ relations: {} })] },
    [
      'items.0.relations must contain no more than 100 elements',
      'items.0.relations must be an array',
    ],
  ],
];

const sorted = (a: string[]): string[] => [...a].sort();

describe('bulk body shape check (BulkItemsPipe) matches class-validator', () => {
  for (const [name, body] of wellFormed) {
    it(`accepts ${name}, as class-validator did`, async () => {
      expect(await before(body)).toEqual([]);
      expect(bulkBodyErrors(body)).toEqual([]);
      expect(new BulkItemsPipe().transform(body)).toBe(body);
    });
  }

  for (const [name, body] of malformed) {
    it(`refuses ${name} with the same messages`, async () => {
      const expected = await before(body);
      expect(expected.length).toBeGreaterThan(0);
      expect(bulkBodyErrors(body)).toEqual(expected);
    });
  }

  for (const [name, body, messages] of stricter) {
    it(`refuses ${name} (class-validator let it through to fail per item)`, () => {
      expect(sorted(bulkBodyErrors(body))).toEqual(sorted(messages));
    });
  }

  it('reports in the order class-validator did for a typical bad item', async () => {
    const body = { items: [ok({ confidence: 'high', tlp: 'X', handling: { code: 'H1', z: 1 } })] };
    expect(bulkBodyErrors(body)).toEqual(await before(body));
  });

  it('throws a 400 with every message through the pipe', () => {
    const pipe = new BulkItemsPipe();
    let caught: unknown;
    try {
      pipe.transform({ items: [ok({ tlp: 'PURPLE' }), 3] });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BadRequestException);
    const r = (caught as BadRequestException).getResponse() as { message: string[] };
    expect(r.message).toEqual([
      'items.0.tlp must be one of the following values: CLEAR, GREEN, AMBER, AMBER+STRICT, RED',
      'items.each value in nested property items must be either object or array',
    ]);
  });

  it('refuses bodies that are not objects', () => {
    for (const body of [null, 'x', 3, [], [ok()]]) {
      expect(bulkBodyErrors(body)).toEqual([
        'items must contain no more than 5000 elements',
        'items must contain at least 1 elements',
        'items must be an array',
      ]);
    }
  });
});
