import { beforeAll, describe, expect, it } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type BundleHeader,
  type CreatedBundle,
  type GeneratedKey,
  type IndicatorRecord,
  type KeyResolver,
  type OkpJwk,
  ProtocolError,
  type RecordProof,
  type SigningKey,
  canonicalize,
  checkHeader,
  createBundle,
  createBundleFromTexts,
  decryptBundle,
  encryptBundle,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  isProtocolError,
  openBundle,
  publicJwkOf,
  signCompact,
  verifyRecordProof,
} from '../src/index.js';

// RFC 8037 A.1: the RFC 8032 TEST 1 Ed25519 key as a JWK; kid is its RFC 7638 thumbprint.
const KR_PRIVATE: OkpJwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const KR_KID = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
const kr: SigningKey = { kid: KR_KID, key: importPrivateKey(KR_PRIVATE) };
const krPublic = importPublicKey(publicJwkOf(KR_PRIVATE));
const resolve: KeyResolver = (kid) => {
  if (kid === KR_KID) return krPublic;
  throw new ProtocolError('KEY_UNKNOWN', `unknown kid ${kid}`);
};

const HEADER = { origin: 'kr', addressee: 'vn', seq: '1', issuedAt: '2026-11-28T10:00:00.000Z' };

function record(i: number, extra: Partial<IndicatorRecord> = {}): IndicatorRecord {
  const hex = i.toString(16).padStart(12, '0');
  return {
    id: `0b7e3c8a-7d0f-4f7e-9f57-${hex}`,
    origin: 'kr',
    version: 1,
    status: 'active',
    type: 'domain',
    value: `toon-pirate-${i}.example`,
    categories: ['webtoon'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-27T00:00:00.000Z',
    validUntil: '2027-05-01T00:00:00.000Z',
    tlp: 'AMBER',
    handling: { code: 'H1' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn', 'hub'] },
    relations: [],
    issuedAt: '2026-11-28T09:00:00.000Z',
    ...extra,
  };
}

/** The records of the golden vector: three types, a relation, a note with non-ASCII text. */
function goldenRecords(): IndicatorRecord[] {
  return [
    record(1, { sharedNote: '불법 웹툰 사이트 — mirror of toon-pirate-2' }),
    record(2, {
      type: 'ip',
      value: '203.0.113.7',
      categories: ['webtoon', 'drama'],
      relations: [
        { type: 'mirrors', target: '0b7e3c8a-7d0f-4f7e-9f57-000000000001', targetOrigin: 'kr' },
      ],
    }),
    record(3, {
      version: 2,
      tlp: 'GREEN',
      handling: { code: 'H0' },
      scope: { addressees: ['all'] },
    }),
  ];
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return 'no error';
}

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Re-serializes a wire bundle after `mutate` changed it (the outer envelope is not signed). */
function rewire(
  bytes: Uint8Array,
  mutate: (w: { header: string; records: string[] }) => void,
): string {
  const w = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
    header: string;
    records: string[];
  };
  mutate(w);
  return JSON.stringify(w);
}

interface Vector {
  key: { privateJwk: OkpJwk; kid: string };
  input: { header: typeof HEADER; records: IndicatorRecord[] };
  expected: {
    recordTexts: string[];
    leafHashes: string[];
    root: string;
    headerPayload: string;
    jws: string;
    bundle: string;
    proofs: RecordProof[];
  };
}

const vector = JSON.parse(
  readFileSync(new URL('./vectors/bundle/bundle-3-records.json', import.meta.url), 'utf8'),
) as Vector;

describe('golden vector (vectors/bundle/bundle-3-records.json)', () => {
  let made: CreatedBundle;
  beforeAll(async () => {
    made = await createBundle(vector.input.records, vector.input.header, {
      kid: vector.key.kid,
      key: importPrivateKey(vector.key.privateJwk),
    });
  });

  it('uses the RFC 8037 key and the records of this test', () => {
    expect(vector.key.privateJwk).toEqual(KR_PRIVATE);
    expect(vector.key.kid).toBe(KR_KID);
    expect(vector.input.records).toEqual(goldenRecords());
    expect(vector.input.header).toEqual(HEADER);
  });

  it('recomputes the bundle byte for byte (Ed25519 is deterministic)', () => {
    expect(made.wire.records).toEqual(vector.expected.recordTexts);
    expect(made.wire.header).toBe(vector.expected.jws);
    expect(Buffer.from(made.bytes).toString('utf8')).toBe(vector.expected.bundle);
    expect(made.proofs).toEqual(vector.expected.proofs);
  });

  it('has leaf hashes and root as RFC 9162 defines them (computed here with plain SHA-256)', () => {
    const leaves = vector.expected.recordTexts.map((t) =>
      sha256(Buffer.from([0]), Buffer.from(t, 'utf8')),
    );
    expect(leaves.map((l) => l.toString('base64url'))).toEqual(vector.expected.leafHashes);
    const [l0, l1, l2] = leaves as [Buffer, Buffer, Buffer];
    const one = Buffer.from([1]);
    const root = sha256(one, sha256(one, l0, l1), l2);
    expect(root.toString('base64url')).toBe(vector.expected.root);
    const payload = Buffer.from(vector.expected.jws.split('.')[1] ?? '', 'base64url').toString();
    expect(payload).toBe(vector.expected.headerPayload);
    expect(JSON.parse(payload)).toEqual({ v: 1, ...HEADER, count: 3, root: vector.expected.root });
    // Proof of leaf 2 is [H(l0,l1)]; of leaf 0 is [l1, l2].
    expect(vector.expected.proofs[2]?.path).toEqual([sha256(one, l0, l1).toString('base64url')]);
    expect(vector.expected.proofs[0]?.path).toEqual([
      l1.toString('base64url'),
      l2.toString('base64url'),
    ]);
  });

  it('opens, and every record verifies alone with its proof', async () => {
    const opened = await openBundle(vector.expected.bundle, resolve, { expectedAddressee: 'vn' });
    expect(opened.kid).toBe(KR_KID);
    expect(opened.records).toEqual(goldenRecords());
    for (const [i, text] of vector.expected.recordTexts.entries()) {
      const proof = vector.expected.proofs[i] as RecordProof;
      const out = await verifyRecordProof(text, proof, resolve);
      expect(out.record).toEqual(goldenRecords()[i]);
      expect(out.header.root).toBe(vector.expected.root);
    }
  });
});

describe('createBundle / openBundle', () => {
  let made: CreatedBundle;
  beforeAll(async () => {
    made = await createBundle([record(1), record(2), record(3), record(4), record(5)], HEADER, kr);
  });

  it('round-trips records, header, kid and leaf hashes, and proofs on request', async () => {
    const opened = await openBundle(made.bytes, resolve, {
      expectedAddressee: ['vn', 'all'],
      withProofs: true,
    });
    const header: BundleHeader = { v: 1, ...HEADER, count: 5, root: opened.header.root };
    expect(opened.header).toEqual(header);
    expect(opened.records).toEqual([record(1), record(2), record(3), record(4), record(5)]);
    expect(opened.leafHashes).toHaveLength(5);
    expect(opened.recordTexts).toEqual(made.wire.records);
    expect(opened.proofs).toEqual(made.proofs);
  });

  it('rejects a bundle for another addressee: MISADDRESSED', async () => {
    await expect(
      codeOf(openBundle(made.bytes, resolve, { expectedAddressee: 'th' })),
    ).resolves.toBe('MISADDRESSED');
    await expect(
      codeOf(openBundle(made.bytes, resolve, { expectedAddressee: ['th', 'all'] })),
    ).resolves.toBe('MISADDRESSED');
  });

  it('rejects a modified, dropped, added or reordered record: ROOT_MISMATCH', async () => {
    const mutations: ((w: { records: string[] }) => void)[] = [
      (w) => (w.records[1] = canonicalize(record(2, { confidence: 81 }))),
      (w) => w.records.reverse(),
      (w) => {
        const [a, b] = [w.records[0] as string, w.records[1] as string];
        w.records[0] = b;
        w.records[1] = a;
      },
    ];
    for (const m of mutations) {
      await expect(codeOf(openBundle(rewire(made.bytes, m), resolve))).resolves.toBe(
        'ROOT_MISMATCH',
      );
    }
    // Count is checked before the root: a dropped or added record is malformed.
    await expect(
      codeOf(
        openBundle(
          rewire(made.bytes, (w) => w.records.pop()),
          resolve,
        ),
      ),
    ).resolves.toBe('BUNDLE_MALFORMED');
    await expect(
      codeOf(
        openBundle(
          rewire(made.bytes, (w) => w.records.push(canonicalize(record(9)))),
          resolve,
        ),
      ),
    ).resolves.toBe('BUNDLE_MALFORMED');
  });

  it('rejects a bundle whose header is signed by an unknown key or tampered', async () => {
    const other = await generateSigningKey();
    const forged = await createBundle([record(1)], HEADER, {
      kid: other.kid,
      key: importPrivateKey(other.privateJwk),
    });
    await expect(codeOf(openBundle(forged.bytes, resolve))).resolves.toBe('KEY_UNKNOWN');
    const impostor = await createBundle([record(1)], HEADER, {
      kid: KR_KID,
      key: importPrivateKey(other.privateJwk),
    });
    await expect(codeOf(openBundle(impostor.bytes, resolve))).resolves.toBe('SIGNATURE_INVALID');
    const receiptTyped = rewire(made.bytes, (w) => {
      w.header = w.header.replace(
        /^[^.]+/,
        Buffer.from(`{"alg":"EdDSA","kid":"${KR_KID}","typ":"fedintel-receipt+jws"}`).toString(
          'base64url',
        ),
      );
    });
    await expect(codeOf(openBundle(receiptTyped, resolve))).resolves.toBe('TYPE_MISMATCH');
  });

  it('rejects duplicate JSON keys in the envelope and in a record', async () => {
    const text = Buffer.from(made.bytes).toString('utf8');
    const dup = text.replace('{"header":', '{"header":"x","header":');
    await expect(codeOf(openBundle(dup, resolve))).resolves.toBe('JSON_DUPLICATE_KEY');
    // A record with a duplicate key, signed by the origin: caught by the strict parse, not the root.
    const bad = canonicalize(record(1)).replace('"accuracy":2', '"accuracy":2,"accuracy":2');
    const signed = await signedBundleOfTexts([bad]);
    await expect(codeOf(openBundle(signed, resolve))).resolves.toBe('JSON_DUPLICATE_KEY');
  });

  it('rejects a signed record that is not canonical JSON', async () => {
    const pretty = JSON.stringify(JSON.parse(canonicalize(record(1))), null, 1);
    await expect(codeOf(openBundle(await signedBundleOfTexts([pretty]), resolve))).resolves.toBe(
      'BUNDLE_MALFORMED',
    );
  });

  it.each<[string, (canonical: string) => string, string]>([
    [
      'keys out of order',
      (t) => t.replace('{"accuracy":2,', '{').replace('}', ',"accuracy":2}'),
      'BUNDLE_MALFORMED',
    ],
    [
      'a number as 80.0',
      (t) => t.replace('"confidence":80', '"confidence":80.0'),
      'BUNDLE_MALFORMED',
    ],
    [
      'an integer above 2^53',
      (t) => t.replace('"confidence":80', '"confidence":9007199254740993'),
      'JSON_UNSAFE_NUMBER',
    ],
    [
      'an escaped non-ASCII character',
      (t) => t.replace('"sharedNote":"é', '"sharedNote":"\\u00e9'),
      'BUNDLE_MALFORMED',
    ],
    [
      'an escaped surrogate pair',
      (t) => t.replace('"sharedNote":"é', '"sharedNote":"\\ud83d\\ude00'),
      'BUNDLE_MALFORMED',
    ],
    [
      'an escaped lone surrogate',
      (t) => t.replace('"sharedNote":"é', '"sharedNote":"\\ud800'),
      'JSON_SYNTAX',
    ],
    ['a trailing space', (t) => `${t} `, 'BUNDLE_MALFORMED'],
    [
      'a duplicate key with the same value',
      (t) => t.replace('"accuracy":2', '"accuracy":2,"accuracy":2'),
      'JSON_DUPLICATE_KEY',
    ],
  ])('refuses a signed record text with %s', async (_name, mutate, code) => {
    const canonical = canonicalize(record(1, { sharedNote: 'é 😀 note' }));
    const text = mutate(canonical);
    expect(text).not.toBe(canonical);
    await expect(codeOf(openBundle(await signedBundleOfTexts([text]), resolve))).resolves.toBe(
      code,
    );
  });

  it('accepts canonical texts with raw non-ASCII, emoji and escaped controls', async () => {
    const r = record(1, { sharedNote: 'é 😀 "quoted" \\ back\nslash\ttab' });
    const opened = await openBundle(await signedBundleOfTexts([canonicalize(r)]), resolve);
    expect(opened.records).toEqual([r]);
  });

  it('rejects a signed record from another origin, or repeated', async () => {
    const foreign = canonicalize(record(1, { origin: 'jp' }));
    await expect(codeOf(openBundle(await signedBundleOfTexts([foreign]), resolve))).resolves.toBe(
      'BUNDLE_MALFORMED',
    );
    const r = canonicalize(record(1));
    await expect(codeOf(openBundle(await signedBundleOfTexts([r, r]), resolve))).resolves.toBe(
      'BUNDLE_MALFORMED',
    );
  });

  it('rejects a signed record that parseRecord refuses', async () => {
    const invalid = canonicalize({ ...record(1), confidence: 101 });
    await expect(codeOf(openBundle(await signedBundleOfTexts([invalid]), resolve))).resolves.toBe(
      'INVALID_FIELD',
    );
  });

  it.each<[string, string]>([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['extra member', '{"extra":1,"header":"a.b.c","records":[]}'],
    ['records not an array', '{"header":"a.b.c","records":"x"}'],
    ['record not a string', '{"header":"a.b.c","records":[{}]}'],
    ['header not a string', '{"header":1,"records":[]}'],
  ])('rejects a malformed envelope: %s', async (_name, text) => {
    expect(await codeOf(openBundle(text, resolve))).toMatch(/^(BUNDLE_MALFORMED|JSON_SYNTAX)$/);
  });

  it('enforces maxBytes', async () => {
    await expect(
      codeOf(openBundle(made.bytes, resolve, { maxBytes: made.bytes.length - 1 })),
    ).resolves.toBe('JSON_TOO_LARGE');
  });

  it('refuses to create bundles it would not accept', async () => {
    await expect(codeOf(createBundle([], HEADER, kr))).resolves.toBe('BUNDLE_MALFORMED');
    await expect(codeOf(createBundle([record(1, { origin: 'jp' })], HEADER, kr))).resolves.toBe(
      'BUNDLE_MALFORMED',
    );
    await expect(codeOf(createBundle([record(1, { confidence: -1 })], HEADER, kr))).resolves.toBe(
      'INVALID_FIELD',
    );
    for (const h of [
      { ...HEADER, seq: '0' },
      { ...HEADER, seq: '01' },
      { ...HEADER, seq: '1e3' },
      { ...HEADER, addressee: 'group:asean' },
      { ...HEADER, addressee: 'kr' },
      { ...HEADER, issuedAt: '2026-11-28T10:00:00Z' },
    ]) {
      await expect(codeOf(createBundle([record(1)], h, kr))).resolves.toBe('BUNDLE_MALFORMED');
    }
    // The header's origin is checked against the records' before its own format.
    await expect(codeOf(createBundle([record(1)], { ...HEADER, origin: 'KR' }, kr))).resolves.toBe(
      'BUNDLE_MALFORMED',
    );
  });
});

describe('checkHeader', () => {
  const good = { v: 1, ...HEADER, count: 1, root: 'A'.repeat(43) };
  it('accepts a well-formed header and returns a copy', () => {
    expect(checkHeader(good)).toEqual(good);
    expect(checkHeader(good)).not.toBe(good);
  });
  it.each<[string, unknown]>([
    ['v 2', { ...good, v: 2 }],
    ['extra key', { ...good, kind: 'records' }],
    ['missing key', { ...good, seq: undefined }],
    ['count 0', { ...good, count: 0 }],
    ['count 1.5', { ...good, count: 1.5 }],
    ['count as string', { ...good, count: '1' }],
    ['root too short', { ...good, root: 'A'.repeat(42) }],
    ['root with trailing bits', { ...good, root: 'A'.repeat(42) + 'B' }],
    ['seq number', { ...good, seq: 1 }],
    ['seq too long', { ...good, seq: '1'.repeat(20) }],
    ['null', null],
  ])('rejects %s', (_name, h) => {
    expect(() => checkHeader(h)).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });
});

/** A bundle over arbitrary record texts, correctly signed by kr: tests receiver-side checks. */
async function signedBundleOfTexts(texts: string[]): Promise<string> {
  const leaves = texts.map((t) => sha256(Buffer.from([0]), Buffer.from(t, 'utf8')));
  let level: Buffer[] = leaves;
  // Small trees only (≤ 2 leaves here): RFC 9162 root.
  while (level.length > 1)
    level = [sha256(Buffer.from([1]), level[0] as Buffer, level[1] as Buffer)];
  const header = {
    ...HEADER,
    v: 1,
    count: texts.length,
    root: (level[0] as Buffer).toString('base64url'),
  };
  const jws = await signCompact(Buffer.from(canonicalize(header)), 'bundle', kr);
  return JSON.stringify({ header: jws, records: texts });
}

describe('verifyRecordProof', () => {
  let made: CreatedBundle;
  beforeAll(async () => {
    made = await createBundle(
      [1, 2, 3, 4, 5, 6, 7].map((i) => record(i)),
      HEADER,
      kr,
    );
  });

  it('verifies each record alone', async () => {
    for (const [i, text] of made.wire.records.entries()) {
      const out = await verifyRecordProof(text, made.proofs[i] as RecordProof, resolve);
      expect(out.record).toEqual(record(i + 1));
      expect(out.kid).toBe(KR_KID);
      expect(out.header.addressee).toBe('vn');
    }
  });

  it('rejects a modified record, a proof for another index, a wrong tree size or path', async () => {
    const text = made.wire.records[3] as string;
    const proof = made.proofs[3] as RecordProof;
    const altered = canonicalize(record(4, { confidence: 79 }));
    await expect(codeOf(verifyRecordProof(altered, proof, resolve))).resolves.toBe('PROOF_INVALID');
    await expect(
      codeOf(verifyRecordProof(text, made.proofs[2] as RecordProof, resolve)),
    ).resolves.toBe('PROOF_INVALID');
    for (const p of [
      { ...proof, index: 2 },
      { ...proof, treeSize: 8 },
      { ...proof, path: proof.path.slice(1) },
      { ...proof, path: [...proof.path].reverse() },
      { ...proof, path: [...proof.path, proof.path[0]] },
      { ...proof, path: ['!!'] },
      { ...proof, index: -1 },
      { ...proof, index: 7 },
      { ...proof, extra: 1 },
    ]) {
      await expect(codeOf(verifyRecordProof(text, p as RecordProof, resolve))).resolves.toBe(
        'PROOF_INVALID',
      );
    }
  });

  it('rejects a proof whose header is not validly signed', async () => {
    const proof = made.proofs[0] as RecordProof;
    const other = await generateSigningKey();
    const r: KeyResolver = () => importPublicKey(other.publicJwk);
    await expect(codeOf(verifyRecordProof(made.wire.records[0] as string, proof, r))).resolves.toBe(
      'SIGNATURE_INVALID',
    );
  });
});

describe('sign-then-encrypt', () => {
  let vn: GeneratedKey;
  let th: GeneratedKey;
  let made: CreatedBundle;
  beforeAll(async () => {
    [vn, th] = await Promise.all([generateEncryptionKey(), generateEncryptionKey()]);
    made = await createBundle([record(1), record(2)], HEADER, kr);
  });
  const pub = (k: GeneratedKey) => ({ kid: k.kid, key: importPublicKey(k.publicJwk) });
  const priv = (k: GeneratedKey) => ({ kid: k.kid, key: importPrivateKey(k.privateJwk) });

  it('the addressee decrypts and opens', async () => {
    const jwe = await encryptBundle(made.bytes, [pub(vn)]);
    const opened = await decryptBundle(jwe, priv(vn), resolve, {
      expectedAddressee: ['vn', 'all'],
    });
    expect(opened.records).toEqual([record(1), record(2)]);
  });

  it('a member that is not a recipient cannot decrypt', async () => {
    const jwe = await encryptBundle(made.bytes, [pub(vn)]);
    await expect(
      codeOf(decryptBundle(jwe, priv(th), resolve, { expectedAddressee: 'th' })),
    ).resolves.toBe('DECRYPTION_FAILED');
  });

  it('a bundle decrypted by vn and re-encrypted to th is MISADDRESSED at th', async () => {
    const toVn = await encryptBundle(made.bytes, [pub(vn)]);
    const plaintext = await import('../src/index.js').then((m) => m.decryptFor(toVn, priv(vn)));
    const forwarded = await encryptBundle(plaintext, [pub(th)]);
    // The signature still verifies: only the signed addressee gives the forwarding away.
    await expect(
      codeOf(decryptBundle(forwarded, priv(th), resolve, { expectedAddressee: ['th', 'all'] })),
    ).resolves.toBe('MISADDRESSED');
  });
});

describe('createBundleFromTexts (relay path: stored canonical texts, hash and sign only)', () => {
  it('writes byte for byte what createBundle writes for the same records, and it opens', async () => {
    const records = goldenRecords();
    const full = await createBundle(records, HEADER, kr);
    const fast = await createBundleFromTexts(records.map(canonicalize), HEADER, kr);
    // Ed25519 signatures are deterministic: same header, same JWS, same bytes.
    expect(fast.jws).toBe(full.wire.header);
    expect(Buffer.from(fast.bytes).equals(Buffer.from(full.bytes))).toBe(true);
    const opened = await openBundle(fast.bytes, resolve, { expectedAddressee: 'vn' });
    expect(opened.header).toEqual(fast.header);
    expect(opened.records).toEqual(records.map((r) => JSON.parse(canonicalize(r)) as unknown));
  });

  it('escapes quotes and backslashes in the texts as RFC 8785 does, and keeps non-ASCII raw', async () => {
    const r = record(9, { sharedNote: 'a "quoted" \\ back\\slash, </script> and 한국어 웹툰' });
    const full = await createBundle([r], HEADER, kr);
    const fast = await createBundleFromTexts([canonicalize(r)], HEADER, kr);
    expect(Buffer.from(fast.bytes).toString('utf8')).toBe(Buffer.from(full.bytes).toString('utf8'));
  });

  it('refuses an empty bundle, a non-string text and bad header fields', async () => {
    expect(await codeOf(createBundleFromTexts([], HEADER, kr))).toBe('BUNDLE_MALFORMED');
    expect(await codeOf(createBundleFromTexts([42 as unknown as string], HEADER, kr))).toBe(
      'BUNDLE_MALFORMED',
    );
    expect(
      await codeOf(createBundleFromTexts([canonicalize(record(1))], { ...HEADER, seq: '0' }, kr)),
    ).toBe('BUNDLE_MALFORMED');
  });

  it('cannot smuggle a record the receiver would refuse: openBundle still validates each one', async () => {
    const bad = canonicalize(record(1)).replace('"origin":"kr"', '"origin":"jp"');
    const fast = await createBundleFromTexts([bad], HEADER, kr);
    expect(await codeOf(openBundle(fast.bytes, resolve, { expectedAddressee: 'vn' }))).toBe(
      'BUNDLE_MALFORMED',
    );
  });
});

describe('performance (reported, not asserted)', () => {
  it('openBundle of a 100-record bundle', async () => {
    const made = await createBundle(
      Array.from({ length: 100 }, (_, i) => record(i + 1)),
      HEADER,
      kr,
    );
    const runs = 50;
    for (let i = 0; i < 10; i++) await openBundle(made.bytes, resolve, { expectedAddressee: 'vn' });
    let opened = 0;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      opened += (await openBundle(made.bytes, resolve, { expectedAddressee: 'vn' })).records.length;
    }
    const perRecord = ((performance.now() - t0) * 1000) / (runs * 100);
    // Reported for the brief's goal (≤ 15 µs/record); machines differ too much to assert it.
    console.info(`openBundle: ${perRecord.toFixed(1)} µs/record (100-record bundle)`);
    expect(opened).toBe(runs * 100);
  });
});
