import { describe, expect, it } from '@jest/globals';
import { RpcException } from '@nestjs/microservices';
import { JetStreamApiError, type JetStreamPublishOptions, type PubAck } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { lastValueFrom } from 'rxjs';
import {
  backoffDelay,
  isPermanentError,
  type JetStreamPublishClient,
  JetStreamExceptionFilter,
  JetStreamPublishError,
  JetStreamPublisher,
  JetStreamServer,
  parseFederationSubject,
  PermanentMessageError,
  toPublishError,
} from '../src/index.js';

describe('parseFederationSubject', () => {
  it('splits fed.v1.<origin>.<addressee>.<kind>', () => {
    expect(parseFederationSubject('fed.v1.kr.vn.records')).toEqual({
      origin: 'kr',
      addressee: 'vn',
      kind: 'records',
    });
  });

  it.each([
    'fed.v2.kr.vn.records',
    'xfed.v1.kr.vn.records',
    'fed.v1.kr.vn',
    'fed.v1.kr.vn.records.extra',
    'fed.v1..vn.records',
    'fed.v1.kr.vn.',
    'fed.v1.KR.vn.records',
    'fed.v1.kr.kr.records',
    'fed.v1.kr.vn.Records',
    '',
  ])('rejects %j', (subject) => {
    expect(parseFederationSubject(subject)).toBeNull();
  });
});

describe('backoffDelay', () => {
  it('uses the n-th value after the n-th failure, then repeats the last one', () => {
    const b = [100, 200, 400];
    expect([1, 2, 3, 4, 9].map((n) => backoffDelay(n, b))).toEqual([100, 200, 400, 400, 400]);
  });

  it('is 0 without backoff', () => {
    expect(backoffDelay(3, [])).toBe(0);
  });
});

describe('permanent errors', () => {
  it('recognizes PermanentMessageError and any error with a truthy `permanent`', () => {
    expect(isPermanentError(new PermanentMessageError('SIGNATURE_INVALID', 'x'))).toBe(true);
    expect(isPermanentError(Object.assign(new Error('x'), { permanent: true }))).toBe(true);
    expect(isPermanentError({ permanent: 'yes' })).toBe(true);
    expect(isPermanentError(new Error('x'))).toBe(false);
    expect(isPermanentError({ permanent: 0 })).toBe(false);
    expect(isPermanentError(null)).toBe(false);
    expect(isPermanentError('permanent')).toBe(false);
  });

  it('PermanentMessageError survives Nest’s RPC filter as itself, with code and cause', () => {
    const cause = new Error('root');
    const e = new PermanentMessageError('KEY_REVOKED', 'key revoked', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(RpcException);
    expect(e.getError()).toBe(e);
    expect(e).toMatchObject({ code: 'KEY_REVOKED', message: 'key revoked', permanent: true });
    expect(e.cause).toBe(cause);
  });

  it('JetStreamExceptionFilter rethrows the very error it caught', async () => {
    const original = Object.assign(new Error('x'), { permanent: true });
    const out = new JetStreamExceptionFilter().catch(original);
    await expect(lastValueFrom(out)).rejects.toBe(original);
  });
});

describe('JetStreamServer options', () => {
  const base = { servers: 'nats://127.0.0.1:1', stream: 'IN_VN', durable: 'node' };

  it('accepts the defaults', () => {
    expect(() => new JetStreamServer(base)).not.toThrow();
  });

  it('requires maxDeliver to exceed the backoff length', () => {
    expect(() => new JetStreamServer({ ...base, maxDeliver: 3, backoffMs: [1, 2, 3] })).toThrow(
      /maxDeliver \(3\) must exceed backoffMs.length \(3\)/,
    );
    expect(
      () => new JetStreamServer({ ...base, maxDeliver: 4, backoffMs: [1, 2, 3] }),
    ).not.toThrow();
  });

  it.each([
    [{ stream: 'IN.VN' }, /stream/],
    [{ durable: 'a b' }, /durable/],
    [{ maxDeliver: 0 }, /maxDeliver/],
    [{ ackWaitMs: 10 }, /ackWaitMs/],
    [{ batch: { maxMessages: 0, maxBytes: 1 } }, /batch.maxMessages/],
    [{ backoffMs: [-1] }, /backoffMs/],
  ])('rejects %j', (bad, message) => {
    expect(() => new JetStreamServer({ ...base, ...bad })).toThrow(message);
  });

  it('is not ready and has no connection before listen()', async () => {
    const s = new JetStreamServer(base);
    expect(await s.readiness()).toEqual({ ready: false, connected: false });
    expect(() => s.unwrap()).toThrow(/not listening/);
  });
});

describe('toPublishError', () => {
  const subject = 'fed.v1.kr.vn.records';

  it.each([
    [
      new RequestError('no responders', { cause: new NoRespondersError(subject) }),
      'NO_RESPONDERS',
      false,
    ],
    [new Error('wrapped', { cause: new NoRespondersError(subject) }), 'NO_RESPONDERS', false],
    [new TimeoutError(), 'TIMEOUT', true],
    [new PermissionViolationError('denied', 'publish', subject), 'PERMISSION_DENIED', false],
    [new ClosedConnectionError(), 'CONNECTION', true],
    [
      new JetStreamApiError({
        code: 400,
        err_code: 10060,
        description: 'expected stream does not match',
      }),
      'STREAM_MISMATCH',
      false,
    ],
    [
      new JetStreamApiError({
        code: 503,
        err_code: 10077,
        description: 'maximum messages exceeded',
      }),
      'API_ERROR',
      true,
    ],
    [new Error('strange'), 'UNKNOWN', true],
  ])('maps %s', (err, code, retryable) => {
    const e = toPublishError(subject, err);
    expect(e).toBeInstanceOf(JetStreamPublishError);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.cause).toBe(err);
    expect(e.message).toContain(subject);
  });

  it('keeps the JetStream API code', () => {
    const api = new JetStreamApiError({ code: 503, err_code: 10077, description: 'full' });
    expect(toPublishError(subject, api).apiCode).toBe(10077);
  });
});

/** A JetStream client double that records calls and answers from `answer`. */
function fakeJs(answer: (subject: string) => Promise<PubAck>) {
  const calls: { subject: string; opts: unknown }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const js: JetStreamPublishClient = {
    publish: async (subject, _data, opts) => {
      calls.push({ subject, opts });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 1));
        return await answer(subject);
      } finally {
        inFlight--;
      }
    },
  };
  return { js, calls, maxInFlight: () => maxInFlight };
}

describe('JetStreamPublisher (with a JetStream double)', () => {
  const data = new Uint8Array([1]);

  it('rejects a PubAck from another stream than expected', async () => {
    const { js } = fakeJs(() => Promise.resolve({ stream: 'OTHER', seq: 7, duplicate: false }));
    const p = new JetStreamPublisher(js, undefined);
    const err = await p
      .publish('s', data, { msgId: 'm', expectStream: 'OUT_KR_VN' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamPublishError);
    expect((err as JetStreamPublishError).code).toBe('STREAM_MISMATCH');
    expect((err as Error).message).toContain('"OTHER"');
  });

  it('sends the msgId and headers, no Nats-Expected-Stream header, without retrying', async () => {
    const { js, calls } = fakeJs(() => Promise.resolve({ stream: 'S', seq: 1, duplicate: false }));
    const ack = await new JetStreamPublisher(js, undefined, { timeoutMs: 1234 }).publish(
      's',
      data,
      {
        msgId: 'm-1',
        headers: { 'Fed-Trace': 't' },
        expectStream: 'S',
      },
    );
    expect(ack).toEqual({ stream: 'S', seq: 1, duplicate: false });
    const opts = calls[0]!.opts as Partial<JetStreamPublishOptions>;
    expect(opts).toMatchObject({
      msgID: 'm-1',
      timeout: 1234,
      retries: 1,
    });
    expect(opts.expect).toBeUndefined();
    expect(opts.headers?.get('Fed-Trace')).toBe('t');
  });

  it('requires a msgId: deduplication is the point', async () => {
    const { js, calls } = fakeJs(() => Promise.resolve({ stream: 'S', seq: 1, duplicate: false }));
    await expect(
      new JetStreamPublisher(js, undefined).publish('s', data, { msgId: '' }),
    ).rejects.toThrow(/msgId is required/);
    expect(calls).toHaveLength(0);
  });

  it('publishMany bounds the publishes in flight and reports per item, in order', async () => {
    let seq = 0;
    const { js, maxInFlight } = fakeJs((subject) =>
      subject === 'bad'
        ? Promise.reject(new RequestError('x', { cause: new NoRespondersError(subject) }))
        : Promise.resolve({ stream: 'S', seq: ++seq, duplicate: false }),
    );
    const items = Array.from({ length: 50 }, (_, i) => ({
      subject: i % 10 === 3 ? 'bad' : 'ok',
      data,
      msgId: `m-${i}`,
    }));
    const results = await new JetStreamPublisher(js, undefined, { concurrency: 4 }).publishMany(
      items,
    );
    expect(maxInFlight()).toBe(4);
    expect(results).toHaveLength(50);
    results.forEach((r, i) => {
      if (i % 10 === 3) expect(!r.ok && r.error.code).toBe('NO_RESPONDERS');
      else expect(r.ok).toBe(true);
    });
    expect(new Set(results.flatMap((r) => (r.ok ? [r.ack.seq] : []))).size).toBe(45);
  });

  it('publishMany of nothing is nothing', async () => {
    const { js } = fakeJs(() => Promise.reject(new Error('unused')));
    expect(await new JetStreamPublisher(js, undefined).publishMany([])).toEqual([]);
  });
});
