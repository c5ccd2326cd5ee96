import { Buffer, isAscii } from 'node:buffer';
import { ProtocolError } from './errors.js';

/** Default limits of {@link parseStrictJson}: 1 MiB of UTF-8 and 32 nested containers. */
export const STRICT_JSON_DEFAULTS = Object.freeze({ maxBytes: 1024 * 1024, maxDepth: 32 });

/** Options of {@link parseStrictJson}. */
export interface StrictJsonOptions {
  /** Largest accepted input in UTF-8 bytes (default 1 MiB); larger input fails with `JSON_TOO_LARGE`. */
  maxBytes?: number;
  /** Largest accepted nesting of arrays and objects (default 32; the top-level container is depth 1). */
  maxDepth?: number;
}

// fatal: invalid UTF-8 is an error, never U+FFFD; ignoreBOM: a BOM stays in the text and is then
// rejected as a syntax error instead of being silently dropped.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// With the `u` flag a well-formed surrogate pair is one code point, so \p{Cs} only matches lone ones.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Parses JSON (RFC 8259) strictly, for bytes received from another node.
 *
 * Unlike `JSON.parse` it rejects what would let two parsers disagree about a signed record:
 * duplicate keys (`JSON_DUPLICATE_KEY`), numbers a double cannot hold exactly as written or
 * outside ±(2^53−1) (`JSON_UNSAFE_NUMBER`), lone surrogates and invalid UTF-8, a byte order mark,
 * trailing content (`JSON_SYNTAX`, with the byte offset), and input over `maxBytes` or nested
 * deeper than `maxDepth` (`JSON_TOO_LARGE`). Objects are returned as plain objects; a `__proto__`
 * key becomes an own data property and never changes a prototype.
 *
 * @example
 * ```ts
 * parseStrictJson('{"a":1}'); // { a: 1 }
 * parseStrictJson('{"a":1,"a":2}'); // throws ProtocolError JSON_DUPLICATE_KEY
 * ```
 * @throws ProtocolError `JSON_SYNTAX`, `JSON_DUPLICATE_KEY`, `JSON_UNSAFE_NUMBER`, `JSON_TOO_LARGE`
 */
export function parseStrictJson(text: string | Uint8Array, opts: StrictJsonOptions = {}): unknown {
  const maxBytes = opts.maxBytes ?? STRICT_JSON_DEFAULTS.maxBytes;
  const maxDepth = opts.maxDepth ?? STRICT_JSON_DEFAULTS.maxDepth;
  let source: string;
  if (typeof text === 'string') {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: only count bytes when the bound is not enough.
    if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) {
      throw tooLarge(Buffer.byteLength(text, 'utf8'), maxBytes);
    }
    source = text;
  } else {
    if (text.byteLength > maxBytes) throw tooLarge(text.byteLength, maxBytes);
    if (isAscii(text)) {
      // ASCII is valid UTF-8 and decodes byte for byte; latin1 decoding is several times faster.
      source = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1');
    } else {
      try {
        source = utf8Decoder.decode(text);
      } catch (cause) {
        throw new ProtocolError('JSON_SYNTAX', `invalid UTF-8 at byte ${firstInvalidUtf8(text)}`, {
          cause,
        });
      }
    }
  }
  return new Parser(source, maxDepth).parseDocument();
}

function tooLarge(size: number, maxBytes: number): ProtocolError {
  return new ProtocolError('JSON_TOO_LARGE', `JSON input of ${size} bytes exceeds ${maxBytes}`);
}

/** Byte offset of the first invalid UTF-8 sequence, for the error message only. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.byteLength;
  // The longest valid prefix is found by bisection on the (cold) error path.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (validPrefix(bytes.subarray(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function validPrefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

const KEY_CACHE_MASK = 1023;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_MASK + 1);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class Parser {
  private i = 0;
  private readonly len: number;
  private depth = 0;
  // path[d] is the key or index being parsed inside the container at depth d+1: kept for messages.
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {
    this.len = s.length;
  }

  parseDocument(): Json {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.len) this.fail('unexpected content after the JSON value');
    return v;
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  private value(): Json {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(this.i >= this.len ? 'unexpected end of input' : 'unexpected character');
    }
  }

  private literal<T extends Json>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('invalid literal');
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new ProtocolError(
        'JSON_TOO_LARGE',
        `JSON nesting deeper than ${this.maxDepth} at ${this.pathString(this.depth - 1)} (byte ${this.byteOffset()})`,
        { field: this.fieldString(this.depth - 1) },
      );
    }
  }

  private object(): Json {
    this.enter();
    const d = this.depth - 1;
    const s = this.s;
    const obj: { [key: string]: Json } = {};
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      this.depth--;
      return obj;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== 0x22) this.fail('expected a string key');
      const keyStart = this.i;
      const key = this.key();
      if (Object.hasOwn(obj, key)) {
        const at = this.pathString(d);
        this.i = keyStart;
        throw new ProtocolError(
          'JSON_DUPLICATE_KEY',
          `duplicate key ${JSON.stringify(key)} in the object at ${at} (byte ${this.byteOffset()})`,
          { field: joinField(this.fieldString(d), key) },
        );
      }
      this.path[d] = key;
      this.ws();
      if (s.charCodeAt(this.i) !== 0x3a) this.fail('expected ":"');
      this.i++;
      this.ws();
      const v = this.value();
      if (key === '__proto__') {
        // An assignment would call the inherited __proto__ setter and replace the prototype.
        Object.defineProperty(obj, key, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        obj[key] = v;
      }
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x7d) {
        this.i++;
        this.depth--;
        return obj;
      } else {
        this.fail('expected "," or "}"');
      }
    }
  }

  private array(): Json {
    this.enter();
    const d = this.depth - 1;
    const s = this.s;
    const arr: Json[] = [];
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      this.depth--;
      return arr;
    }
    for (;;) {
      this.path[d] = arr.length;
      arr.push(this.value());
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x5d) {
        this.i++;
        this.depth--;
        return arr;
      } else {
        this.fail('expected "," or "]"');
      }
    }
  }

  /**
   * A member name. Records repeat the same few names, and a fresh slice used as a property key
   * costs V8 a string-table lookup each time: a small cache hands back the previous, already
   * internalized, string when the bytes match, which makes object building about twice as fast.
   */
  private key(): string {
    const s = this.s;
    const start = this.i + 1;
    let i = start;
    let c = s.charCodeAt(i);
    while (c !== 0x22 && c !== 0x5c && c >= 0x20 && c < 0xd800) c = s.charCodeAt(++i);
    if (c !== 0x22) return this.string();
    const n = i - start;
    const slot = (n * 7919 + s.charCodeAt(start) * 31 + s.charCodeAt(i - 1)) & KEY_CACHE_MASK;
    const cached = keyCache[slot];
    this.i = i + 1;
    if (cached !== undefined && cached.length === n && s.startsWith(cached, start)) return cached;
    const key = s.slice(start, i);
    keyCache[slot] = key;
    return key;
  }

  private string(): string {
    const s = this.s;
    const len = this.len;
    let i = this.i + 1;
    const start = i;
    // Fast path: no escapes, which is nearly every string of a record.
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20) {
        this.i = i;
        this.fail('unescaped control character in string');
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        if (c >= 0xdc00 || !isLow(s.charCodeAt(i + 1))) {
          this.i = i;
          this.fail('lone surrogate in string');
        }
        i += 2;
      } else {
        i++;
      }
    }
    if (i >= len) {
      this.i = i;
      this.fail('unterminated string');
    }
    return this.escapedString(start, i);
  }

  private escapedString(start: number, firstEscape: number): string {
    const s = this.s;
    const len = this.len;
    let out = s.slice(start, firstEscape);
    let i = firstEscape;
    let runStart = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(runStart, i);
        this.i = i + 1;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(runStart, i);
        const e = s.charCodeAt(i + 1);
        switch (e) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75: {
            const u = this.hex4(i + 2);
            if (u >= 0xd800 && u <= 0xdfff) {
              // An escaped surrogate must be an escaped high surrogate followed by an escaped low one.
              const lo =
                u < 0xdc00 && s.charCodeAt(i + 6) === 0x5c && s.charCodeAt(i + 7) === 0x75
                  ? this.hex4(i + 8)
                  : -1;
              if (!isLow(lo)) {
                this.i = i;
                this.fail('lone surrogate escape in string');
              }
              out += String.fromCharCode(u, lo);
              i += 6;
            } else {
              out += String.fromCharCode(u);
            }
            i += 6;
            runStart = i;
            continue;
          }
          default:
            this.i = i;
            this.fail('invalid escape in string');
        }
        i += 2;
        runStart = i;
        continue;
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('unescaped control character in string');
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        if (c >= 0xdc00 || !isLow(s.charCodeAt(i + 1))) {
          this.i = i;
          this.fail('lone surrogate in string');
        }
        i += 2;
      } else {
        i++;
      }
    }
    this.i = i;
    return this.fail('unterminated string');
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.s.charCodeAt(at + k);
      let h: number;
      if (c >= 0x30 && c <= 0x39) h = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) h = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) h = c - 0x37;
      else {
        this.i = at + k;
        return this.fail('invalid \\u escape');
      }
      v = v * 16 + h;
    }
    return v;
  }

  private number(): number {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    let c = s.charCodeAt(i);
    if (c === 0x30) {
      i++;
    } else if (c >= 0x31 && c <= 0x39) {
      do i++;
      while (isDigit(s.charCodeAt(i)));
    } else {
      this.i = i;
      this.fail('invalid number');
    }
    let simple = true;
    c = s.charCodeAt(i);
    if (c === 0x2e) {
      simple = false;
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.i = i;
        this.fail('invalid number: digit expected after "."');
      }
      do i++;
      while (isDigit(s.charCodeAt(i)));
      c = s.charCodeAt(i);
    }
    if (c === 0x65 || c === 0x45) {
      simple = false;
      i++;
      c = s.charCodeAt(i);
      if (c === 0x2b || c === 0x2d) i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.i = i;
        this.fail('invalid number: digit expected in exponent');
      }
      do i++;
      while (isDigit(s.charCodeAt(i)));
    }
    const text = s.slice(start, i);
    const v = Number(text);
    this.i = i;
    // Integers of at most 15 digits are exact doubles: skip the slower exactness check.
    if (simple && i - start <= 15) return v;
    if (!(Math.abs(v) <= MAX_SAFE) || !sameDecimal(text, String(v))) {
      this.i = start;
      throw new ProtocolError(
        'JSON_UNSAFE_NUMBER',
        `number ${text.length > 40 ? text.slice(0, 40) + '…' : text} at ${this.pathString(this.depth)} ` +
          `is outside ±(2^53−1) or not exactly representable (byte ${this.byteOffset()})`,
        { field: this.fieldString(this.depth) },
      );
    }
    return v;
  }

  private byteOffset(): number {
    return Buffer.byteLength(this.s.slice(0, this.i), 'utf8');
  }

  /** JSONPath-like location (`$.a[2]["x y"]`) of the value at nesting `depth`. */
  private pathString(depth: number): string {
    let p = '$';
    for (let k = 0; k < depth; k++) {
      const seg = this.path[k];
      if (typeof seg === 'number') p += `[${seg}]`;
      else if (seg !== undefined)
        p += IDENTIFIER.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
    }
    return p;
  }

  /** The same location in the `field` style of ProtocolError (`a[2].b`), empty at the root. */
  private fieldString(depth: number): string {
    let p = '';
    for (let k = 0; k < depth; k++) {
      const seg = this.path[k];
      if (typeof seg === 'number') p += `[${seg}]`;
      else if (seg !== undefined) p = joinField(p, seg);
    }
    return p;
  }

  private fail(reason: string): never {
    throw new ProtocolError(
      'JSON_SYNTAX',
      `JSON syntax error at byte ${this.byteOffset()}: ${reason}`,
      this.depth > 0 ? { field: this.fieldString(this.depth) } : {},
    );
  }
}

function joinField(parent: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * True when two decimal literals (JSON or ECMAScript number syntax) denote the same value. Used to
 * check that the text received is exactly the shortest round-trip form of the double it parses to,
 * i.e. that parsing it lost nothing.
 */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalParts(a);
  const y = decimalParts(b);
  if (x.digits === '' && y.digits === '') return true; // zero, whatever its sign
  return x.negative === y.negative && x.digits === y.digits && x.exp === y.exp;
}

function decimalParts(t: string): { negative: boolean; digits: string; exp: number } {
  let negative = false;
  let k = 0;
  if (t.charCodeAt(0) === 0x2d) {
    negative = true;
    k = 1;
  }
  const e = t.search(/[eE]/);
  const mantissa = e < 0 ? t.slice(k) : t.slice(k, e);
  let exp = e < 0 ? 0 : Number(t.slice(e + 1));
  const dot = mantissa.indexOf('.');
  let digits = mantissa;
  if (dot >= 0) {
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    exp -= mantissa.length - dot - 1;
  }
  digits = digits.replace(/^0+/, '');
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  return { negative, digits: trimmed, exp };
}

/**
 * Serializes a JSON value as RFC 8785 (JCS) canonical JSON: object members sorted by the UTF-16
 * code units of their names, no whitespace, numbers in ECMAScript `Number.prototype.toString`
 * form, strings escaped as `JSON.stringify` does.
 *
 * Accepted: `null`, booleans, finite numbers, strings without lone surrogates, arrays and plain
 * objects (prototype `Object.prototype` or `null`). Object members whose value is `undefined` are
 * omitted, as `JSON.stringify` does, so optional TypeScript fields may be left unset.
 *
 * @example
 * ```ts
 * canonicalize({ b: [1e21, 0.1], a: 'é' }); // '{"a":"é","b":[1e+21,0.1]}'
 * ```
 * @throws ProtocolError `INVALID_VALUE` for NaN, ±Infinity, bigint, functions, symbols, `undefined`
 *   (other than as an object member), lone surrogates, non-plain objects (Date, Map, class
 *   instances, …) and cycles; `field` names the location.
 */
export function canonicalize(value: unknown): string {
  return new Canonicalizer().value(value, 0);
}

/** UTF-8 bytes of {@link canonicalize}: what the origin signs and the hash of a record covers. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encoder.encode(canonicalize(value));
}

/**
 * One serialization pass that also validates. The path to the current value is kept as a stack
 * and turned into a field name only when something is rejected (building it eagerly for every
 * member tripled the cost).
 */
class Canonicalizer {
  private readonly path: (string | number)[] = [];
  private readonly ancestors: object[] = [];

  value(v: unknown, depth: number): string {
    switch (typeof v) {
      case 'string':
        return this.string(v, depth);
      case 'number':
        if (!Number.isFinite(v)) this.invalid(depth, String(v));
        // ES Number.prototype.toString is exactly the RFC 8785 number form (and writes -0 as 0).
        return String(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object': {
        if (v === null) return 'null';
        if (this.ancestors.includes(v)) this.invalid(depth, 'a cyclic structure');
        this.ancestors.push(v);
        const out = Array.isArray(v) ? this.array(v, depth) : this.object(v, depth);
        this.ancestors.pop();
        return out;
      }
      case 'undefined':
      case 'bigint':
      case 'function':
      case 'symbol':
        return this.invalid(depth, typeof v);
    }
  }

  private array(v: readonly unknown[], depth: number): string {
    let out = '[';
    for (let k = 0; k < v.length; k++) {
      this.path[depth] = k;
      const item = v[k];
      if (item === undefined) this.invalid(depth + 1, 'undefined (or a hole) in an array');
      if (k > 0) out += ',';
      out += this.value(item, depth + 1);
    }
    return out + ']';
  }

  private object(v: object, depth: number): string {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      this.invalid(depth, `a non-plain object (${describe(v)})`);
    }
    const rec = v as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 wants.
    const keys = Object.keys(rec).sort();
    let out = '{';
    for (const key of keys) {
      const member = rec[key];
      if (member === undefined) continue;
      this.path[depth] = key;
      if (out.length > 1) out += ',';
      out += this.string(key, depth + 1);
      out += ':';
      out += this.value(member, depth + 1);
    }
    return out + '}';
  }

  private string(v: string, depth: number): string {
    // Most strings need no escaping: checking in JS is cheaper than a JSON.stringify call.
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
        if (LONE_SURROGATE.test(v)) this.invalid(depth, 'a string with a lone surrogate');
        // With lone surrogates excluded, JSON.stringify escapes exactly as RFC 8785 §3.2.2.2 says.
        return JSON.stringify(v);
      }
    }
    return '"' + v + '"';
  }

  private invalid(depth: number, what: string): never {
    let field = '';
    for (let k = 0; k < depth; k++) {
      const seg = this.path[k];
      if (typeof seg === 'number') field += `[${seg}]`;
      else if (seg !== undefined) field = joinField(field, seg);
    }
    throw new ProtocolError(
      'INVALID_VALUE',
      `cannot canonicalize ${what} at ${field === '' ? 'the root' : field}`,
      field === '' ? {} : { field },
    );
  }
}

function describe(v: object): string {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'unknown prototype';
}
