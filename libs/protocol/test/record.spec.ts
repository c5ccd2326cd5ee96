import { describe, expect, it } from '@jest/globals';
import {
  type ProtocolErrorCode,
  ProtocolError,
  isAddressee,
  isMemberId,
  isRfc3339Ms,
  normalizeIndicator,
  parseRecord,
  toRfc3339Ms,
} from '../src/index.js';

/** A fresh valid record each call; tests mutate their own copy. */
function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '0b7c7f4e-6a0e-4b8e-9a51-2f1d8c3e5a10',
    origin: 'kr',
    version: 1,
    status: 'active',
    type: 'domain',
    value: 'xn--bcher-kva.de',
    categories: ['webtoon', 'drama'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-28T10:00:00.000Z',
    validUntil: '2027-05-28T00:00:00.000Z',
    tlp: 'AMBER',
    handling: { code: 'H1' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn', 'group:mou-kr-vn', 'hub'] },
    relations: [
      { type: 'mirrors', target: '5a1c7e02-3f4b-4c5d-8e6f-708192a3b4c5', targetOrigin: 'vn' },
    ],
    issuedAt: '2026-11-28T10:00:05.123Z',
    ...overrides,
  };
}

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

function expectReject(value: unknown, code: ProtocolErrorCode, field: string): ProtocolError {
  const e = thrown(() => parseRecord(value));
  expect({ code: e.code, field: e.field }).toEqual({ code, field });
  expect(e.message.startsWith(`${field}: `)).toBe(true);
  return e;
}

const KEY_ORDER = [
  'id',
  'origin',
  'version',
  'status',
  'type',
  'subtype',
  'chain',
  'value',
  'categories',
  'confidence',
  'firstSeen',
  'lastSeen',
  'validUntil',
  'reviewBy',
  'tlp',
  'handling',
  'reliability',
  'accuracy',
  'scope',
  'relations',
  'sharedNote',
  'issuedAt',
];

describe('parseRecord: a valid record', () => {
  it('returns an equal, new object whose keys follow the fixed order', () => {
    const input = record();
    const out = parseRecord(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(Object.keys(out)).toEqual(KEY_ORDER.filter((k) => k in input));
  });

  it('orders keys the same whatever order they arrive in', () => {
    const input = record({
      subtype: 'crypto-address',
      chain: 'ethereum',
      type: 'payment-account',
      value: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      reviewBy: '2027-01-01T00:00:00.000Z',
      sharedNote: 'Seen on three mirrors.\nPays into the same wallet.',
    });
    const reversed = Object.fromEntries(Object.entries(input).reverse());
    expect(Object.keys(parseRecord(reversed))).toEqual(KEY_ORDER);
  });

  it('copies arrays and nested objects, so later changes to the input cannot reach it', () => {
    const input = record();
    const out = parseRecord(input);
    (input.categories as string[]).push('film');
    (input.scope as { addressees: string[] }).addressees.push('all');
    (input.handling as { code: string }).code = 'H3';
    expect(out.categories).toEqual(['webtoon', 'drama']);
    expect(out.scope.addressees).toEqual(['vn', 'group:mou-kr-vn', 'hub']);
    expect(out.handling).toEqual({ code: 'H1' });
  });

  it('survives a JSON round trip unchanged', () => {
    const out = parseRecord(record());
    expect(parseRecord(JSON.parse(JSON.stringify(out)))).toEqual(out);
  });

  it('accepts the edges: version 2^31-1, confidence 0 and 100, empty categories and relations', () => {
    for (const o of [
      { version: 2 ** 31 - 1 },
      { confidence: 0 },
      { confidence: 100 },
      { categories: [], relations: [] },
      { lastSeen: '2026-11-01T00:00:00.000Z' }, // firstSeen === lastSeen
      { status: 'retracted', origin: 'hub', scope: { addressees: ['all'] } },
    ]) {
      expect(() => parseRecord(record(o))).not.toThrow();
    }
  });

  it('treats an optional key holding undefined as absent', () => {
    const out = parseRecord(record({ sharedNote: undefined, reviewBy: undefined }));
    expect('sharedNote' in out || 'reviewBy' in out).toBe(false);
  });
});

describe('parseRecord: shape', () => {
  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'record'],
    ['a number', 42],
    ['a Date', new Date(0)],
    ['an object with a prototype', Object.create({ id: 'x' }) as unknown],
  ])('rejects %s as the record', (_name, value) => {
    expectReject(value, 'INVALID_FIELD', 'record');
  });

  it('rejects an unknown key and names it', () => {
    expectReject(record({ caseReference: 'KR-2026-0042' }), 'INVALID_FIELD', 'caseReference');
  });

  it('rejects a "__proto__" key from JSON.parse', () => {
    const json = JSON.stringify(record()).replace('{', '{"__proto__":{"x":1},');
    expectReject(JSON.parse(json), 'INVALID_FIELD', '__proto__');
  });

  it.each(KEY_ORDER.filter((k) => !['subtype', 'chain', 'reviewBy', 'sharedNote'].includes(k)))(
    'requires %s',
    (key) => {
      const r = record();
      delete r[key];
      expectReject(r, 'INVALID_FIELD', key);
    },
  );

  it.each(['sharedNote', 'id', 'reviewBy'])('rejects null in %s', (key) => {
    expectReject(record({ [key]: null }), 'INVALID_FIELD', key);
  });

  it('prefixes error fields with opts.field', () => {
    const e = thrown(() => parseRecord(record({ confidence: 101 }), { field: 'records[3]' }));
    expect(e.field).toBe('records[3].confidence');
    expect(e.message).toMatch(/^records\[3\]\.confidence: /);
    const root = thrown(() => parseRecord(null, { field: 'records[3]' }));
    expect(root.field).toBe('records[3]');
  });
});

describe('parseRecord: identity and version', () => {
  it.each([
    ['upper case', '0B7C7F4E-6A0E-4B8E-9A51-2F1D8C3E5A10'],
    ['nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['no dashes', '0b7c7f4e6a0e4b8e9a512f1d8c3e5a10'],
    ['braces', '{0b7c7f4e-6a0e-4b8e-9a51-2f1d8c3e5a10}'],
    ['a number', 7],
  ])('rejects an id in %s', (_name, id) => {
    expectReject(record({ id }), 'INVALID_FIELD', 'id');
  });

  it.each(['KR', 'k', '1kr', 'k_r', 'a'.repeat(17), 'all', 'group:kr', ''])(
    'rejects origin %j',
    (origin) => {
      expectReject(record({ origin }), 'INVALID_FIELD', 'origin');
    },
  );

  it.each([0, -1, 1.5, 2 ** 31, '1', Number.NaN, Infinity])('rejects version %p', (version) => {
    expectReject(record({ version }), 'INVALID_FIELD', 'version');
  });

  it('rejects an unknown status, and an unknown type with UNSUPPORTED_TYPE', () => {
    expectReject(record({ status: 'deleted' }), 'INVALID_FIELD', 'status');
    expectReject(record({ type: 'hash' }), 'UNSUPPORTED_TYPE', 'type');
  });
});

describe('parseRecord: value', () => {
  it('rejects a value that is valid but not canonical, and says what canonical is', () => {
    const e = expectReject(record({ value: 'Bücher.DE' }), 'INVALID_VALUE', 'value');
    expect(e.message).toContain('"xn--bcher-kva.de"');
  });

  it('rejects a non-canonical ethereum address (lower case instead of EIP-55)', () => {
    const r = record({
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'ethereum',
      value: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
    });
    expectReject(r, 'INVALID_VALUE', 'value');
  });

  it("takes the caller's normalization when given, and still holds the record to it", () => {
    const norm = normalizeIndicator({ type: 'domain', value: 'Bücher.DE.' });
    expect(parseRecord(record(), { normalized: norm }).value).toBe('xn--bcher-kva.de');
    // A value other than what normalization gave is refused, as without the option.
    const e = thrown(() => parseRecord(record({ value: 'Bücher.DE' }), { normalized: norm }));
    expect({ code: e.code, field: e.field }).toEqual({ code: 'INVALID_VALUE', field: 'value' });
    // So is a subtype or chain that normalization did not give.
    const iban = normalizeIndicator({
      type: 'payment-account',
      subtype: 'iban',
      value: 'gb82 west 1234 5698 7654 32',
    });
    const r = record({ type: 'payment-account', subtype: 'iban', value: iban.value });
    expect(parseRecord(r, { normalized: iban }).subtype).toBe('iban');
    for (const other of [
      { ...r, subtype: 'bank-account' },
      { ...r, chain: 'bitcoin' },
    ]) {
      const x = thrown(() => parseRecord(other, { normalized: iban }));
      expect(x.field).toBe('value');
    }
  });

  it('passes normalization errors through with their code and the prefixed field', () => {
    expectReject(record({ value: 'exa\u0000mple.com' }), 'INVALID_VALUE', 'value');
    expectReject(record({ type: 'payment-account', value: 'x' }), 'INVALID_FIELD', 'subtype');
    const chain = { type: 'payment-account', subtype: 'crypto-address', chain: 'tron', value: 'T' };
    expectReject(record(chain), 'UNSUPPORTED_TYPE', 'chain');
    const e = thrown(() => parseRecord(record({ value: 'a..b' }), { field: 'records[0]' }));
    expect({ code: e.code, field: e.field }).toEqual({
      code: 'INVALID_VALUE',
      field: 'records[0].value',
    });
    expect(e.message).toMatch(/^records\[0\]\.value: empty label/);
    expect(e.cause).toBeInstanceOf(ProtocolError);
  });

  it('rejects a non-string value, subtype or chain', () => {
    expectReject(record({ value: 42 }), 'INVALID_FIELD', 'value');
    expectReject(
      record({ type: 'operator-alias', subtype: ['handle'] }),
      'INVALID_FIELD',
      'subtype',
    );
    expectReject(record({ chain: 1 }), 'INVALID_FIELD', 'chain');
  });
});

describe('parseRecord: categories, confidence, reliability, accuracy, TLP', () => {
  it.each([
    [['film', 'film'], 'categories[1]'],
    [['webtoon', 'anime'], 'categories[1]'],
    ['film', 'categories'],
    [[1], 'categories[0]'],
  ])('rejects categories %j', (categories, field) => {
    expectReject(record({ categories }), 'INVALID_FIELD', field);
  });

  it.each([101, -1, 50.5, '80'])('rejects confidence %p', (confidence) => {
    expectReject(record({ confidence }), 'INVALID_FIELD', 'confidence');
  });

  it.each([
    ['tlp', 'amber'],
    ['tlp', 'WHITE'],
    ['reliability', 'D'],
    ['reliability', 'b'],
    ['accuracy', 0],
    ['accuracy', 5],
    ['accuracy', '1'],
  ])('rejects %s %j', (key, v) => {
    expectReject(record({ [key]: v }), 'INVALID_FIELD', key);
  });
});

describe('parseRecord: timestamps', () => {
  it.each([
    ['no milliseconds', '2026-11-28T10:00:00Z'],
    ['an offset', '2026-11-28T10:00:00.000+00:00'],
    ['microseconds', '2026-11-28T10:00:00.000000Z'],
    ['a space separator', '2026-11-28 10:00:00.000Z'],
    ['a lower-case z', '2026-11-28T10:00:00.000z'],
    ['30 February', '2026-02-30T00:00:00.000Z'],
    ['hour 24', '2026-11-28T24:00:00.000Z'],
    ['a leap second', '2016-12-31T23:59:60.000Z'],
    ['a number', 1796032800000],
  ])('rejects issuedAt with %s', (_name, issuedAt) => {
    expectReject(record({ issuedAt }), 'INVALID_FIELD', 'issuedAt');
  });

  it('rejects lastSeen before firstSeen', () => {
    expectReject(record({ lastSeen: '2026-10-31T23:59:59.999Z' }), 'INVALID_FIELD', 'lastSeen');
  });

  it('rejects validUntil at or before firstSeen', () => {
    for (const validUntil of ['2026-11-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z']) {
      expectReject(record({ validUntil }), 'INVALID_FIELD', 'validUntil');
    }
  });

  it('checks reviewBy when present', () => {
    expectReject(record({ reviewBy: '2027-01-01' }), 'INVALID_FIELD', 'reviewBy');
  });
});

describe('parseRecord: handling', () => {
  it('requires conditions for H3 and keeps them', () => {
    expectReject(record({ handling: { code: 'H3' } }), 'INVALID_FIELD', 'handling.conditions');
    const out = parseRecord(record({ handling: { code: 'H3', conditions: 'Ask KNPA first.' } }));
    expect(out.handling).toEqual({ code: 'H3', conditions: 'Ask KNPA first.' });
  });

  it.each([
    [{ code: 'H1', conditions: 'x' }, 'handling.conditions'],
    [{ code: 'H3', conditions: '   ' }, 'handling.conditions'],
    [{ code: 'H3', conditions: 'ok\u202e' }, 'handling.conditions'],
    [{ code: 'H3', conditions: 'x'.repeat(4001) }, 'handling.conditions'],
    [{ code: 'H4' }, 'handling.code'],
    [{ code: 'H0', extra: 1 }, 'handling.extra'],
    ['H0', 'handling'],
  ])('rejects handling %j', (handling, field) => {
    expectReject(record({ handling }), 'INVALID_FIELD', field);
  });
});

describe('parseRecord: scope', () => {
  it.each([
    [{ addressees: [] }, 'scope.addressees'],
    [{ addressees: 'vn' }, 'scope.addressees'],
    [{ addressees: ['VN'] }, 'scope.addressees[0]'],
    [{ addressees: ['vn', 'group:'] }, 'scope.addressees[1]'],
    [{ addressees: ['group:MoU'] }, 'scope.addressees[0]'],
    [{ addressees: ['vn', 'hub', 'vn'] }, 'scope.addressees[2]'],
    [{ addressees: [7] }, 'scope.addressees[0]'],
    [{ addressees: ['vn'], widen: true }, 'scope.widen'],
    [['vn'], 'scope'],
  ])('rejects scope %j', (scope, field) => {
    expectReject(record({ scope }), 'INVALID_FIELD', field);
  });
});

describe('parseRecord: relations', () => {
  const target = '5a1c7e02-3f4b-4c5d-8e6f-708192a3b4c5';
  it.each([
    [[{ type: 'hosts', target, targetOrigin: 'vn' }], 'relations[0].type'],
    [
      [{ type: 'mirrors', target: target.toUpperCase(), targetOrigin: 'vn' }],
      'relations[0].target',
    ],
    [[{ type: 'mirrors', target, targetOrigin: 'all' }], 'relations[0].targetOrigin'],
    [[{ type: 'mirrors', target }], 'relations[0].targetOrigin'],
    [[{ type: 'mirrors', target, targetOrigin: 'vn', note: 'x' }], 'relations[0].note'],
    [
      [
        { type: 'mirrors', target, targetOrigin: 'vn' },
        { type: 'mirrors', target, targetOrigin: 'vn' },
      ],
      'relations[1]',
    ],
    [
      [
        {
          type: 'successor-of',
          target: '0b7c7f4e-6a0e-4b8e-9a51-2f1d8c3e5a10',
          targetOrigin: 'kr',
        },
      ],
      'relations[0]',
    ],
    [['mirrors'], 'relations[0]'],
    [{}, 'relations'],
  ])('rejects relations %j', (relations, field) => {
    expectReject(record({ relations }), 'INVALID_FIELD', field);
  });

  it('accepts the same target under two relation types', () => {
    const relations = [
      { type: 'operates', target, targetOrigin: 'vn' },
      { type: 'pays-into', target, targetOrigin: 'vn' },
    ];
    expect(parseRecord(record({ relations })).relations).toEqual(relations);
  });
});

describe('parseRecord: sharedNote', () => {
  it('accepts 4000 code points (not UTF-16 units), tabs and line breaks', () => {
    const note = '🎬'.repeat(4000);
    expect(parseRecord(record({ sharedNote: note })).sharedNote).toBe(note);
    expect(() => parseRecord(record({ sharedNote: 'a\tb\r\nc' }))).not.toThrow();
  });

  it.each([
    ['4001 code points', 'x'.repeat(4001)],
    ['empty', ''],
    ['a right-to-left override', 'abc\u202edef'],
    ['a first-strong isolate', 'abc\u2068def'],
    ['a BEL', 'abc\u0007'],
    ['a NUL', 'abc\u0000'],
    ['an unpaired surrogate', 'abc\udc00'],
    ['a number', 7],
  ])('rejects a sharedNote with %s', (_name, sharedNote) => {
    expectReject(record({ sharedNote }), 'INVALID_FIELD', 'sharedNote');
  });
});

describe('RFC 3339 helpers', () => {
  it.each([
    ['2026-11-28T10:00:00.000Z', true],
    ['2024-02-29T23:59:59.999Z', true],
    ['0000-01-01T00:00:00.000Z', true],
    ['2023-02-29T00:00:00.000Z', false],
    ['2026-13-01T00:00:00.000Z', false],
    ['2026-11-28T10:60:00.000Z', false],
    ['+002026-11-28T10:00:00.000Z', false],
    ['2026-11-28T10:00:00.000Z\n', false],
  ])('isRfc3339Ms(%j) is %p', (s, ok) => {
    expect(isRfc3339Ms(s)).toBe(ok);
  });

  it('isRfc3339Ms rejects non-strings', () => {
    expect(isRfc3339Ms(new Date(0))).toBe(false);
    expect(isRfc3339Ms(0)).toBe(false);
  });

  it('toRfc3339Ms formats with milliseconds in UTC', () => {
    expect(toRfc3339Ms(new Date(Date.UTC(2026, 10, 28, 10)))).toBe('2026-11-28T10:00:00.000Z');
    expect(toRfc3339Ms(new Date(1))).toBe('1970-01-01T00:00:00.001Z');
  });

  it('toRfc3339Ms rejects an invalid date and years outside 0000..9999', () => {
    for (const d of [
      new Date(Number.NaN),
      new Date(Date.UTC(10000, 0)),
      new Date(Date.UTC(-1, 0)),
    ]) {
      expect(thrown(() => toRfc3339Ms(d)).code).toBe('INVALID_VALUE');
    }
  });
});

describe('member ids and addressees', () => {
  it.each([
    ['kr', true, true],
    ['interpol-hq', true, true],
    ['hub', true, true],
    ['all', false, true],
    ['group:mou-kr-vn', false, true],
    ['group:x', false, false],
    ['Kr', false, false],
    ['k', false, false],
    [7, false, false],
  ])('%j: member id %p, addressee %p', (s, member, addressee) => {
    expect(isMemberId(s)).toBe(member);
    expect(isAddressee(s)).toBe(addressee);
  });
});
