// Scenario "protocol" (issue 2): the cost of libs/protocol's hot operations on one core, alone.
import { Buffer } from 'node:buffer';
import {
  ProtocolError,
  canonicalBytes,
  canonicalize,
  createBundle,
  decryptBundle,
  encryptBundle,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  normalizeIndicator,
  openBundle,
  parseStrictJson,
  signCompact,
  verifyCompactFast,
  type IndicatorInput,
  type IndicatorRecord,
  type KeyResolver,
  type SigningKey,
} from '../libs/protocol/src/index.js';
import { measure, type Figure, type Result, type ScenarioOptions } from './measure.js';

/** The open-bundle goal of issue 2, in µs per record for a 100-record bundle. */
export const OPEN_BUNDLE_GOAL_US = 15;

/**
 * A realistic record of about 600 bytes in canonical form: a domain with a relation, a
 * non-ASCII shared note. `i` makes id and value distinct.
 */
export function benchRecord(i: number, origin = 'kr'): IndicatorRecord {
  const hex = i.toString(16).padStart(12, '0');
  return {
    id: `0b7e3c8a-7d0f-4f7e-9f57-${hex}`,
    origin,
    version: 1,
    status: 'active',
    type: 'domain',
    value: `toon-pirate-mirror-${i}.example`,
    categories: ['webtoon', 'drama'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-27T00:00:00.000Z',
    validUntil: '2027-05-01T00:00:00.000Z',
    tlp: 'AMBER',
    handling: { code: 'H1' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn', 'hub'] },
    relations: [
      { type: 'mirrors', target: '9c1d2e3f-7d0f-4f7e-9f57-000000000001', targetOrigin: origin },
    ],
    sharedNote: '불법 웹툰 사이트 — mirror network',
    issuedAt: '2026-11-28T09:00:00.000Z',
  };
}

/** One input per indicator family the normalizer handles differently. */
export const NORMALIZE_INPUTS: ReadonlyArray<[string, IndicatorInput]> = [
  ['domain (IDN, trailing dot)', { type: 'domain', value: 'Bücher-Toon.EXAMPLE.' }],
  ['url', { type: 'url', value: 'HTTPS://Toon-Pirate.Example:443/a/../ep/12?b=2&a=1#frag' }],
  ['iban', { type: 'payment-account', subtype: 'iban', value: 'gb82 west 1234 5698 7654 32' }],
  [
    'bitcoin (bech32)',
    {
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'bitcoin',
      value: 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4',
    },
  ],
  [
    'ethereum (EIP-55)',
    {
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'ethereum',
      value: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
    },
  ],
  [
    'alias (NFKC, case fold)',
    { type: 'operator-alias', subtype: 'handle', value: 'ＴｏｏｎＫｉｎｇ' },
  ],
];

const HEADER = { origin: 'kr', addressee: 'vn', seq: '1', issuedAt: '2026-11-28T10:00:00.000Z' };

/**
 * Runs the protocol benchmark. `n` scales the number of operations per round (default 2,000 for
 * per-record operations); `quick` runs one tiny round of each, to prove the code still works.
 */
export async function runProtocol(opts: ScenarioOptions = {}): Promise<Result> {
  const quick = opts.quick === true;
  const n = opts.n ?? (quick ? 5 : 2000);
  const rounds = quick ? 1 : 7;
  const warmup = quick ? 0 : 2;
  const bundleRounds = quick ? 1 : 9;
  const sizes = quick ? [3, 5] : [100, 500];

  const sig = await generateSigningKey();
  const signing: SigningKey = { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') };
  const publicKey = importPublicKey(sig.publicJwk, 'Ed25519');
  const resolve: KeyResolver = (kid) => {
    if (kid === sig.kid) return publicKey;
    throw new ProtocolError('KEY_UNKNOWN', `unknown kid ${kid}`);
  };
  const enc = await generateEncryptionKey();
  const vnEnc = { kid: enc.kid, key: importPublicKey(enc.publicJwk, 'X25519') };
  const vnDec = { kid: enc.kid, key: importPrivateKey(enc.privateJwk, 'X25519') };

  const record = benchRecord(1);
  const text = canonicalize(record);
  const recordBytes = Buffer.byteLength(text);
  const figures: Figure[] = [];
  let sink = 0;

  figures.push(
    await measure({
      name: `canonicalize a ${recordBytes}-byte record`,
      unit: 'op',
      opsPerRound: n,
      rounds,
      warmup,
      round: () => {
        for (let i = 0; i < n; i++) sink += canonicalize(record).length;
      },
    }),
  );
  figures.push(
    await measure({
      name: `parseStrictJson of it`,
      unit: 'op',
      opsPerRound: n,
      rounds,
      warmup,
      round: () => {
        for (let i = 0; i < n; i++) sink += parseStrictJson(text) === null ? 0 : 1;
      },
    }),
  );
  for (const [label, input] of NORMALIZE_INPUTS) {
    figures.push(
      await measure({
        name: `normalizeIndicator: ${label}`,
        unit: 'op',
        opsPerRound: n,
        rounds,
        warmup,
        round: () => {
          for (let i = 0; i < n; i++) sink += normalizeIndicator(input).value.length;
        },
      }),
    );
  }

  // One signature per record: what batch signing replaces (DESIGN §4).
  const payload = canonicalBytes(record);
  const signN = Math.max(1, Math.floor(n / 4));
  const jws = await signCompact(payload, 'bundle', signing);
  figures.push(
    await measure({
      name: 'Ed25519 signCompact per record',
      unit: 'record',
      opsPerRound: signN,
      rounds,
      warmup,
      round: async () => {
        for (let i = 0; i < signN; i++)
          sink += (await signCompact(payload, 'bundle', signing)).length;
      },
    }),
  );
  figures.push(
    await measure({
      name: 'Ed25519 verifyCompactFast per record',
      unit: 'record',
      opsPerRound: signN,
      rounds,
      warmup,
      round: async () => {
        for (let i = 0; i < signN; i++) {
          sink += (await verifyCompactFast(jws, 'bundle', resolve)).payload.length;
        }
      },
    }),
  );

  const goals: string[] = [];
  for (const size of sizes) {
    const records = Array.from({ length: size }, (_, i) => benchRecord(i + 1));
    const made = await createBundle(records, HEADER, signing);
    figures.push(
      await measure({
        name: `createBundle, ${size} records`,
        unit: 'record',
        opsPerRound: size,
        rounds: bundleRounds,
        warmup,
        round: async () => {
          sink += (await createBundle(records, HEADER, signing)).bytes.length;
        },
      }),
    );
    const open = await measure({
      name: `openBundle, ${size} records`,
      unit: 'record',
      opsPerRound: size,
      rounds: bundleRounds,
      warmup,
      round: async () => {
        sink += (await openBundle(made.bytes, resolve, { expectedAddressee: 'vn' })).records.length;
      },
    });
    figures.push(open);
    if (size === sizes[0]) {
      const met = open.usPerOp <= OPEN_BUNDLE_GOAL_US;
      goals.push(
        `verify a ${size}-record bundle ≤ ${OPEN_BUNDLE_GOAL_US} µs per record: measured ` +
          `${open.usPerOp.toFixed(1)} µs per record — ${met ? 'met' : 'NOT met'}`,
      );
    }
    const jwe = await encryptBundle(made.bytes, [vnEnc]);
    figures.push(
      await measure({
        name: `encryptBundle, ${size} records (${Math.round(made.bytes.length / 1024)} KiB)`,
        unit: 'bundle',
        opsPerRound: 1,
        rounds: bundleRounds,
        warmup,
        round: async () => {
          sink += (await encryptBundle(made.bytes, [vnEnc])).length;
        },
      }),
    );
    figures.push(
      await measure({
        name: `decryptBundle (decrypt + open), ${size} records`,
        unit: 'bundle',
        opsPerRound: 1,
        rounds: bundleRounds,
        warmup,
        round: async () => {
          const opened = await decryptBundle(jwe, vnDec, resolve, { expectedAddressee: 'vn' });
          sink += opened.records.length;
        },
      }),
    );
  }
  if (sink < 0) throw new Error('unreachable: keeps the measured work observable');

  return {
    scenario: 'protocol',
    at: new Date().toISOString(),
    method: [
      'libs/protocol only, one core, in the benchmark process; no I/O.',
      `each figure is the median of ${rounds} timed rounds (${bundleRounds} for bundles) after ${warmup} warm-up rounds, timed with process.hrtime.bigint.`,
      `per-record operations: ${n} operations per round (signing: ${signN}); bundle figures divide one bundle's time by its record count.`,
      `the record is ${recordBytes} bytes of canonical JSON (domain, a relation, a Korean shared note); the JWE is ECDH-ES+A256KW/A256GCM to one X25519 recipient.`,
    ],
    figures,
    goals,
  };
}
