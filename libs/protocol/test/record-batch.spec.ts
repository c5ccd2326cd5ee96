import { describe, expect, it } from '@jest/globals';
import {
  canonicalize,
  normalizeIndicator,
  parseRecord,
  ProtocolError,
  RecordBatch,
  type NormalizedIndicator,
} from '../src/index.js';

/** A deterministic generator (mulberry32), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Candidate = Record<string, unknown>;

const VALUES: { type: string; value: string; subtype?: string; chain?: string }[] = [
  { type: 'domain', value: 'toki-mirror-1.example' },
  { type: 'domain', value: 'BÜCHER.de.' },
  { type: 'url', value: 'https://Stream.Example/watch?v=1&x="q"' },
  { type: 'payment-account', subtype: 'iban', value: 'DE89 3704 0044 0532 0130 00' },
  {
    type: 'payment-account',
    subtype: 'crypto-address',
    chain: 'bitcoin',
    value: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
  },
  { type: 'operator-alias', subtype: 'handle', value: 'Ｔｏｋｉ Ｍａｓｔｅｒ' },
  { type: 'operator-alias', subtype: 'handle', value: 'quote " and backslash \\ here' },
];

function id(n: number): string {
  const h = n.toString(16).padStart(12, '0');
  return `0196a3b2-0000-7000-8000-${h}`;
}

/** A candidate as a node builds one: mostly one shape, with changes now and then. */
function candidate(i: number, r: () => number): { c: Candidate; n: NormalizedIndicator } {
  const v = VALUES[Math.floor(r() * VALUES.length)]!;
  return candidateOf(v, i, r);
}

function candidateOf(
  v: (typeof VALUES)[number],
  i: number,
  r: () => number,
): { c: Candidate; n: NormalizedIndicator } {
  const n = normalizeIndicator(v as never);
  const day = 1 + Math.floor(r() * 27);
  const firstSeen = `2026-10-${String(day).padStart(2, '0')}T00:00:00.000Z`;
  const c: Candidate = {
    id: id(i),
    origin: 'kr',
    version: 1,
    status: 'active',
    type: v.type,
    value: n.value,
    categories: r() < 0.98 ? ['webtoon'] : ['webtoon', 'drama'],
    confidence: r() < 0.98 ? 80 : 60,
    firstSeen,
    lastSeen: r() < 0.5 ? firstSeen : '2026-11-28T10:00:00.000Z',
    validUntil: '2027-05-28T00:00:00.000Z',
    tlp: r() < 0.98 ? 'GREEN' : 'AMBER',
    handling:
      r() < 0.98 ? { code: 'H1' } : { code: 'H3', conditions: 'Only for case "Toki" — 수사용' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: r() < 0.98 ? ['kr'] : ['kr', 'vn'] },
    relations: r() < 0.98 ? [] : [{ type: 'operates', target: id(999_999), targetOrigin: 'kr' }],
    issuedAt: '2026-11-28T10:00:00.000Z',
  };
  if (n.subtype !== undefined) c.subtype = n.subtype;
  if (n.chain !== undefined) c.chain = n.chain;
  if (r() < 0.02) c.reviewBy = '2026-12-28T00:00:00.000Z';
  if (r() < 0.02) c.sharedNote = 'Seen on 3 mirrors';
  return { c, n };
}

function outcome(f: () => unknown): { ok: unknown } | { code: string; message: string } {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { code: e.code, message: e.message };
  }
}

describe('RecordBatch', () => {
  it('returns what parseRecord and canonicalize return, over 3,000 mixed candidates', () => {
    const r = rng(20261129);
    let slow = 0;
    const batch = new RecordBatch((rec) => {
      slow++;
      return canonicalize(rec);
    });
    let v = VALUES[0]!;
    for (let i = 0; i < 3000; i++) {
      // Runs of one type, as in a file of domains with a few wallets and aliases.
      if (r() < 0.2) v = VALUES[Math.floor(r() * VALUES.length)]!;
      const { c, n } = candidateOf(v, i, r);
      const got = batch.build(c, n);
      const want = parseRecord(c, { normalized: n });
      expect(got.record).toEqual(want);
      expect(Object.keys(got.record)).toEqual(Object.keys(want));
      expect(got.text).toBe(canonicalize(want));
    }
    // Shapes repeat: most rows were filled from a template, the others validated in full.
    expect(slow).toBeGreaterThan(100);
    expect(slow).toBeLessThan(1500);
  });

  it('uses the text function it is given, for a template and for what it cannot fill', () => {
    const calls: string[] = [];
    const batch = new RecordBatch((rec) => {
      calls.push(rec.id);
      return canonicalize(rec);
    });
    const r = rng(7);
    const a = candidate(1, r);
    batch.build(a.c, a.n);
    expect(calls).toEqual([id(1)]);
    const b = { ...a.c, id: id(2) };
    expect(batch.build(b, a.n).text).toBe(canonicalize(parseRecord(b, { normalized: a.n })));
    expect(calls).toEqual([id(1)]); // filled from the template, not written again
  });

  // Each case starts from a candidate of the template's shape, so it reaches the fast path's
  // checks; the batch must refuse it exactly as parseRecord does.
  const broken: [string, (c: Candidate) => void][] = [
    ['id not a UUID', (c) => (c.id = 'not-a-uuid')],
    ['id upper case', (c) => (c.id = (c.id as string).toUpperCase())],
    ['id a number', (c) => (c.id = 7)],
    ['lastSeen before firstSeen', (c) => (c.lastSeen = '2026-09-01T00:00:00.000Z')],
    ['validUntil equal to firstSeen', (c) => (c.validUntil = c.firstSeen)],
    ['firstSeen 30 February', (c) => (c.firstSeen = '2026-02-30T00:00:00.000Z')],
    ['validUntil without milliseconds', (c) => (c.validUntil = '2027-05-28T00:00:00Z')],
    ['value not canonical', (c) => (c.value = 'TOKI-MIRROR-2.EXAMPLE')],
    ['unknown key', (c) => (c.extra = 1)],
    ['unknown key, undefined', (c) => (c.extra = undefined)],
    ['required key missing', (c) => delete c.confidence],
    ['required key undefined', (c) => (c.tlp = undefined)],
    ['null', (c) => (c.reliability = null)],
    ['category duplicated', (c) => (c.categories = ['webtoon', 'webtoon'])],
    ['unknown key in handling', (c) => (c.handling = { code: 'H1', extra: undefined })],
    ['conditions for H1', (c) => (c.handling = { code: 'H1', conditions: 'x' })],
    ['scope with an extra key', (c) => (c.scope = { addressees: ['kr'], extra: 1 })],
    [
      'relation to itself',
      (c) => (c.relations = [{ type: 'mirrors', target: c.id, targetOrigin: 'kr' }]),
    ],
    ['subtype differs from normalization', (c) => (c.subtype = 'x')],
  ];
  it.each(broken)('refuses as parseRecord does: %s', (_, breakIt) => {
    const n = normalizeIndicator({ type: 'domain', value: 'toki-mirror-2.example' });
    const base = (i: number): Candidate => ({
      id: id(i),
      origin: 'kr',
      version: 1,
      status: 'active',
      type: 'domain',
      value: n.value,
      categories: ['webtoon'],
      confidence: 80,
      firstSeen: '2026-10-01T00:00:00.000Z',
      lastSeen: '2026-11-01T00:00:00.000Z',
      validUntil: '2027-05-28T00:00:00.000Z',
      tlp: 'GREEN',
      handling: { code: 'H1' },
      reliability: 'B',
      accuracy: 2,
      scope: { addressees: ['kr'] },
      relations: [],
      issuedAt: '2026-11-28T10:00:00.000Z',
    });
    const batch = new RecordBatch();
    batch.build(base(1), n);
    const c = base(2);
    breakIt(c);
    const want = outcome(() => parseRecord(c, { normalized: n }));
    expect('code' in want).toBe(true);
    expect(outcome(() => batch.build(c, n))).toEqual(want);
    // A refused candidate does not spoil the batch.
    expect(batch.build(base(3), n).record).toEqual(parseRecord(base(3), { normalized: n }));
  });

  it('refuses a template record that relates to the next id, as parseRecord does', () => {
    const n = normalizeIndicator({ type: 'domain', value: 'toki.example' });
    const c = (i: number): Candidate => {
      const x: Candidate = {
        ...candidate(0, rng(1)).c,
        type: 'domain',
        value: n.value,
        id: id(i),
        relations: [{ type: 'operates', target: id(5), targetOrigin: 'kr' }],
      };
      delete x.subtype;
      delete x.chain;
      return x;
    };
    const batch = new RecordBatch();
    batch.build(c(4), n);
    expect(outcome(() => batch.build(c(5), n))).toEqual(
      outcome(() => parseRecord(c(5), { normalized: n })),
    );
  });

  it('shares frozen parts between records of one shape, and never the caller’s objects', () => {
    const n = normalizeIndicator({ type: 'domain', value: 'toki.example' });
    const { c } = candidate(0, rng(3));
    const first: Candidate = { ...c, type: 'domain', value: n.value, categories: ['webtoon'] };
    delete first.subtype;
    delete first.chain;
    const batch = new RecordBatch();
    const a = batch.build(first, n).record;
    // The caller changes its own objects afterwards: later records do not follow.
    (first.categories as string[]).push('drama');
    a.categories.push('music');
    const b = batch.build({ ...first, id: id(77), categories: ['webtoon'] }, n).record;
    expect(b.categories).toEqual(['webtoon']);
    expect(() => b.categories.push('drama')).toThrow(TypeError);
    expect(() => {
      (b.handling as { code: string }).code = 'H4';
    }).toThrow(TypeError);
  });

  it.each([
    ['a control character (escaped the same way)', 'a\u0001b'],
    ['a lone surrogate (refused by RFC 8785)', 'a\ud800b'],
  ])('leaves a value JSON escapes with \\u to the text function: %s', (_, value) => {
    const batch = new RecordBatch();
    const { c } = candidate(0, rng(5));
    const n1 = normalizeIndicator({ type: 'operator-alias', subtype: 'handle', value: 'toki' });
    const base: Candidate = { ...c, type: 'operator-alias', subtype: 'handle', value: n1.value };
    delete base.chain;
    batch.build(base, n1);
    const odd = { ...base, id: id(8), value };
    const n2 = { value, subtype: 'handle' } as NormalizedIndicator;
    expect(outcome(() => batch.build(odd, n2).text)).toEqual(
      outcome(() => canonicalize(parseRecord(odd, { normalized: n2 }))),
    );
  });
});
