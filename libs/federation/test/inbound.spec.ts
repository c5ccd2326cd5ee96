// The receiving checks a member node and the hub share (libs/federation inbound.ts). The services
// that use them are covered end to end (apps/node exchange and faults, apps/hub ingest); these
// pin each rule on its own.
import { describe, expect, it } from '@jest/globals';
import {
  ProtocolError,
  type Directory,
  type IndicatorRecord,
  type Member,
} from '../../protocol/src/index.js';
import {
  MAX_INBOUND_BYTES,
  checkArrival,
  checkInboundSize,
  deadLetterMessage,
  recordRefusal,
  refusedRecordLetter,
  type ReceivedMessage,
} from '../src/index.js';
import type { DeadLetterFields } from '../../persistence/src/index.js';

const NOW = new Date('2026-11-29T06:00:00.000Z');

const msg = (extra: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  subject: 'fed.v1.kr.vn.records',
  origin: 'kr',
  data: Buffer.from('payload'),
  seq: 12,
  redelivered: false,
  ...extra,
});

function member(id: string): Member {
  return {
    id,
    country: id.toUpperCase(),
    name: `Agency ${id}`,
    roles: ['member'],
    status: 'active',
    nats: { account: `ACC_${id}`, user: `usr_${id}` },
    keys: [],
  };
}

const directory: Directory = {
  federation: 'fedintel-test',
  version: 1,
  issuedAt: '2026-11-01T00:00:00.000Z',
  members: [member('kr'), member('vn'), member('th')],
  groups: [],
  agreements: [
    {
      id: 'kr-vn',
      name: 'KR-VN MoU',
      parties: ['kr', 'vn'],
      types: ['*'],
      maxTlp: 'AMBER',
      validFrom: '2026-01-01T00:00:00.000Z',
    },
  ],
};

const record = (extra: Partial<IndicatorRecord> = {}): IndicatorRecord => ({
  id: '0196a3b2-0000-7000-8000-000000000001',
  origin: 'kr',
  version: 2,
  status: 'active',
  type: 'domain',
  value: 'toki-mirror.example',
  categories: ['webtoon'],
  confidence: 80,
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-11-01T00:00:00.000Z',
  validUntil: '2027-05-01T00:00:00.000Z',
  tlp: 'GREEN',
  handling: { code: 'H1' },
  reliability: 'B',
  accuracy: 2,
  scope: { addressees: ['vn', 'th'] },
  relations: [],
  issuedAt: '2026-11-28T00:00:00.000Z',
  ...extra,
});

/** Inbound state of a receiver that accepted KR's bundles up to #5 (#3 with root "r3"). */
const state = {
  findInboundBundle: (origin: string, seq: bigint) =>
    Promise.resolve(origin === 'kr' && seq === 3n ? { root: 'r3' } : null),
  lastInboundSeq: (origin: string) => Promise.resolve(origin === 'kr' ? 5n : 0n),
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'none',
    (e: unknown) => (e instanceof ProtocolError ? e.code : `not a ProtocolError: ${String(e)}`),
  );
}

describe('checkInboundSize', () => {
  it('refuses a message past the limit before it is read, and passes one at the limit', () => {
    expect(() => checkInboundSize(msg({ data: new Uint8Array(MAX_INBOUND_BYTES) }))).not.toThrow();
    expect(() => checkInboundSize(msg({ data: new Uint8Array(MAX_INBOUND_BYTES + 1) }))).toThrow(
      /exceeds/,
    );
  });
});

describe('checkArrival', () => {
  const warn: string[] = [];
  const check = (header: { origin: string; seq: string; root: string }, m = msg()) =>
    checkArrival(header, m, state, (w) => void warn.push(w));

  it('takes the next bundle with no gap, and names the gap a later one leaves', async () => {
    expect(await check({ origin: 'kr', seq: '6', root: 'r6' })).toEqual({
      duplicate: false,
      seq: 6n,
      gap: null,
    });
    expect(warn).toEqual([]);
    expect(await check({ origin: 'kr', seq: '9', root: 'r9' })).toEqual({
      duplicate: false,
      seq: 9n,
      gap: { from: 6n, to: 8n },
    });
    expect(warn).toEqual(['sequence gap from kr: 6..8 missing']);
  });

  it('refuses a bundle signed by another member than its subject names', async () => {
    expect(await codeOf(check({ origin: 'th', seq: '6', root: 'r6' }))).toBe('MISADDRESSED');
    expect(await codeOf(check({ origin: 'kr', seq: '6', root: 'r6' }, msg({ origin: '' })))).toBe(
      'MISADDRESSED',
    );
  });

  it('takes a redelivery of an accepted bundle as a duplicate, anything else as a replay', async () => {
    expect(await check({ origin: 'kr', seq: '3', root: 'r3' }, msg({ redelivered: true }))).toEqual(
      { duplicate: true },
    );
    expect(await codeOf(check({ origin: 'kr', seq: '3', root: 'r3' }))).toBe('REPLAY');
    expect(
      await codeOf(check({ origin: 'kr', seq: '3', root: 'other' }, msg({ redelivered: true }))),
    ).toBe('REPLAY');
  });
});

describe('recordRefusal', () => {
  const to = (recipient: string) => ({ directory, recipient, now: NOW });

  it('keeps an active record in scope, and every retraction', () => {
    expect(recordRefusal(record(), to('vn'))).toBeUndefined();
    expect(
      recordRefusal(
        record({ status: 'retracted', validUntil: '2026-01-02T00:00:00.000Z' }),
        to('th'),
      ),
    ).toBeUndefined();
  });

  it('refuses an expired record, and one its scope or agreements do not reach', () => {
    expect(recordRefusal(record({ validUntil: NOW.toISOString() }), to('vn'))).toEqual({
      code: 'EXPIRED',
      detail: `valid until ${NOW.toISOString()}`,
    });
    // TH is addressed but has no agreement with KR.
    expect(recordRefusal(record(), to('th'))).toMatchObject({
      code: 'SCOPE_DENIED',
      detail: expect.stringMatching(/^[A-Z_]+: .+/),
    });
    expect(recordRefusal(record({ tlp: 'RED' }), to('vn'))?.code).toBe('SCOPE_DENIED');
  });

  it('words the dead letter of a refused record with its place in the bundle', () => {
    const r = record();
    const letter = refusedRecordLetter(
      msg(),
      { origin: 'kr', seq: '7' },
      4,
      { record: r, text: '{"x":1}', code: 'EXPIRED', detail: 'valid until then' },
      NOW.toISOString(),
    );
    expect(letter).toEqual({
      subject: 'fed.v1.kr.vn.records',
      origin: 'kr',
      code: 'EXPIRED',
      detail: `record ${r.id} v2 (index 4 of bundle #7): valid until then`,
      data: Buffer.from('{"x":1}'),
      receivedAt: NOW.toISOString(),
    });
  });
});

describe('deadLetterMessage', () => {
  function sink() {
    const log: string[] = [];
    const letters: { d: DeadLetterFields; hook: string | undefined }[] = [];
    return {
      log,
      letters,
      sink: {
        audit: {
          rejectedMessageEvents: (origin: string | null, code: string, now: Date) =>
            `rejection ${origin} ${code} ${now.toISOString()}`,
          within: async <T>(events: string, run: (hook: string) => Promise<T>): Promise<T> => {
            log.push(`within ${events}`);
            return run(`hook for ${events}`);
          },
        },
        store: {
          addDeadLetter: (d: DeadLetterFields, hook?: string) => {
            letters.push({ d, hook });
            return Promise.resolve();
          },
        },
        warn: (w: string) => void log.push(w),
      },
    };
  }

  it('keeps a refused message with its audit entry, in one unit, and reports it', async () => {
    const s = sink();
    const out = await deadLetterMessage(
      msg(),
      new ProtocolError('SIGNATURE_INVALID', 'bad signature'),
      NOW,
      s.sink,
    );
    expect(out).toEqual({
      status: 'dead-lettered',
      accepted: 0,
      rejected: 0,
      code: 'SIGNATURE_INVALID',
    });
    expect(s.letters).toEqual([
      {
        d: {
          subject: 'fed.v1.kr.vn.records',
          origin: 'kr',
          code: 'SIGNATURE_INVALID',
          detail: 'bad signature',
          data: Buffer.from('payload'),
          receivedAt: NOW.toISOString(),
        },
        hook: `hook for rejection kr SIGNATURE_INVALID ${NOW.toISOString()}`,
      },
    ]);
    expect(s.log[1]).toBe(
      'dead-lettered fed.v1.kr.vn.records #12: SIGNATURE_INVALID bad signature',
    );
  });

  it('names no origin for a subject outside the grammar', async () => {
    const s = sink();
    await deadLetterMessage(
      msg({ origin: '' }),
      new ProtocolError('MISADDRESSED', 'x'),
      NOW,
      s.sink,
    );
    expect(s.letters[0]!.d.origin).toBeNull();
    expect(s.log[0]).toBe(`within rejection null MISADDRESSED ${NOW.toISOString()}`);
  });

  it('throws anything else again (transient: the message is redelivered), keeping nothing', async () => {
    const s = sink();
    const boom = new Error('SQLITE_BUSY');
    await expect(deadLetterMessage(msg(), boom, NOW, s.sink)).rejects.toBe(boom);
    expect(s.letters).toEqual([]);
    expect(s.log).toEqual([]);
  });
});
