// Hostile input on the federation path: bundles crafted with libs/protocol and published by hand
// on KR's own subject (the broker lets KR's identity do that), so they reach VN's inbox exactly
// as a misbehaving or compromised KR node would send them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import request from 'supertest';
import {
  canonicalBytes,
  canonicalize,
  createBundle,
  encryptBundle,
  encryptionKeysOf,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  leafHash,
  merkleRoot,
  signCompact,
  toB64u,
  toRfc3339Ms,
  type IndicatorRecord,
  type SigningKey,
} from '../../../libs/protocol/src/index.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

const DAY = 24 * 3600 * 1000;
const run = Math.random().toString(36).slice(2, 8);

interface DeadLetter {
  id: number;
  subject: string;
  origin: string | null;
  code: string;
  detail: string;
  size: number;
}

describe('hostile records sent to VN are dead-lettered, never stored, and VN keeps serving', () => {
  let f: TestFederation;
  let nc: NatsConnection;
  let vn: RunningNode;
  let krKey: SigningKey;
  let revokedKey: SigningKey;
  let msgNo = 0;

  const admin = async () => `Bearer ${await vn.token(['admin'])}`;
  const analyst = async () => `Bearer ${await vn.token(['analyst'])}`;

  function record(name: string, overrides: Partial<IndicatorRecord> = {}): IndicatorRecord {
    const now = Date.now();
    return {
      id: randomUUID(),
      origin: 'kr',
      version: 1,
      status: 'active',
      type: 'domain',
      value: `${name}.h${run}.example`,
      categories: ['webtoon'],
      confidence: 70,
      firstSeen: toRfc3339Ms(new Date(now - DAY)),
      lastSeen: toRfc3339Ms(new Date(now - DAY)),
      validUntil: toRfc3339Ms(new Date(now + 30 * DAY)),
      tlp: 'AMBER',
      handling: { code: 'H1' },
      reliability: 'B',
      accuracy: 2,
      scope: { addressees: ['vn'] },
      relations: [],
      issuedAt: toRfc3339Ms(new Date(now)),
      ...overrides,
    };
  }

  function vnRecipients() {
    return encryptionKeysOf(f.fed.directory, 'vn', new Date()).map((k) => ({
      kid: k.kid,
      key: importPublicKey(k.jwk, 'X25519'),
    }));
  }

  async function bundle(
    records: IndicatorRecord[],
    seq: number,
    opts: { addressee?: string; key?: SigningKey } = {},
  ): Promise<Uint8Array> {
    const b = await createBundle(
      records,
      {
        origin: 'kr',
        addressee: opts.addressee ?? 'vn',
        seq: String(seq),
        issuedAt: toRfc3339Ms(new Date()),
      },
      opts.key ?? krKey,
    );
    return b.bytes;
  }

  /** Publish as KR's node would: on KR's subject to VN, with a fresh message id. */
  async function send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await jetstream(nc).publish('fed.v1.kr.vn.records', bytes, {
      msgID: `hostile.${run}.${++msgNo}`,
    });
  }

  const encrypt = async (bytes: Uint8Array) => encryptBundle(bytes, vnRecipients());

  async function deadLetters(): Promise<DeadLetter[]> {
    const r = await request(vn.url)
      .get('/api/v1/dead-letters')
      .set('Authorization', await admin())
      .expect(200);
    return r.body.items as DeadLetter[];
  }

  let seenDeadLetter = 0;

  /** Waits for the next dead letter (a newer one than the last seen) and checks its code. */
  async function expectDeadLetter(code: string, detail?: string): Promise<DeadLetter> {
    return eventually(
      async () => (await deadLetters()).find((d) => d.id > seenDeadLetter),
      15000,
      `a ${code} dead letter at VN`,
    ).then((d) => {
      seenDeadLetter = d.id;
      expect(d.code).toBe(code);
      expect(d.origin).toBe('kr');
      expect(d.subject).toBe('fed.v1.kr.vn.records');
      if (detail) expect(d.detail).toContain(detail);
      return d;
    });
  }

  async function vnHasValue(value: string): Promise<number> {
    const r = await request(vn.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ type: 'domain', value })
      .set('Authorization', await analyst())
      .expect(200);
    return r.body.total as number;
  }

  async function vnIndicatorCount(): Promise<number> {
    const r = await request(vn.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .set('Authorization', await analyst())
      .expect(200);
    return r.body.total as number;
  }

  beforeAll(async () => {
    const revoked = await generateSigningKey();
    revokedKey = { kid: revoked.kid, key: importPrivateKey(revoked.privateJwk, 'Ed25519') };
    f = await startTestFederation({
      members: ['kr', 'vn', 'th'],
      // KR holds a second signing key, revoked (compromised): anything it signs must be refused.
      editDirectory: (d) => {
        const kr = d.members.find((m) => m.id === 'kr');
        if (!kr) throw new Error('no kr in directory');
        kr.keys.push({
          kid: revoked.kid,
          use: 'sig',
          jwk: revoked.publicJwk,
          notBefore: kr.keys[0]!.notBefore,
          status: 'revoked',
          compromisedAt: toRfc3339Ms(new Date(Date.now() - DAY)),
        });
        return d;
      },
    });
    vn = f.nodes.vn!;
    const sig = f.fed.members.kr!.keys.signing;
    krKey = { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') };
    nc = await f.brokers.connectNode('kr');
  }, 60000);

  afterAll(async () => {
    await f?.stop();
  });

  it('accepts a well-formed crafted bundle (the baseline the hostile variants depart from)', async () => {
    const good = record('baseline');
    await send(await encrypt(await bundle([good], 1000)));
    await eventually(
      async () => ((await vnHasValue(good.value)) === 1 ? true : undefined),
      15000,
      'the baseline record at VN',
    );
    expect(await deadLetters()).toEqual([]);
  }, 20000);

  it('a replayed bundle (same sequence number again, as a new message) is refused: REPLAY', async () => {
    const rec = record('replayed');
    const bytes = await encrypt(await bundle([rec], 1001));
    await send(bytes);
    await eventually(
      async () => ((await vnHasValue(rec.value)) === 1 ? true : undefined),
      15000,
      'the first copy at VN',
    );
    // Same seq, same signed content, re-encrypted and under a new message id: not a redelivery.
    await send(await encrypt(await bundle([rec], 1001)));
    await expectDeadLetter('REPLAY', 'kr#1001');
    const history = await request(vn.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ type: 'domain', value: rec.value })
      .set('Authorization', await analyst())
      .expect(200);
    expect(history.body.total).toBe(1);
    expect(history.body.items[0].version).toBe(1);
  }, 20000);

  const cases: {
    name: string;
    code: string;
    detail?: string;
    craft: (rec: IndicatorRecord, seq: number) => Promise<string | Uint8Array>;
    overrides?: () => Partial<IndicatorRecord>;
  }[] = [
    {
      name: 'tampered record text (one byte of the value changed after signing)',
      code: 'ROOT_MISMATCH',
      craft: async (rec, seq) => {
        const signed = JSON.parse(Buffer.from(await bundle([rec], seq)).toString('utf8')) as {
          header: string;
          records: string[];
        };
        signed.records[0] = signed.records[0]!.replace(rec.value, rec.value.replace('t', 'x'));
        return encrypt(canonicalBytes(signed));
      },
    },
    {
      name: 'misaddressed (header names TH, encrypted to VN)',
      code: 'MISADDRESSED',
      craft: async (rec, seq) => encrypt(await bundle([rec], seq, { addressee: 'th' })),
    },
    {
      name: 'signed with a key unknown to the directory',
      code: 'KEY_UNKNOWN',
      craft: async (rec, seq) => {
        const k = await generateSigningKey();
        const key = { kid: k.kid, key: importPrivateKey(k.privateJwk, 'Ed25519') };
        return encrypt(await bundle([rec], seq, { key }));
      },
    },
    {
      name: "signed with KR's revoked key",
      code: 'KEY_REVOKED',
      craft: async (rec, seq) => encrypt(await bundle([rec], seq, { key: revokedKey })),
    },
    {
      name: "signed by TH but sent on KR's subject",
      code: 'KEY_NOT_VALID',
      craft: async (rec, seq) => {
        const th = f.fed.members.th!.keys.signing;
        const key = { kid: th.kid, key: importPrivateKey(th.privateJwk, 'Ed25519') };
        const b = await createBundle(
          [{ ...rec, origin: 'th' }],
          { origin: 'th', addressee: 'vn', seq: String(seq), issuedAt: toRfc3339Ms(new Date()) },
          key,
        );
        return encrypt(b.bytes);
      },
    },
    {
      name: 'duplicate JSON keys in the bundle',
      code: 'JSON_DUPLICATE_KEY',
      craft: async (rec, seq) => {
        const text = Buffer.from(await bundle([rec], seq)).toString('utf8');
        // A second "records" key: JSON.parse would silently keep the last one.
        const dup = text.replace(/}$/, `,"records":[]}`);
        expect(dup).not.toBe(text);
        return encrypt(Buffer.from(dup, 'utf8'));
      },
    },
    {
      name: 'a record larger than 64 KiB (correctly signed over its Merkle root)',
      code: 'JSON_TOO_LARGE',
      craft: async (rec, seq) => {
        const text = canonicalize({ ...rec, sharedNote: 'n'.repeat(70 * 1024) });
        const root = merkleRoot([leafHash(Buffer.from(text, 'utf8'))]);
        const header = {
          v: 1,
          origin: 'kr',
          addressee: 'vn',
          seq: String(seq),
          issuedAt: toRfc3339Ms(new Date()),
          count: 1,
          root: toB64u(root),
        };
        const jws = await signCompact(canonicalBytes(header), 'bundle', krKey);
        return encrypt(canonicalBytes({ header: jws, records: [text] }));
      },
    },
    {
      name: 'garbage bytes',
      code: 'DECRYPTION_FAILED',
      craft: () => Promise.resolve(randomBytes(4096)),
    },
    {
      name: 'a signed bundle sent unencrypted',
      code: 'DECRYPTION_FAILED',
      craft: async (rec, seq) => bundle([rec], seq),
    },
  ];

  cases.forEach((c, i) => {
    it(`${c.name}: dead-lettered as ${c.code}, never stored`, async () => {
      const before = await vnIndicatorCount();
      const rec = record(`hostile-${i}`);
      await send(await c.craft(rec, 2000 + i));
      await expectDeadLetter(c.code, c.detail);
      expect(await vnHasValue(rec.value)).toBe(0);
      expect(await vnIndicatorCount()).toBe(before);
    }, 20000);
  });

  it('an expired record is dead-lettered as EXPIRED while its valid bundle-mate is stored', async () => {
    const now = Date.now();
    const expired = record('expired', {
      firstSeen: toRfc3339Ms(new Date(now - 20 * DAY)),
      lastSeen: toRfc3339Ms(new Date(now - 20 * DAY)),
      validUntil: toRfc3339Ms(new Date(now - DAY)),
      issuedAt: toRfc3339Ms(new Date(now - 10 * DAY)),
    });
    const mate = record('expired-mate');
    await send(await encrypt(await bundle([expired, mate], 3000)));
    await expectDeadLetter('EXPIRED', expired.id);
    await eventually(
      async () => ((await vnHasValue(mate.value)) === 1 ? true : undefined),
      15000,
      'the valid bundle-mate at VN',
    );
    expect(await vnHasValue(expired.value)).toBe(0);
  }, 20000);

  it('a message over the broker limit never reaches VN: the broker itself refuses it', async () => {
    // max_payload is 1 MiB by default: larger messages are refused at publish, before any inbox.
    await expect(send(randomBytes(2 * 1024 * 1024))).rejects.toThrow();
  }, 20000);

  it('after all that, VN is healthy, every hostile message is dead-lettered once, and a real KR record still arrives', async () => {
    await request(vn.url)
      .get('/health')
      .expect(200, { status: 'ok', member: 'vn', directoryVersion: 1 });
    const codes = (await deadLetters()).map((d) => d.code).sort();
    expect(codes).toEqual(['REPLAY', 'EXPIRED', ...cases.map((c) => c.code)].sort());
    const kr = f.nodes.kr!;
    const res = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
      .send(indicatorBody({ value: `after-hostile.h${run}.example` }));
    expect(res.status).toBe(201);
    await eventually(
      async () => ((await vnHasValue(`after-hostile.h${run}.example`)) === 1 ? true : undefined),
      20000,
      'the real KR record at VN',
    );
  }, 30000);
});
