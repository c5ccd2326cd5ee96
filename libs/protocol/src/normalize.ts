/**
 * Normalization of indicator values (docs/protocol-parts/20-record-and-normalization.md).
 *
 * Normalization is part of the protocol (docs/adr/0003-normalization-is-protocol.md): every node
 * and the hub must derive the same bytes from the same indicator, or deduplication and hub
 * aggregation by value silently fail. Every rule here is therefore deterministic, idempotent
 * (`normalize(normalize(x)) === normalize(x)`) and rejects rather than guesses.
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { ProtocolError } from './errors.js';
import {
  ALIAS_SUBTYPES,
  CRYPTO_CHAINS,
  INDICATOR_TYPES,
  PAYMENT_SUBTYPES,
  type AliasSubtype,
  type CryptoChain,
  type IndicatorType,
  type PaymentSubtype,
} from './model.js';

/** What {@link normalizeIndicator} accepts. `subtype` and `chain` are checked, not trusted. */
export interface IndicatorInput {
  type: IndicatorType;
  value: string;
  subtype?: string;
  chain?: string;
}

/** The canonical form of an indicator: the value as it travels and is compared everywhere. */
export interface NormalizedIndicator {
  value: string;
  subtype?: PaymentSubtype | AliasSubtype;
  chain?: CryptoChain;
}

/** Longest raw input and longest canonical value, in UTF-16 code units. */
export const MAX_VALUE_LENGTH = 2048;

const invalid = (reason: string, field = 'value'): ProtocolError =>
  new ProtocolError('INVALID_VALUE', `${field}: ${reason}`, { field });

const badField = (field: string, reason: string): ProtocolError =>
  new ProtocolError('INVALID_FIELD', `${field}: ${reason}`, { field });

// Controls, format characters (bidi overrides and isolates, zero-width joiners and spaces, soft
// hyphen, BOM, tags) and lone surrogates: invisible or direction-changing code points let two
// values that look identical differ, or one value look like another (Trojan Source).
const HOSTILE = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/**
 * Normalizes an indicator value to its canonical form.
 *
 * @example
 * normalizeIndicator({ type: 'domain', value: 'Bücher.DE.' }); // { value: 'xn--bcher-kva.de' }
 * normalizeIndicator({ type: 'payment-account', subtype: 'iban', value: 'gb82 west 1234 5698 7654 32' });
 * // { value: 'GB82WEST12345698765432', subtype: 'iban' }
 * @throws {ProtocolError} `UNSUPPORTED_TYPE` for an unknown type or chain, `INVALID_FIELD` for a
 * missing, unknown or misplaced subtype/chain, `INVALID_VALUE` when the value cannot be normalized.
 */
export function normalizeIndicator(input: IndicatorInput): NormalizedIndicator {
  const { type, subtype, chain } = input;
  if (!(INDICATOR_TYPES as readonly unknown[]).includes(type)) {
    throw new ProtocolError('UNSUPPORTED_TYPE', `type: unknown indicator type`, { field: 'type' });
  }
  if (subtype !== undefined && typeof subtype !== 'string') {
    throw badField('subtype', 'must be a string');
  }
  if (chain !== undefined && typeof chain !== 'string') throw badField('chain', 'must be a string');
  const raw: unknown = input.value;
  if (typeof raw !== 'string') throw badField('value', 'must be a string');
  if (raw.length > MAX_VALUE_LENGTH) throw invalid(`longer than ${MAX_VALUE_LENGTH} characters`);
  const value = raw.trim();
  if (value === '') throw invalid('empty');
  if (HOSTILE.test(value)) {
    throw invalid('contains a control, format (bidi, zero-width) or unpaired surrogate character');
  }

  switch (type) {
    case 'domain':
    case 'url':
    case 'ip':
    case 'iptv-service':
      if (subtype !== undefined) throw badField('subtype', `not allowed for type ${type}`);
      if (chain !== undefined) throw badField('chain', `not allowed for type ${type}`);
      return { value: checkLength(normalizeUntyped(type, value)) };
    case 'payment-account':
      return normalizePayment(value, subtype, chain);
    case 'operator-alias':
      if (chain !== undefined) throw badField('chain', `not allowed for type ${type}`);
      return normalizeAlias(value, subtype);
  }
}

function checkLength(value: string): string {
  if (value.length > MAX_VALUE_LENGTH) {
    throw invalid(`canonical form longer than ${MAX_VALUE_LENGTH} characters`);
  }
  return value;
}

function normalizeUntyped(type: 'domain' | 'url' | 'ip' | 'iptv-service', value: string): string {
  switch (type) {
    case 'domain':
      return normalizeDomain(value);
    case 'url':
      return normalizeUrl(value);
    case 'ip':
      return normalizeIp(value);
    case 'iptv-service':
      return /^https?:\/\//i.test(value) ? normalizeUrl(value) : foldText(value);
  }
}

// ---------------------------------------------------------------------------------------------
// domain

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_LIKE = /^[0-9.]+$/;

/**
 * Canonical host name: one trailing dot stripped, IDN → punycode (UTS #46 as in the WHATWG URL
 * Standard, via `node:url` `domainToASCII`), lower case, LDH labels of 1..63, total ≤ 253,
 * at least two labels, not an IP literal.
 */
function normalizeDomain(input: string): string {
  if (/[\s/\\:?#@[\]%]/u.test(input)) {
    throw invalid('a domain is a bare host name: no scheme, path, port, user or percent-escape');
  }
  // UTS #46 maps the ideographic and full-width full stops to '.', so they count as a trailing dot.
  const stripped = input.replace(/[.\u3002\uFF0E\uFF61]$/u, '');
  const ascii = domainToASCII(stripped);
  if (ascii === '') throw invalid('not a valid internationalized domain name (UTS #46)');
  return checkHostName(ascii);
}

/** Checks an ASCII, lower-case host name (output of UTS #46 or the WHATWG URL host parser). */
function checkHostName(ascii: string): string {
  if (IPV4_LIKE.test(ascii)) throw invalid('an IP literal is not a domain; use type ip');
  if (ascii.length > 253) throw invalid('longer than 253 characters');
  const labels = ascii.split('.');
  if (labels.length < 2) throw invalid('a single-label name is not a public domain');
  for (const label of labels) {
    if (label === '') throw invalid('empty label');
    if (label.length > 63) throw invalid(`label longer than 63 characters`);
    if (!LDH_LABEL.test(label)) {
      throw invalid(`label "${label}" is not letters, digits and inner hyphens`);
    }
    // RFC 5891 §4.2.3.1: "--" in positions 3-4 is reserved for A-labels ("xn--").
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      throw invalid(`label "${label}" has a reserved "--" in positions 3-4`);
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) throw invalid('numeric top-level label');
  return ascii;
}

// ---------------------------------------------------------------------------------------------
// url

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Canonical http(s) URL per the WHATWG URL Standard, then: no credentials, no fragment, default
 * port dropped, host checked like a domain (or an IP), percent-escapes with upper-case hex and
 * unreserved characters decoded, empty query dropped, query order kept.
 */
function normalizeUrl(input: string): string {
  if (!/^https?:\/\//i.test(input)) throw invalid('only http:// and https:// URLs are accepted');
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new ProtocolError('INVALID_VALUE', 'value: not a parsable URL', {
      field: 'value',
      cause,
    });
  }
  // Credentials in an indicator would leak a secret to every addressee.
  if (url.username !== '' || url.password !== '') {
    throw invalid('a URL with user name or password (credentials) is not accepted');
  }
  let host = url.hostname;
  if (host.startsWith('[')) {
    host = `[${normalizeIpv6(host.slice(1, -1))}]`;
  } else if (!isCanonicalIpv4(host)) {
    host = checkHostName(host.replace(/\.$/, ''));
  }
  const port = url.port === '' ? '' : `:${url.port}`;
  const path = normalizePercent(url.pathname);
  const query = url.search === '' ? '' : normalizePercent(url.search);
  return `${url.protocol}//${host}${port}${path}${query}`;
}

function normalizePercent(s: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) throw invalid('malformed percent-escape');
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

// ---------------------------------------------------------------------------------------------
// ip

const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

function isCanonicalIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** IPv4 strict dotted quad (no leading zeros, no octal/hex forms) or IPv6 in RFC 5952 form. */
function normalizeIp(input: string): string {
  if (isCanonicalIpv4(input)) return input;
  if (input.includes(':')) return normalizeIpv6(input);
  throw invalid('not an IPv4 dotted quad (decimal, no leading zeros) or IPv6 address');
}

function normalizeIpv6(input: string): string {
  if (!/^[0-9A-Fa-f:.]+$/.test(input)) {
    throw invalid(
      'IPv6 address has characters other than hex digits, ":" and "." (no zone, prefix)',
    );
  }
  let text = input;
  const tail: number[] = [];
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':');
    const v4 = text.slice(cut + 1);
    if (!isCanonicalIpv4(v4)) throw invalid('embedded IPv4 part is not a strict dotted quad');
    const o = v4.split('.').map(Number) as [number, number, number, number];
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    const prefix = text.slice(0, cut + 1);
    // "…::1.2.3.4" keeps its "::"; "…:1.2.3.4" loses the separator before the IPv4 part.
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const parts = text.split('::');
  if (parts.length > 2) throw invalid('IPv6 address has more than one "::"');
  const parseGroups = (s: string): number[] =>
    s === ''
      ? []
      : s.split(':').map((g) => {
          if (!/^[0-9A-Fa-f]{1,4}$/.test(g))
            throw invalid(`IPv6 group "${g}" is not 1-4 hex digits`);
          return parseInt(g, 16);
        });
  const head = parseGroups(parts[0] ?? '');
  let groups: number[];
  if (parts.length === 2) {
    const rest = [...parseGroups(parts[1] ?? ''), ...tail];
    const missing = 8 - head.length - rest.length;
    if (missing < 1) throw invalid('IPv6 "::" must stand for at least one group');
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = [...head, ...tail];
    if (groups.length !== 8) throw invalid('IPv6 address does not have 8 groups');
  }
  return formatIpv6(groups);
}

/** RFC 5952: lower case, no leading zeros, longest (first) run of ≥ 2 zero groups as "::". */
function formatIpv6(groups: number[]): string {
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const a = groups[6] ?? 0;
    const b = groups[7] ?? 0;
    return `::ffff:${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

// ---------------------------------------------------------------------------------------------
// payment-account

function normalizePayment(
  value: string,
  subtype: string | undefined,
  chain: string | undefined,
): NormalizedIndicator {
  if (subtype === undefined) throw badField('subtype', 'required for type payment-account');
  if (!(PAYMENT_SUBTYPES as readonly string[]).includes(subtype)) {
    throw badField('subtype', `unknown payment-account subtype "${subtype}"`);
  }
  const sub = subtype as PaymentSubtype;
  if (sub !== 'crypto-address') {
    if (chain !== undefined) throw badField('chain', 'allowed only for subtype crypto-address');
  }
  switch (sub) {
    case 'iban':
      return { value: normalizeIban(value), subtype: sub };
    case 'bank-account':
      return { value: normalizeBankAccount(value), subtype: sub };
    case 'card-merchant':
      return { value: normalizeCardMerchant(value), subtype: sub };
    case 'e-wallet':
      return { value: normalizeEWallet(value), subtype: sub };
    case 'crypto-address': {
      if (chain === undefined) throw badField('chain', 'required for subtype crypto-address');
      if (!(CRYPTO_CHAINS as readonly string[]).includes(chain)) {
        throw new ProtocolError('UNSUPPORTED_TYPE', `chain: unknown chain "${chain}"`, {
          field: 'chain',
        });
      }
      const c = chain as CryptoChain;
      const v = c === 'bitcoin' ? normalizeBitcoin(value) : normalizeEthereum(value);
      return { value: v, subtype: sub, chain: c };
    }
  }
}

/** IBAN length per country (ISO 13616 registry): the SEPA area and a few frequent others. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  AD: 24, AE: 23, AT: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18,
  EE: 20, ES: 24, FI: 18, FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28,
  PT: 25, QA: 29, RO: 24, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TR: 26, UA: 29, VA: 22,
}); // prettier-ignore

function normalizeIban(input: string): string {
  const iban = input.normalize('NFKC').replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban)) {
    throw invalid('IBAN must be a country code, two check digits and letters or digits');
  }
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined ? iban.length !== expected : iban.length < 15 || iban.length > 34) {
    throw invalid(`IBAN length ${iban.length} is wrong for country ${iban.slice(0, 2)}`);
  }
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const d = parseInt(ch, 36); // 'A' → 10 … 'Z' → 35, as ISO 13616 requires
    rem = d < 10 ? (rem * 10 + d) % 97 : (rem * 100 + d) % 97;
  }
  if (rem !== 1) throw invalid('IBAN check digits are wrong (mod 97 ≠ 1)');
  return iban;
}

/** `<ISO 3166-1 alpha-2>:<digits, dashes and spaces>` → `CC:digits`, 4..34 digits. */
function normalizeBankAccount(input: string): string {
  const m = /^([A-Za-z]{2}):([0-9 -]+)$/.exec(input.normalize('NFKC'));
  if (!m) throw invalid('bank account must be "<country>:<digits>" (dashes and spaces allowed)');
  const digits = (m[2] ?? '').replace(/[ -]/g, '');
  if (digits.length < 4 || digits.length > 34) {
    throw invalid('bank account number must have 4..34 digits');
  }
  return `${(m[1] ?? '').toUpperCase()}:${digits}`;
}

function normalizeCardMerchant(input: string): string {
  const id = input.normalize('NFKC').toUpperCase();
  if (!/^[A-Z0-9]{4,32}$/.test(id)) {
    throw invalid('card merchant id must be 4..32 ASCII letters or digits');
  }
  return id;
}

const PLATFORM = /^[a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?$/;

/** `<provider>:<account>`: provider lower-case, account NFKC with whitespace collapsed. */
function normalizeEWallet(input: string): string {
  const text = input.normalize('NFKC');
  const colon = text.indexOf(':');
  if (colon < 0) throw invalid('e-wallet must be "<provider>:<account>"');
  const provider = text.slice(0, colon).trim().toLowerCase();
  const account = text
    .slice(colon + 1)
    .trim()
    .replace(/\s+/gu, ' ');
  if (!PLATFORM.test(provider)) {
    throw invalid('e-wallet provider must be 1..32 letters, digits, "." or "-"');
  }
  if (account === '') throw invalid('e-wallet account is empty');
  return `${provider}:${account}`;
}

// ---------------------------------------------------------------------------------------------
// bitcoin

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58Decode(s: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const ch of s) {
    let carry = BASE58.indexOf(ch);
    if (carry < 0) return undefined;
    for (let i = 0; i < bytes.length; i++) {
      carry += (bytes[i] ?? 0) * 58;
      bytes[i] = carry & 255;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 255);
      carry >>= 8;
    }
  }
  for (const ch of s) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

function bech32Polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ (gen[i] ?? 0)) >>> 0;
  }
  return chk;
}

/**
 * Mainnet Bitcoin address: base58check P2PKH (version 0x00) or P2SH (0x05), checked by double
 * SHA-256; or segwit `bc1…` per BIP-173 (v0, bech32) and BIP-350 (v1..16, bech32m), lower case.
 */
function normalizeBitcoin(input: string): string {
  if (/^bc1/i.test(input)) return normalizeSegwit(input);
  if (input.length < 26 || input.length > 35) throw invalid('bitcoin address length is wrong');
  const raw = base58Decode(input);
  if (raw === undefined) throw invalid('bitcoin address has a non-base58 character');
  if (raw.length !== 25) throw invalid('bitcoin base58 address does not decode to 25 bytes');
  if (raw[0] !== 0x00 && raw[0] !== 0x05) {
    throw invalid('bitcoin base58 version is not mainnet P2PKH (0x00) or P2SH (0x05)');
  }
  const check = sha256(sha256(raw.subarray(0, 21))).subarray(0, 4);
  if (!check.equals(raw.subarray(21))) throw invalid('bitcoin base58check checksum is wrong');
  return input;
}

function normalizeSegwit(input: string): string {
  if (input !== input.toLowerCase() && input !== input.toUpperCase()) {
    throw invalid('bech32 address mixes upper and lower case');
  }
  const s = input.toLowerCase();
  if (s.length > 90) throw invalid('bech32 address longer than 90 characters');
  const data: number[] = [];
  for (const ch of s.slice(3)) {
    const v = BECH32.indexOf(ch);
    if (v < 0) throw invalid(`bech32 address has an invalid character "${ch}"`);
    data.push(v);
  }
  if (data.length < 7) throw invalid('bech32 address too short');
  const version = data[0] ?? 0;
  if (version > 16) throw invalid('segwit version above 16');
  const hrp = [...'bc'].map((c) => c.charCodeAt(0));
  const expanded = [...hrp.map((c) => c >> 5), 0, ...hrp.map((c) => c & 31), ...data];
  const expected = version === 0 ? BECH32_CONST : BECH32M_CONST;
  if (bech32Polymod(expanded) !== expected) {
    throw invalid(`segwit v${version} checksum is wrong (${version === 0 ? 'bech32' : 'bech32m'})`);
  }
  // 5-bit groups → bytes; at most 4 bits of zero padding (BIP-173).
  let acc = 0;
  let bits = 0;
  const program: number[] = [];
  for (const v of data.slice(1, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      program.push((acc >> bits) & 255);
    }
  }
  if (bits > 4 || (acc & ((1 << bits) - 1)) !== 0) throw invalid('segwit program padding invalid');
  if (program.length < 2 || program.length > 40) throw invalid('segwit program length invalid');
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    throw invalid('segwit v0 program must be 20 or 32 bytes');
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// ethereum

/** `0x` + 40 hex; mixed case must pass EIP-55; the canonical form is the EIP-55 checksum form. */
function normalizeEthereum(input: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(input)) throw invalid('ethereum address must be 0x + 40 hex');
  const hex = input.slice(2);
  const checksummed = eip55(hex);
  const mixed = hex !== hex.toLowerCase() && hex !== hex.toUpperCase();
  if (mixed && checksummed !== input) throw invalid('ethereum address fails the EIP-55 checksum');
  return checksummed;
}

function eip55(hex: string): string {
  const lower = hex.toLowerCase();
  const hash = keccak256(Buffer.from(lower, 'ascii'));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = ((hash[i >> 1] ?? 0) >> (i % 2 === 0 ? 4 : 0)) & 15;
    const ch = lower[i] ?? '';
    out += nibble >= 8 ? ch.toUpperCase() : ch;
  }
  return out;
}

// Keccak-f[1600] on 25 lanes held as (low, high) 32-bit halves; node:crypto has SHA3 but not the
// original Keccak padding that Ethereum uses.
const RC = [
  0x00000001, 0x00000000, 0x00008082, 0x00000000, 0x0000808a, 0x80000000, 0x80008000, 0x80000000,
  0x0000808b, 0x00000000, 0x80000001, 0x00000000, 0x80008081, 0x80000000, 0x00008009, 0x80000000,
  0x0000008a, 0x00000000, 0x00000088, 0x00000000, 0x80008009, 0x00000000, 0x8000000a, 0x00000000,
  0x8000808b, 0x00000000, 0x0000008b, 0x80000000, 0x00008089, 0x80000000, 0x00008003, 0x80000000,
  0x00008002, 0x80000000, 0x00000080, 0x80000000, 0x0000800a, 0x00000000, 0x8000000a, 0x80000000,
  0x80008081, 0x80000000, 0x00008080, 0x80000000, 0x80000001, 0x00000000, 0x80008008, 0x80000000,
];
const ROT = [
  0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];

function keccakF(s: Uint32Array): void {
  const c = new Uint32Array(10);
  const b = new Uint32Array(50);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) {
      for (let h = 0; h < 2; h++) {
        c[2 * x + h] =
          s[2 * x + h]! ^
          s[2 * x + 10 + h]! ^
          s[2 * x + 20 + h]! ^
          s[2 * x + 30 + h]! ^
          s[2 * x + 40 + h]!;
      }
    }
    for (let x = 0; x < 5; x++) {
      const x1 = ((x + 1) % 5) * 2;
      const x4 = ((x + 4) % 5) * 2;
      const dLo = c[x4]! ^ ((c[x1]! << 1) | (c[x1 + 1]! >>> 31));
      const dHi = c[x4 + 1]! ^ ((c[x1 + 1]! << 1) | (c[x1]! >>> 31));
      for (let y = 0; y < 25; y += 5) {
        s[2 * (x + y)] = s[2 * (x + y)]! ^ dLo;
        s[2 * (x + y) + 1] = s[2 * (x + y) + 1]! ^ dHi;
      }
    }
    // rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        const i = x + 5 * y;
        const lo = s[2 * i]!;
        const hi = s[2 * i + 1]!;
        const n = ROT[i]!;
        const j = y + 5 * ((2 * x + 3 * y) % 5);
        if (n === 0) {
          b[2 * j] = lo;
          b[2 * j + 1] = hi;
        } else if (n < 32) {
          b[2 * j] = (lo << n) | (hi >>> (32 - n));
          b[2 * j + 1] = (hi << n) | (lo >>> (32 - n));
        } else {
          // No Keccak rotation is exactly 32, so n > 32 here.
          const m = n - 32;
          b[2 * j] = (hi << m) | (lo >>> (32 - m));
          b[2 * j + 1] = (lo << m) | (hi >>> (32 - m));
        }
      }
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        const i = 2 * (x + y);
        const i1 = 2 * (((x + 1) % 5) + y);
        const i2 = 2 * (((x + 2) % 5) + y);
        s[i] = b[i]! ^ (~b[i1]! & b[i2]!);
        s[i + 1] = b[i + 1]! ^ (~b[i1 + 1]! & b[i2 + 1]!);
      }
    }
    s[0] = s[0]! ^ RC[2 * round]!;
    s[1] = s[1]! ^ RC[2 * round + 1]!;
  }
}

/**
 * Keccak-256 as Ethereum uses it (original Keccak padding `0x01`, not SHA3-256's `0x06`).
 *
 * @example keccak256(new Uint8Array()) // c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
 */
export function keccak256(data: Uint8Array): Uint8Array {
  const rate = 136;
  const padded = new Uint8Array((Math.floor(data.length / rate) + 1) * rate);
  padded.set(data);
  padded[data.length] = 0x01;
  padded[padded.length - 1] = padded[padded.length - 1]! | 0x80;
  const state = new Uint32Array(50);
  const view = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += rate) {
    for (let w = 0; w < rate / 4; w++) state[w] = state[w]! ^ view.getUint32(off + 4 * w, true);
    keccakF(state);
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let w = 0; w < 8; w++) outView.setUint32(4 * w, state[w]!, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// operator-alias and names

/**
 * NFKC, then case folding by `toLowerCase()` (locale-independent), repeated to a fixed point
 * because lower-casing can leave a string that NFKC changes again (e.g. U+0130); then whitespace
 * trimmed and collapsed to one U+0020.
 */
function foldText(input: string): string {
  let s = input;
  for (let i = 0; i < 4; i++) {
    const next = s.normalize('NFKC').toLowerCase();
    if (next === s) break;
    s = next;
  }
  s = s.trim().replace(/\s+/gu, ' ');
  if (s === '') throw invalid('empty');
  if (HOSTILE.test(s)) throw invalid('contains a control or format character after NFKC');
  return s;
}

function normalizeAlias(value: string, subtype: string | undefined): NormalizedIndicator {
  if (subtype === undefined) throw badField('subtype', 'required for type operator-alias');
  if (!(ALIAS_SUBTYPES as readonly string[]).includes(subtype)) {
    throw badField('subtype', `unknown operator-alias subtype "${subtype}"`);
  }
  const sub = subtype as AliasSubtype;
  const folded = foldText(value);
  switch (sub) {
    case 'handle':
      return { value: checkLength(folded), subtype: sub };
    case 'email':
      return { value: normalizeEmail(folded), subtype: sub };
    case 'messenger-id':
      return { value: normalizeMessengerId(folded), subtype: sub };
  }
}

function normalizeEmail(folded: string): string {
  const at = folded.lastIndexOf('@');
  if (at < 0) throw invalid('email must be local@domain');
  const local = folded.slice(0, at);
  if (local === '' || local.length > 64) throw invalid('email local part must be 1..64 characters');
  if (/[\s@"(),:;<>[\]\\]/u.test(local)) {
    throw invalid('email local part has a space or a character that needs quoting');
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    throw invalid('email local part has a leading, trailing or double dot');
  }
  const email = `${local}@${normalizeDomain(folded.slice(at + 1))}`;
  if (email.length > 254) throw invalid('email longer than 254 characters');
  return email;
}

function normalizeMessengerId(folded: string): string {
  const colon = folded.indexOf(':');
  if (colon < 0) throw invalid('messenger id must be "<platform>:<id>"');
  const platform = folded.slice(0, colon).trim();
  const id = folded
    .slice(colon + 1)
    .trim()
    .replace(/^@/, '');
  if (!PLATFORM.test(platform)) {
    throw invalid('messenger platform must be 1..32 letters, digits, "." or "-"');
  }
  if (id === '') throw invalid('messenger id is empty');
  return checkLength(`${platform}:${id}`);
}
