import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  DeadLetterError,
  type InboundMessage,
  JetStreamExceptionFilter,
  JetStreamPublishError,
  JetStreamPublisher,
  JetStreamServer,
  type JetStreamServerOptions,
  PermanentMessageError,
} from '../src/index.js';
import { freePort, type RunningServer, startNatsServer, waitFor } from '../../testing/src/index.js';

// ---------------------------------------------------------------------------------------------
// A real nats-server with JetStream in a temp dir, on a free loopback port (libs/testing stops it
// by PID).

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) =>
  waitFor(check, timeoutMs, what);

let nats: RunningServer;
let storeDir: string;
let url: string;
let nc: NatsConnection;
let jsm: JetStreamManager;
let publisher: JetStreamPublisher;

beforeAll(async () => {
  const port = await freePort();
  storeDir = mkdtempSync(join(tmpdir(), 'fedintel-transport-'));
  nats = await startNatsServer({
    name: 'transport',
    dir: storeDir,
    clientPort: port,
    configText: `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(storeDir, 'js')}" }\n`,
  });
  url = `nats://127.0.0.1:${port}`;
  nc = await connect({ servers: url });
  jsm = await jetstreamManager(nc);
  publisher = await JetStreamPublisher.connect({ servers: url, name: 'test-publisher' });
}, 20_000);

afterAll(async () => {
  await publisher?.close();
  await nc?.close();
  await nats?.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

/** A stream capturing everything addressed to `addressee` (one per test: subjects must not overlap). */
async function inbox(addressee: string): Promise<string> {
  const name = `IN_${addressee.toUpperCase()}`;
  await jsm.streams.add({ name, subjects: [`fed.v1.*.${addressee}.>`] });
  return name;
}

// ---------------------------------------------------------------------------------------------
// A tiny Nest microservice whose handlers delegate to a per-test probe.

type Probe = (m: InboundMessage) => Promise<void>;
const idle: Probe = () => Promise.resolve();
const probe: { records: Probe; receipts: Probe } = { records: idle, receipts: idle };

@Controller()
class InboxController {
  @EventPattern('records')
  records(@Payload() m: InboundMessage): Promise<void> {
    return probe.records(m);
  }

  // A plain error with `permanent: true` reaches the transport only through this filter.
  @EventPattern('receipts')
  @UseFilters(new JetStreamExceptionFilter())
  receipts(@Payload() m: InboundMessage): Promise<void> {
    return probe.receipts(m);
  }
}

@Module({ controllers: [InboxController] })
class AppModule {}

interface RunningApp {
  app: INestMicroservice;
  server: JetStreamServer;
  deadLetters: { m: InboundMessage; reason: unknown }[];
}

async function startApp(
  options: Omit<JetStreamServerOptions, 'servers'>,
  onDeadLetter?: (m: InboundMessage, reason: unknown) => Promise<void>,
): Promise<RunningApp> {
  const deadLetters: RunningApp['deadLetters'] = [];
  const server = new JetStreamServer({
    servers: url,
    ackWaitMs: 1_000,
    backoffMs: [50],
    maxDeliver: 3,
    closeGraceMs: 100,
    ...options,
    onDeadLetter: async (m, reason) => {
      if (onDeadLetter) await onDeadLetter(m, reason);
      deadLetters.push({ m, reason });
    },
  });
  const app = await NestFactory.createMicroservice(AppModule, { strategy: server, logger: false });
  await app.listen();
  return { app, server, deadLetters };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function consumerState(stream: string, durable: string) {
  const info = await jsm.consumers.info(stream, durable);
  return { ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

// ---------------------------------------------------------------------------------------------

describe('JetStreamServer in a Nest microservice', () => {
  it('hands the handler the exact bytes received, with the message coordinates', async () => {
    const stream = await inbox('t1');
    const got: InboundMessage[] = [];
    probe.records = (m) => {
      got.push(m);
      return Promise.resolve();
    };
    const { app } = await startApp({ stream, durable: 'node' });
    try {
      // Not UTF-8, not canonical JSON, a NUL: any decoding or re-encoding would change it.
      const bytes = Uint8Array.from([
        ...enc.encode('{"b":1,  "a":"\u00e9"}'),
        0xff,
        0x00,
        0xfe,
        0xc3,
      ]);
      const ack = await publisher.publish('fed.v1.kr.t1.records', bytes, {
        msgId: 'bundle-1',
        headers: { 'Fed-Trace': 'abc' },
      });
      await waitUntil(() => got.length === 1, 5_000, 'delivery');
      const m = got[0]!;
      expect(m.data).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(m.data).equals(Buffer.from(bytes))).toBe(true);
      expect(m).toMatchObject({
        subject: 'fed.v1.kr.t1.records',
        origin: 'kr',
        addressee: 't1',
        kind: 'records',
        seq: ack.seq,
        redelivered: false,
        deliveryCount: 1,
        msgId: 'bundle-1',
      });
      expect(m.headers['Fed-Trace']).toBe('abc');
      await waitUntil(
        async () => (await consumerState(stream, 'node')).ackPending === 0,
        5_000,
        'ack after a successful handler',
      );
    } finally {
      await app.close();
    }
  }, 20_000);

  it('acks only after the handler resolves: closing before then gets the message redelivered', async () => {
    const stream = await inbox('t2');
    const calls: InboundMessage[] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    probe.records = (m) => {
      calls.push(m);
      return calls.length === 1 ? blocked : Promise.resolve();
    };
    const first = await startApp({ stream, durable: 'node' });
    const ack = await publisher.publish('fed.v1.kr.t2.records', enc.encode('r'), { msgId: 'b-2' });
    await waitUntil(() => calls.length === 1, 5_000, 'first delivery');
    // Well past ack_wait (1 s) the message is still unacked and not redelivered: the handler keeps it.
    await sleep(1_500);
    expect((await first.server.readiness()).consumer?.numAckPending).toBe(1);
    expect(calls).toHaveLength(1);
    await first.app.close();

    const second = await startApp({ stream, durable: 'node' });
    try {
      await waitUntil(() => calls.length === 2, 10_000, 'redelivery to the restarted app');
      expect(calls[1]).toMatchObject({ seq: ack.seq, redelivered: true, deliveryCount: 2 });
      release(); // the first handler finishes late: its ack must fail quietly
      await waitUntil(
        async () => (await second.server.readiness()).consumer?.numAckPending === 0,
        5_000,
        'ack of the redelivered message',
      );
      expect(second.deadLetters).toHaveLength(0);
    } finally {
      await second.app.close();
    }
  }, 30_000);

  it('dead-letters a permanent error once and never redelivers it', async () => {
    const stream = await inbox('t3');
    let records = 0;
    let receipts = 0;
    probe.records = () => {
      records++;
      return Promise.reject(new PermanentMessageError('SIGNATURE_INVALID', 'bad signature'));
    };
    probe.receipts = () => {
      receipts++;
      return Promise.reject(Object.assign(new Error('unknown key'), { permanent: true }));
    };
    const { app, deadLetters } = await startApp({ stream, durable: 'node' });
    try {
      await publisher.publish('fed.v1.kr.t3.records', enc.encode('r'), { msgId: 'b-3a' });
      await publisher.publish('fed.v1.kr.t3.receipts', enc.encode('c'), { msgId: 'b-3b' });
      await waitUntil(() => deadLetters.length === 2, 5_000, 'two dead letters');
      await sleep(1_500); // beyond ack_wait and backoff: any redelivery would show
      expect(records).toBe(1);
      expect(receipts).toBe(1);
      expect(deadLetters).toHaveLength(2);
      const [r, c] = deadLetters;
      expect(r!.reason).toBeInstanceOf(PermanentMessageError);
      expect((r!.reason as PermanentMessageError).code).toBe('SIGNATURE_INVALID');
      expect(r!.m.kind).toBe('records');
      expect((c!.reason as Error).message).toBe('unknown key');
      expect(await consumerState(stream, 'node')).toEqual({ ackPending: 0, redelivered: 0 });
    } finally {
      await app.close();
    }
  }, 20_000);

  it('retries a transient error (even a synchronous throw) after the backoff, then succeeds', async () => {
    const stream = await inbox('t4');
    const calls: { m: InboundMessage; at: number }[] = [];
    probe.records = (m) => {
      calls.push({ m, at: Date.now() });
      if (m.deliveryCount === 1) throw new Error('database busy');
      return Promise.resolve();
    };
    const { app, deadLetters } = await startApp({ stream, durable: 'node', backoffMs: [300] });
    try {
      await publisher.publish('fed.v1.kr.t4.records', enc.encode('r'), { msgId: 'b-4' });
      await waitUntil(() => calls.length === 2, 5_000, 'redelivery');
      expect(calls.map((c) => [c.m.deliveryCount, c.m.redelivered])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(250);
      await waitUntil(
        async () => (await consumerState(stream, 'node')).ackPending === 0,
        5_000,
        'ack',
      );
      await sleep(300);
      expect(calls).toHaveLength(2);
      expect(deadLetters).toHaveLength(0);
    } finally {
      await app.close();
    }
  }, 20_000);

  it('dead-letters a message whose handler fails on every one of maxDeliver attempts', async () => {
    const stream = await inbox('t5');
    let calls = 0;
    // `receipts` has the pass-through filter, so the last handler error reaches onDeadLetter as is.
    probe.receipts = () => {
      calls++;
      return Promise.reject(new Error('still busy'));
    };
    const { app, deadLetters } = await startApp({
      stream,
      durable: 'node',
      maxDeliver: 3,
      backoffMs: [20, 40],
    });
    try {
      await publisher.publish('fed.v1.kr.t5.receipts', enc.encode('r'), { msgId: 'b-5' });
      await waitUntil(() => deadLetters.length === 1, 5_000, 'dead letter');
      await sleep(1_500);
      expect(calls).toBe(3);
      expect(deadLetters).toHaveLength(1);
      const reason = deadLetters[0]!.reason as DeadLetterError;
      expect(reason).toBeInstanceOf(DeadLetterError);
      expect(reason.code).toBe('MAX_DELIVER');
      expect((reason.cause as Error).message).toBe('still busy');
      expect(deadLetters[0]!.m.deliveryCount).toBe(3);
    } finally {
      await app.close();
    }
  }, 20_000);

  it('dead-letters a kind without handler and a subject outside the grammar', async () => {
    const stream = await inbox('t6');
    let calls = 0;
    probe.records = () => {
      calls++;
      return Promise.resolve();
    };
    const { app, deadLetters } = await startApp({ stream, durable: 'node' });
    try {
      await publisher.publish('fed.v1.kr.t6.bogus', enc.encode('x'), { msgId: 'b-6a' });
      await publisher.publish('fed.v1.kr.t6.records.extra', enc.encode('y'), { msgId: 'b-6b' });
      await waitUntil(() => deadLetters.length === 2, 5_000, 'two dead letters');
      await sleep(1_500);
      expect(deadLetters.map((d) => (d.reason as DeadLetterError).code)).toEqual([
        'NO_HANDLER',
        'BAD_SUBJECT',
      ]);
      expect(deadLetters[0]!.m.kind).toBe('bogus');
      expect(calls).toBe(0);
      expect(await consumerState(stream, 'node')).toEqual({ ackPending: 0, redelivered: 0 });
    } finally {
      await app.close();
    }
  }, 20_000);

  it('loses nothing when onDeadLetter fails: the message is nak’ed and dead-lettered again', async () => {
    const stream = await inbox('t7');
    probe.records = () => Promise.reject(new PermanentMessageError('BUNDLE_MALFORMED', 'bad'));
    let attempts = 0;
    const { app, deadLetters } = await startApp({ stream, durable: 'node' }, () => {
      attempts++;
      if (attempts === 1) throw new Error('audit store down'); // synchronous, on purpose
      return Promise.resolve();
    });
    try {
      const ack = await publisher.publish('fed.v1.kr.t7.records', enc.encode('r'), {
        msgId: 'b-7',
      });
      await waitUntil(() => deadLetters.length === 1, 5_000, 'second dead-letter attempt');
      expect(attempts).toBe(2);
      expect(deadLetters[0]!.m).toMatchObject({ seq: ack.seq, deliveryCount: 2 });
      await waitUntil(
        async () => (await consumerState(stream, 'node')).ackPending === 0,
        5_000,
        'term',
      );
    } finally {
      await app.close();
    }
  }, 20_000);

  it('processes 5,000 messages in stream order, each exactly once', async () => {
    const stream = await inbox('t8');
    const got: { seq: number; index: number; redelivered: boolean }[] = [];
    probe.records = (m) => {
      got.push({ seq: m.seq, index: Number(dec.decode(m.data)), redelivered: m.redelivered });
      return Promise.resolve();
    };
    const { app } = await startApp({
      stream,
      durable: 'node',
      ackWaitMs: 30_000,
      batch: { maxMessages: 1_000, maxBytes: 256 * 1024 },
    });
    try {
      const n = 5_000;
      const results = await publisher.publishMany(
        Array.from({ length: n }, (_, i) => ({
          subject: 'fed.v1.kr.t8.records',
          data: enc.encode(String(i)),
          msgId: `m-${i}`,
        })),
      );
      const seqOfIndex = results.map((r) => (r.ok ? r.ack.seq : -1));
      expect(seqOfIndex.filter((s) => s < 0)).toHaveLength(0);
      await waitUntil(() => got.length >= n, 30_000, `${n} deliveries`);
      await sleep(500);
      expect(got).toHaveLength(n);
      got.forEach((g, i) => {
        expect(g.seq).toBe(i + 1); // stream order, no gap, no duplicate
        expect(seqOfIndex[g.index]).toBe(g.seq); // the bytes of exactly that message
        expect(g.redelivered).toBe(false);
      });
      await waitUntil(
        async () => (await consumerState(stream, 'node')).ackPending === 0,
        5_000,
        'all acked',
      );
    } finally {
      await app.close();
    }
  }, 60_000);

  it('reports readiness with the consumer lag, and not ready once closed', async () => {
    const stream = await inbox('t9');
    for (let i = 0; i < 3; i++) {
      await publisher.publish('fed.v1.kr.t9.records', enc.encode('r'), { msgId: `b-9-${i}` });
    }
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    probe.records = () => blocked;
    const { app, server } = await startApp({
      stream,
      durable: 'node',
      batch: { maxMessages: 1, maxBytes: 1024 },
    });
    try {
      await waitUntil(
        async () => (await server.readiness()).consumer?.numAckPending === 1,
        5_000,
        'one in flight',
      );
      expect(await server.readiness()).toEqual({
        ready: true,
        connected: true,
        consumer: { numPending: 2, numAckPending: 1, numRedelivered: 0 },
      });
    } finally {
      release();
      await app.close();
    }
    expect((await server.readiness()).ready).toBe(false);
  }, 20_000);
});

describe('JetStreamPublisher against a real server', () => {
  it('detects a duplicate msgId and stores the message once', async () => {
    const stream = await inbox('p1');
    const first = await publisher.publish('fed.v1.kr.p1.records', enc.encode('a'), {
      msgId: 'dup-1',
      expectStream: stream,
    });
    const again = await publisher.publish('fed.v1.kr.p1.records', enc.encode('a'), {
      msgId: 'dup-1',
      expectStream: stream,
    });
    expect(first).toEqual({ stream, seq: 1, duplicate: false });
    expect(again).toEqual({ stream, seq: 1, duplicate: true });
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it('raises STREAM_MISMATCH when the PubAck names another stream than expected', async () => {
    const stream = await inbox('p2');
    const err = await publisher
      .publish('fed.v1.kr.p2.records', enc.encode('a'), { msgId: 'x-1', expectStream: 'OUTBOX_KR' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamPublishError);
    expect((err as JetStreamPublishError).code).toBe('STREAM_MISMATCH');
    expect((err as JetStreamPublishError).retryable).toBe(false);
    expect((err as Error).message).toContain(`stored by stream "${stream}", expected "OUTBOX_KR"`);
  });

  it('fails fast with NO_RESPONDERS when no stream captures the subject', async () => {
    const started = Date.now();
    const err = await publisher
      .publish('fed.v1.kr.nobody.records', enc.encode('a'), { msgId: 'n-1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamPublishError);
    expect((err as JetStreamPublishError).code).toBe('NO_RESPONDERS');
    expect((err as JetStreamPublishError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/no responders \(503\)/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('publishMany reports each item, in order, so only the acked ones are marked sent', async () => {
    const stream = await inbox('p3');
    const results = await publisher.publishMany([
      { subject: 'fed.v1.kr.p3.records', data: enc.encode('1'), msgId: 'pm-1' },
      { subject: 'fed.v1.kr.nobody.records', data: enc.encode('2'), msgId: 'pm-2' },
      { subject: 'fed.v1.kr.p3.records', data: enc.encode('1'), msgId: 'pm-1' },
      { subject: 'fed.v1.kr.p3.records', data: enc.encode('3'), msgId: 'pm-3', expectStream: 'X' },
    ]);
    expect(
      results.map((r) => (r.ok ? `ok:${r.ack.seq}:${r.ack.duplicate}` : r.error.code)),
    ).toEqual(['ok:1:false', 'NO_RESPONDERS', 'ok:1:true', 'STREAM_MISMATCH']);
    // The mismatch is detected on the PubAck (see the publisher): the message itself was stored.
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
  });
});
