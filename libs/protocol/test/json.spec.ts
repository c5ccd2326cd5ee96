import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import {
  ProtocolError,
  canonicalBytes,
  canonicalize,
  parseStrictJson,
  type ProtocolErrorCode,
} from '../src/index.js';

const vectorDir = new URL('./vectors/jcs/', import.meta.url);
const names = readdirSync(new URL('input/', vectorDir))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();
const input = (name: string): string =>
  readFileSync(new URL(`input/${name}.json`, vectorDir), 'utf8');
const outputBytes = (name: string): Buffer =>
  readFileSync(new URL(`output/${name}.json`, vectorDir));

/** The ProtocolError thrown by `fn`, or a failed expectation when it does not throw one. */
function caught(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw new Error(`expected a ProtocolError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

function expectCode(fn: () => unknown, code: ProtocolErrorCode): ProtocolError {
  const e = caught(fn);
  expect(e.code).toBe(code);
  return e;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('canonicalize: RFC 8785 golden files (test/vectors/jcs)', () => {
  it('has every input paired with an expected output', () => {
    expect(names).toEqual([
      'arrays',
      'french',
      'rfc8785-3.2.2-main-example',
      'rfc8785-3.2.3-sorting',
      'structures',
      'unicode',
      'values',
      'weird',
    ]);
  });

  it.each(names)('%s: canonical bytes equal the expected file byte for byte', (name) => {
    const value: unknown = JSON.parse(input(name));
    expect(Buffer.from(canonicalBytes(value)).equals(outputBytes(name))).toBe(true);
    expect(canonicalize(value)).toBe(outputBytes(name).toString('utf8'));
  });

  it.each(names)('%s: canonicalizing the expected output again changes nothing', (name) => {
    const out = outputBytes(name).toString('utf8');
    expect(canonicalize(JSON.parse(out))).toBe(out);
  });

  it.each(names.filter((n) => n !== 'values' && n !== 'rfc8785-3.2.2-main-example'))(
    '%s: the strict parser reads the input as JSON.parse does',
    (name) => {
      expect(parseStrictJson(input(name))).toEqual(JSON.parse(input(name)));
      expect(canonicalize(parseStrictJson(utf8(input(name))))).toBe(
        outputBytes(name).toString('utf8'),
      );
    },
  );

  it.each(['values', 'rfc8785-3.2.2-main-example'])(
    '%s: the strict parser refuses its inexact numbers (333333333.33333329, 1E30)',
    (name) => {
      expectCode(() => parseStrictJson(input(name)), 'JSON_UNSAFE_NUMBER');
    },
  );
});

describe('canonicalize: RFC 8785 Appendix B number serialization', () => {
  const { vectors } = JSON.parse(readFileSync(new URL('numbers.json', vectorDir), 'utf8')) as {
    vectors: [string, string | null][];
  };

  it('holds the 26 rows of the table', () => {
    expect(vectors).toHaveLength(26);
  });

  it.each(vectors)('%s → %s', (bits, expected) => {
    const value = Buffer.from(bits, 'hex').readDoubleBE(0);
    if (expected === null) {
      expectCode(() => canonicalize(value), 'INVALID_VALUE');
      expectCode(() => canonicalize([value]), 'INVALID_VALUE');
    } else {
      expect(canonicalize(value)).toBe(expected);
      expect(canonicalize({ n: [value] })).toBe(`{"n":[${expected}]}`);
    }
  });
});

describe('canonicalize: values and their limits', () => {
  it('sorts names by UTF-16 code units, not code points or locale', () => {
    const astral = String.fromCodePoint(0x10000); // D800 DC00: before U+FFFF in UTF-16 order
    const bmp = '\uffff';
    expect(canonicalize({ [bmp]: 1, [astral]: 2, b: 3, B: 4, ä: 5 })).toBe(
      `{"B":4,"b":3,"ä":5,"${astral}":2,"${bmp}":1}`,
    );
    expect(canonicalize({ '10': 1, '9': 2, '1': 3 })).toBe('{"1":3,"10":1,"9":2}');
  });

  it('writes no whitespace and keeps array order', () => {
    expect(canonicalize({ a: [3, 1, 2], b: { c: null, d: true, e: false } })).toBe(
      '{"a":[3,1,2],"b":{"c":null,"d":true,"e":false}}',
    );
  });

  it('escapes strings exactly as RFC 8785 §3.2.2.2 says', () => {
    const s = '\u0000\u0001\b\t\n\u000b\f\r\u001f "\\/\u007f\u0080\u2028é😀';
    expect(canonicalize(s)).toBe(
      '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\u007f\u0080\u2028é😀"',
    );
    expect(canonicalize({ 'k\n"': 1 })).toBe('{"k\\n\\"":1}');
  });

  it('writes -0 as 0 and integers without exponent up to 1e21', () => {
    expect(canonicalize([-0, 0, 1e20, 1e21, 123.0, -1.5e-7])).toBe(
      '[0,0,100000000000000000000,1e+21,123,-1.5e-7]',
    );
  });

  it('omits object members whose value is undefined, as JSON.stringify does', () => {
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalize({ a: undefined })).toBe('{}');
  });

  it('accepts null-prototype objects and an own __proto__ member', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.z = 1;
    o.a = 2;
    expect(canonicalize(o)).toBe('{"a":2,"z":1}');
    const withProto = parseStrictJson('{"__proto__":{"x":1},"a":0}');
    expect(canonicalize(withProto)).toBe('{"__proto__":{"x":1},"a":0}');
  });

  it('gives UTF-8 bytes in a plain Uint8Array', () => {
    const b = canonicalBytes({ é: '€' });
    expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
    expect(Buffer.from(b).toString('hex')).toBe('7b22c3a9223a22e282ac227d');
  });

  it.each<[string, unknown, string | undefined]>([
    ['NaN', { a: [1, { b: Number.NaN }] }, 'a[1].b'],
    ['Infinity', { a: Number.POSITIVE_INFINITY }, 'a'],
    ['-Infinity', [Number.NEGATIVE_INFINITY], '[0]'],
    ['undefined at the root', undefined, undefined],
    ['undefined in an array', { list: [1, undefined] }, 'list[1]'],
    // eslint-disable-next-line no-sparse-arrays
    ['a hole in an array', [1, , 3], '[1]'],
    ['a function', { f: () => 1 }, 'f'],
    ['a bigint', { n: 10n }, 'n'],
    ['a symbol', { s: Symbol('x') }, 's'],
    ['a Date', { at: new Date(0) }, 'at'],
    ['a Map', { m: new Map() }, 'm'],
    ['a class instance', { c: new (class Thing {})() }, 'c'],
    ['a typed array', { b: new Uint8Array(2) }, 'b'],
    ['a lone high surrogate', { s: 'a\ud800b' }, 's'],
    ['a lone low surrogate', ['\udc00'], '[0]'],
    ['a reversed pair', ['\udc00\ud800'], '[0]'],
    ['a lone surrogate in a name', { 'k\ud800': 1 }, '["k\\ud800"]'],
    ['an odd name path', { 'a b': [{ 'c.d': Number.NaN }] }, '["a b"][0]["c.d"]'],
  ])('rejects %s with INVALID_VALUE naming the field', (_what, value, field) => {
    expect(expectCode(() => canonicalize(value), 'INVALID_VALUE').field).toBe(field);
  });

  it('rejects cycles instead of overflowing the stack', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    expect(expectCode(() => canonicalize(a), 'INVALID_VALUE').field).toBe('self.back');
    const list: unknown[] = [];
    list.push(list);
    expectCode(() => canonicalize(list), 'INVALID_VALUE');
  });

  it('accepts the same object twice when it is not its own ancestor', () => {
    const shared = { k: 1 };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"k":1},"b":[{"k":1}]}');
  });

  it('agrees with a naive reference implementation on 2000 random values', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const chars = ['a', 'B', 'é', '€', '😀', '"', '\\', '\n', '\u0001', '\u007f', '1', '~', ' '];
    const str = (): string =>
      Array.from(
        { length: Math.floor(rnd() * 6) },
        () => chars[Math.floor(rnd() * chars.length)],
      ).join('');
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.3) {
        const p = rnd();
        if (p < 0.2) return str();
        if (p < 0.4) return Math.floor((rnd() - 0.5) * 2 ** 40);
        if (p < 0.6) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 60 - 30);
        if (p < 0.7) return null;
        return rnd() < 0.5;
      }
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 5); i > 0; i--) o[str()] = gen(d + 1);
      return o;
    };
    // RFC 8785 by its definition: sort each object's names by code units, JSON.stringify leaves.
    const reference = (v: unknown): string => {
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      if (v !== null && typeof v === 'object') {
        const keys = Object.keys(v).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const rec = v as Record<string, unknown>;
        return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(rec[k])}`).join(',')}}`;
      }
      return JSON.stringify(v);
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      const c = canonicalize(v);
      expect(c).toBe(reference(v));
      expect(canonicalize(JSON.parse(c))).toBe(c);
    }
  });
});

describe('parseStrictJson: well-formed input', () => {
  it.each([
    '{}',
    '[]',
    '0',
    '-0',
    '"x"',
    'true',
    'false',
    'null',
    ' \t\r\n{ "a" : [ 1 , 2.5 , -3e2 , 4E-1 , 1.0e+2 ] , "b" : { } } \n',
    '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00 raw é € 😀"}',
    '[[[[[[[[[[]]]]]]]]]]',
    '{"constructor":1,"toString":2,"hasOwnProperty":3,"valueOf":{"x":null}}',
    '["\\n\ud83d\ude00 é", "\\t"]',
    '[9007199254740991,-9007199254740991,123456789012345,0.1,4.50,1E2,0.000001,1e-7,5e-324]',
  ])('reads %j as JSON.parse does', (text) => {
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson(utf8(text))).toEqual(JSON.parse(text));
  });

  it('keeps -0 as JSON.parse does', () => {
    expect(Object.is(parseStrictJson('-0'), -0)).toBe(true);
  });

  it('reads bytes from a view into a larger buffer', () => {
    const all = utf8('xx{"a":"é"}yy');
    expect(parseStrictJson(all.subarray(2, all.length - 2))).toEqual({ a: 'é' });
  });

  it('returns plain objects and arrays', () => {
    const v = parseStrictJson('{"a":[{}]}') as { a: object[] };
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Array.isArray(v.a)).toBe(true);
    expect(Object.getPrototypeOf(v.a[0])).toBe(Object.prototype);
  });
});

describe('parseStrictJson: __proto__ cannot pollute', () => {
  it('keeps __proto__ as an own data member and leaves prototypes alone', () => {
    const v = parseStrictJson('{"__proto__":{"polluted":true},"a":{"__proto__":[]}}') as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
    expect(Array.isArray(Object.getOwnPropertyDescriptor(v.a, '__proto__')?.value)).toBe(true);
  });

  it('treats a repeated __proto__ as a duplicate key', () => {
    expectCode(() => parseStrictJson('{"__proto__":1,"__proto__":2}'), 'JSON_DUPLICATE_KEY');
  });
});

describe('parseStrictJson: duplicate keys', () => {
  it('names the key, the JSON path and the byte offset', () => {
    const e = expectCode(
      () => parseStrictJson('{"x":{"y":[1,{"b":2,"b":3}]}}'),
      'JSON_DUPLICATE_KEY',
    );
    expect(e.message).toContain('"b"');
    expect(e.message).toContain('$.x.y[1]');
    expect(e.message).toContain('byte 20');
    expect(e.field).toBe('x.y[1].b');
  });

  it.each([
    '{"a":1,"a":1}',
    '{"a":1,"b":2,"a":3}',
    '{"a":1,"\\u0061":2}',
    '{"é":1,"\\u00e9":2}',
    '{"😀":1,"\\ud83d\\ude00":2}',
    '[{"ok":1},{"k":{"dup":0,"dup":0}}]',
    '{"":1,"":2}',
  ])('rejects %j', (text) => {
    expectCode(() => parseStrictJson(text), 'JSON_DUPLICATE_KEY');
  });

  it('allows the same key in different objects', () => {
    expect(parseStrictJson('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toBeTruthy();
  });
});

describe('parseStrictJson: numbers', () => {
  it.each([
    '9007199254740992',
    '-9007199254740992',
    '9007199254740993',
    '12345678901234567890',
    '1e16',
    '1E30',
    '1e400',
    '-1e400',
    '1e-400',
    '0.30000000000000000001',
    '333333333.33333329',
    '1.00000000000000000000001',
    '[1,{"n":123456789012345678}]',
  ])('rejects %j with JSON_UNSAFE_NUMBER', (text) => {
    expectCode(() => parseStrictJson(text), 'JSON_UNSAFE_NUMBER');
  });

  it('names the path of an unsafe number', () => {
    const e = expectCode(() => parseStrictJson('{"a":[0,1e999]}'), 'JSON_UNSAFE_NUMBER');
    expect(e.field).toBe('a[1]');
    expect(e.message).toContain('$.a[1]');
    expect(e.message).toContain('byte 8');
  });

  it.each([
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['900719925474099.1', 900719925474099.1],
    ['1.5e300', null],
    ['0.1', 0.1],
    ['1.10', 1.1],
    ['1e-7', 1e-7],
    ['5e-324', 5e-324],
    ['100e-2', 1],
    ['0.0', 0],
  ])('%s', (text, value) => {
    if (value === null) expectCode(() => parseStrictJson(text), 'JSON_UNSAFE_NUMBER');
    else expect(parseStrictJson(text)).toBe(value);
  });
});

describe('parseStrictJson: syntax', () => {
  it.each<[string, number]>([
    ['', 0],
    ['   ', 3],
    ['{"a":1,}', 7],
    ['[1,]', 3],
    ['[1 2]', 3],
    ['{"a" 1}', 5],
    ['{a:1}', 1],
    ["{'a':1}", 1],
    ['{"a":1}}', 7],
    ['{"a":1} x', 8],
    ['[1]/*c*/', 3],
    ['01', 1],
    ['-01', 2],
    ['+1', 0],
    ['.5', 0],
    ['1.', 2],
    ['1.e3', 2],
    ['1e', 2],
    ['1e+', 3],
    ['0x10', 1],
    ['NaN', 0],
    ['Infinity', 0],
    ['-Infinity', 1],
    ['-', 1],
    ['tru', 0],
    ['nul', 0],
    ['True', 0],
    ['"abc', 4],
    ['"a\tb"', 2],
    ['"a\u0000b"', 2],
    ['"\\x41"', 1],
    ['"\\\'"', 1],
    ['"\\u12"', 5],
    ['"\\u12G4"', 5],
    ['"\\U0041"', 1],
    ['"\\ud800"', 1],
    ['"\\udc00"', 1],
    ['"\\ude00\\ud83d"', 1],
    ['"\\ud83d\\u0041"', 1],
    ['"\\ud83dx"', 1],
    ['"\ud800"', 1],
    ['"\udc00"', 1],
    ['"a\ud83d"', 2],
    ['"\\n\u0001"', 3],
    ['"\\n\ud800"', 3],
    ['"\\n\udc00\ud800"', 3],
    ['"\\nabc', 6],
    ['{"a":1 "b":2}', 7],
    ['\ufeff{}', 0],
    ['[1]\u00a0', 3],
    ['{"é":1,]', 8],
  ])('rejects %j with JSON_SYNTAX at byte %i', (text, offset) => {
    const e = expectCode(() => parseStrictJson(text), 'JSON_SYNTAX');
    expect(e.message).toContain(`byte ${offset}`);
  });

  it('names the path of a syntax error inside a structure', () => {
    const e = expectCode(() => parseStrictJson('{"a b":{"c":[tru]}}'), 'JSON_SYNTAX');
    expect(e.field).toBe('["a b"].c[0]');
  });
});

describe('parseStrictJson: bytes', () => {
  it.each<[string, number[], number]>([
    ['a lone continuation byte', [0x22, 0x80, 0x22], 1],
    ['an overlong NUL', [0x22, 0xc0, 0x80, 0x22], 1],
    ['an overlong slash', [0x22, 0xe0, 0x80, 0xaf, 0x22], 2],
    ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22], 2],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22], 3],
    ['0xff', [0x5b, 0xff, 0x5d], 1],
    ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 2],
    ['a truncated end', [0x22, 0xc3], 2],
  ])('rejects %s as JSON_SYNTAX with the byte offset', (_what, bytes, offset) => {
    const e = expectCode(() => parseStrictJson(Uint8Array.from(bytes)), 'JSON_SYNTAX');
    expect(e.message).toContain(`UTF-8 at byte ${offset}`);
  });

  it('rejects a UTF-8 byte order mark', () => {
    expectCode(() => parseStrictJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)), 'JSON_SYNTAX');
  });

  it('reports offsets in bytes, not UTF-16 units', () => {
    const e = expectCode(() => parseStrictJson(utf8('["€😀",]')), 'JSON_SYNTAX');
    // [ " € (3 bytes) 😀 (4 bytes) " , ] → the ] is at byte 11
    expect(e.message).toContain('byte 11');
  });
});

describe('parseStrictJson: limits', () => {
  it('accepts exactly maxBytes and rejects one byte more, counting UTF-8 bytes', () => {
    const text = '"éé"'; // 6 bytes, 4 UTF-16 units
    expect(parseStrictJson(text, { maxBytes: 6 })).toBe('éé');
    expect(parseStrictJson(utf8(text), { maxBytes: 6 })).toBe('éé');
    expectCode(() => parseStrictJson(text, { maxBytes: 5 }), 'JSON_TOO_LARGE');
    expectCode(() => parseStrictJson(utf8(text), { maxBytes: 5 }), 'JSON_TOO_LARGE');
  });

  it('defaults to 1 MiB', () => {
    const exact = `"${'a'.repeat(1024 * 1024 - 2)}"`;
    expect(parseStrictJson(exact)).toHaveLength(1024 * 1024 - 2);
    expectCode(() => parseStrictJson(`"${'a'.repeat(1024 * 1024 - 1)}"`), 'JSON_TOO_LARGE');
    expectCode(() => parseStrictJson(new Uint8Array(1024 * 1024 + 1)), 'JSON_TOO_LARGE');
  });

  it('accepts 32 levels of nesting by default and rejects 33', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(parseStrictJson(nest(32))).toBeTruthy();
    expectCode(() => parseStrictJson(nest(33)), 'JSON_TOO_LARGE');
    expect(parseStrictJson('{"a":{"b":1}}', { maxDepth: 2 })).toEqual({ a: { b: 1 } });
    const e = expectCode(
      () => parseStrictJson('{"a":{"b":[]}}', { maxDepth: 2 }),
      'JSON_TOO_LARGE',
    );
    expect(e.field).toBe('a.b');
  });

  it('rejects hostile nesting early, without a stack overflow', () => {
    expectCode(() => parseStrictJson('['.repeat(500_000)), 'JSON_TOO_LARGE');
    expectCode(() => parseStrictJson('{"a":'.repeat(100_000)), 'JSON_TOO_LARGE');
  });
});
