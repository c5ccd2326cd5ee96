import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';
import { connectForever, type NatsConnectionOptions, watchConnection } from './connection.js';
import { DeadLetterError, isPermanentError } from './errors.js';
import {
  type InboundMessage,
  parseFederationSubject,
  toInboundMessage,
} from './inbound-message.js';
import { JetStreamContext } from './jetstream-context.js';

/** Transport id of {@link JetStreamServer} (`@EventPattern(kind, JETSTREAM_TRANSPORT)` to target it). */
export const JETSTREAM_TRANSPORT: unique symbol = Symbol('JETSTREAM');

/** Options of {@link JetStreamServer}. */
export interface JetStreamServerOptions extends NatsConnectionOptions {
  /** Stream holding the inbox (it must exist: the transport never creates streams). */
  stream: string;
  /** Durable pull consumer name; created when missing, its ack wait and limits updated. */
  durable: string;
  /** Subjects the consumer reads; the whole stream when omitted. Several need nats-server 2.10+. */
  filterSubjects?: string[];
  /** JetStream domain of the stream (the member's leaf domain). */
  domain?: string;
  /** Handler attempts before a transient failure is dead-lettered; default 5, must exceed `backoffMs.length`. */
  maxDeliver?: number;
  /** Time JetStream waits for an ack before redelivering; default 30 000 ms. */
  ackWaitMs?: number;
  /**
   * Pull sizing. `maxBytes` (default 8 MiB) bounds what one pull buffers: a pull asks for
   * `maxBytes / 1 MiB` messages (at least one; messages are at most the server's 1 MiB
   * max_payload), never for bytes (see the consume call). `maxMessages` (default 1 000) bounds
   * the consumer's unacknowledged messages (`max_ack_pending`).
   */
  batch?: { maxMessages: number; maxBytes: number };
  /** Delay before redelivery after the n-th transient failure (last value repeats); default 1 s, 5 s, 30 s. */
  backoffMs?: number[];
  /**
   * Called once for a message that will never be redelivered (permanent error, no handler, bad
   * subject, attempts exhausted), before it is terminated. If it rejects, the message is nak'ed and
   * the dead-lettering retried: nothing is lost. Defaults to logging the message coordinates.
   */
  onDeadLetter?: (m: InboundMessage, reason: unknown) => Promise<void>;
  /** How long `close()` waits for the handler in progress before closing the connection; default 10 000 ms. */
  closeGraceMs?: number;
  /**
   * Read the stream again from this instant (after the application's database was restored from a
   * backup taken then): the durable consumer is recreated to start at `replayFrom`, and every
   * message up to the stream's last sequence at start-up is handed over as `redelivered` (the
   * application saw it before the restore, so an idempotent handler treats a known one as a
   * duplicate rather than a replay).
   */
  replayFrom?: Date;
}

/** Connection states reported by {@link JetStreamServer.status}. */
export type JetStreamServerStatus = 'connected' | 'disconnected' | 'reconnecting' | 'closed';

/** Events of {@link JetStreamServer.on}. */
export type JetStreamServerEvents = {
  disconnect: (server: string) => void;
  reconnect: (server: string) => void;
};

/** Readiness as reported by {@link JetStreamServer.readiness}. */
export interface JetStreamReadiness {
  /** True when connected to NATS and the consumer answers. */
  ready: boolean;
  /** True when the NATS connection is up. */
  connected: boolean;
  /** Consumer state from JetStream, when it could be read. */
  consumer?: {
    /** Messages in the stream not yet delivered to this consumer (the lag). */
    numPending: number;
    /** Messages delivered and not yet acknowledged. */
    numAckPending: number;
    /** Messages redelivered at least once and not yet acknowledged. */
    numRedelivered: number;
  };
  /** Why the consumer could not be read. */
  error?: string;
}

/**
 * Extra deliveries, beyond `maxDeliver`, that JetStream allows so that a failed `onDeadLetter` can
 * be retried: the handler is never called again on them.
 */
const DEAD_LETTER_RETRIES = 3;

/** Consumer notifications worth a warning (the client keeps retrying on all of them). */
const CONSUMER_TROUBLE: ReadonlySet<string> = new Set([
  'heartbeats_missed',
  'consumer_not_found',
  'stream_not_found',
  'consumer_deleted',
  'no_responders',
  'exceeded_limits',
]);

const DEFAULTS = {
  maxDeliver: 5,
  ackWaitMs: 30_000,
  batch: { maxMessages: 1_000, maxBytes: 8 * 1024 * 1024 },
  backoffMs: [1_000, 5_000, 30_000],
  closeGraceMs: 10_000,
} as const;

/**
 * The redelivery delay after the `deliveryCount`-th failed attempt: `backoffMs[deliveryCount - 1]`,
 * the last value repeating.
 */
export function backoffDelay(deliveryCount: number, backoffMs: readonly number[]): number {
  if (backoffMs.length === 0) return 0;
  const i = Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1;
  return backoffMs[i] ?? 0;
}

function assertName(what: string, value: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new TypeError(`JetStreamServer: ${what} "${value}" must match [A-Za-z0-9_-]+`);
  }
}

function assertPositiveInt(what: string, value: number, min = 1): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`JetStreamServer: ${what} must be an integer >= ${min}, got ${value}`);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  const message = (e as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(e);
}

/**
 * A NestJS custom transport that consumes a JetStream durable pull consumer and dispatches each
 * message to the `@EventPattern(<kind>)` handler of its subject's last token, with the exact bytes
 * received (`@Payload()` is an {@link InboundMessage}).
 *
 * Delivery contract (at least once, per-consumer order on the happy path):
 * - messages are handled one at a time, in stream order; only the handler is awaited;
 * - ack after the handler settles successfully;
 * - a permanent error ({@link isPermanentError}), a subject outside the grammar or a kind
 *   without handler → `onDeadLetter`, then `term()` (never redelivered);
 * - a transient error → `nak(backoff)`, until `maxDeliver` attempts, then dead-letter + `term()`;
 * - a failure of `onDeadLetter` itself → `nak`, and dead-lettering is retried on redelivery.
 *
 * A transient failure lets later messages overtake the failed one: receivers must tolerate gaps
 * (they do: the protocol's sequence check reports and later fills them).
 *
 * @example
 * ```ts
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new JetStreamServer({ servers: 'nats://127.0.0.1:4222', stream: 'INBOX_VN', durable: 'node' }),
 * });
 * app.useGlobalFilters(new JetStreamExceptionFilter());
 * await app.listen();
 * ```
 */
export class JetStreamServer
  extends Server<JetStreamServerEvents, JetStreamServerStatus>
  implements CustomTransportStrategy
{
  override transportId = JETSTREAM_TRANSPORT;
  protected override readonly logger = new Logger(JetStreamServer.name);
  // Errors are awaited and classified here, so Nest need not log unmatched RpcExceptions itself.
  override readonly propagatesEventHandlerErrors = true;

  private readonly maxDeliver: number;
  private readonly ackWaitMs: number;
  private readonly batch: { maxMessages: number; maxBytes: number };
  private readonly backoffMs: readonly number[];
  private readonly closeGraceMs: number;
  private readonly events = new EventEmitter();
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private inFlight: { m: JsMsg; since: number } | undefined;
  private closing = false;
  private connected = false;
  /** Stream sequences up to this one are handed over as redelivered (see `replayFrom`). */
  private replayUpTo = 0;
  /** Set until the replay consumer exists, so a reconnect does not replay again. */
  private replayPending: Date | undefined;

  /** @param options see {@link JetStreamServerOptions}; invalid values throw at construction. */
  constructor(private readonly options: JetStreamServerOptions) {
    super();
    assertName('stream', options.stream);
    assertName('durable', options.durable);
    this.maxDeliver = options.maxDeliver ?? DEFAULTS.maxDeliver;
    this.ackWaitMs = options.ackWaitMs ?? DEFAULTS.ackWaitMs;
    this.batch = options.batch ?? DEFAULTS.batch;
    this.backoffMs = options.backoffMs ?? DEFAULTS.backoffMs;
    this.closeGraceMs = options.closeGraceMs ?? DEFAULTS.closeGraceMs;
    this.replayPending = options.replayFrom;
    assertPositiveInt('maxDeliver', this.maxDeliver);
    assertPositiveInt('ackWaitMs', this.ackWaitMs, 100);
    assertPositiveInt('batch.maxMessages', this.batch.maxMessages);
    assertPositiveInt('batch.maxBytes', this.batch.maxBytes);
    assertPositiveInt('closeGraceMs', this.closeGraceMs, 0);
    for (const d of this.backoffMs) assertPositiveInt('every backoffMs value', d, 0);
    if (this.maxDeliver <= this.backoffMs.length) {
      throw new TypeError(
        `JetStreamServer: maxDeliver (${this.maxDeliver}) must exceed backoffMs.length (${this.backoffMs.length})`,
      );
    }
  }

  /** Connects, ensures the durable consumer and starts consuming; `callback(err)` on failure. */
  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      // A half-started transport must not keep a connection (and its reconnect loop) alive.
      await this.close().catch(() => undefined);
      callback(err);
    }
  }

  /**
   * Stops pulling, naks what was pulled but not started, waits up to `closeGraceMs` for the handler
   * in progress, then drains the connection (flushing pending acks). A handler still running after
   * the grace period is not acked: JetStream redelivers its message after `ackWaitMs`.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const nc = this.nc;
    this.nc = undefined;
    this.messages?.stop();
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.closeGraceMs);
      });
      await Promise.race([this.loop, grace]);
      clearTimeout(timer);
    }
    if (nc && !nc.isClosed()) {
      try {
        await nc.drain();
      } catch (err) {
        this.logger.warn(`drain failed, closing: ${describe(err)}`);
        await nc.close();
      }
    }
    this.connected = false;
    this._status$.next('closed');
    this.events.removeAllListeners();
  }

  /** Subscribes to connection events (`disconnect`, `reconnect`). */
  on<K extends keyof JetStreamServerEvents>(event: K, callback: JetStreamServerEvents[K]): void {
    this.events.on(event, callback);
  }

  /** The underlying `NatsConnection` (for instance to share it with a {@link JetStreamPublisher}). */
  unwrap<T = NatsConnection>(): T {
    if (!this.nc) {
      throw new Error('JetStreamServer is not listening: call listen() (app.listen()) first');
    }
    return this.nc as T;
  }

  /**
   * Readiness for health checks: connected, and the consumer's lag read from JetStream. Named
   * `readiness` because Nest's `Server` already defines `status` as the status observable.
   */
  async readiness(): Promise<JetStreamReadiness> {
    const connected = this.connected && this.nc !== undefined && !this.nc.isClosed();
    if (!connected || !this.jsm) return { ready: false, connected };
    try {
      const info = await this.jsm.consumers.info(this.options.stream, this.options.durable);
      return {
        ready: true,
        connected,
        consumer: {
          numPending: info.num_pending,
          numAckPending: info.num_ack_pending,
          numRedelivered: info.num_redelivered,
        },
      };
    } catch (err) {
      return { ready: false, connected, error: describe(err) };
    }
  }

  private async start(): Promise<void> {
    this.closing = false;
    const nc = await connectForever(this.options);
    this.nc = nc;
    this.connected = true;
    this._status$.next('connected');
    void watchConnection(nc, this.logger, (s) => {
      if (s.type === 'disconnect') {
        this.connected = false;
        this._status$.next('disconnected');
        this.events.emit('disconnect', s.server);
      } else if (s.type === 'reconnecting') {
        this._status$.next('reconnecting');
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this._status$.next('connected');
        this.events.emit('reconnect', s.server);
      }
    }).catch((err: unknown) => this.logger.error(`status watch ended: ${describe(err)}`));

    const domain = this.options.domain === undefined ? {} : { domain: this.options.domain };
    this.jsm = await jetstreamManager(nc, domain);
    await this.ensureConsumer(this.jsm);
    const consumer = await jetstream(nc, domain).consumers.get(
      this.options.stream,
      this.options.durable,
    );
    // Pulls count messages, not bytes (ADR 0050). A pull sized by bytes ends with a remainder
    // smaller than the next message; nats-server 2.9 then answers 409 "message size exceeds
    // maxbytes" and counts a delivery, so a redelivered bundle could burn all its deliveries on
    // 409s and be dropped at max_deliver (seen in the SIGKILL fault test). Messages are bounded by
    // the server's max_payload (1 MiB), so `maxBytes / 1 MiB` messages bound the memory as well.
    const messages = await consumer.consume({ max_messages: this.pullMessages() });
    this.messages = messages;
    void this.watchConsumer(messages);
    this.heartbeat = setInterval(() => this.keepInFlightAlive(), Math.max(this.ackWaitMs / 3, 50));
    this.heartbeat.unref();
    this.loop = this.consume(messages);
  }

  /** Messages per pull: the byte budget over the largest message (1 MiB), within max_ack_pending. */
  private pullMessages(): number {
    const perMessage = 1024 * 1024;
    return Math.min(
      this.batch.maxMessages,
      Math.max(1, Math.floor(this.batch.maxBytes / perMessage)),
    );
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { stream, durable } = this.options;
    const filters = this.options.filterSubjects ?? [];
    const filter: Partial<ConsumerConfig> =
      filters.length === 1
        ? { filter_subject: filters[0] }
        : filters.length > 1
          ? { filter_subjects: filters }
          : {};
    const tunable = {
      ack_wait: nanos(this.ackWaitMs),
      max_deliver: this.maxDeliver + DEAD_LETTER_RETRIES,
      max_ack_pending: this.batch.maxMessages,
    };
    let existing;
    try {
      existing = await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err;
      if (err.code === JetStreamApiCodes.StreamNotFound) {
        throw new Error(`JetStream stream "${stream}" not found: the transport never creates it`, {
          cause: err,
        });
      }
      if (err.code !== JetStreamApiCodes.ConsumerNotFound) throw err;
    }
    const replayFrom = this.replayPending;
    if (replayFrom) {
      this.replayUpTo = (await jsm.streams.info(stream)).state.last_seq;
      if (existing) await jsm.consumers.delete(stream, durable);
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: replayFrom.toISOString(),
        ...tunable,
        ...filter,
      });
      this.replayPending = undefined;
      this.logger.log(
        `recreated durable consumer ${stream}/${durable} from ${replayFrom.toISOString()} (replaying up to #${this.replayUpTo})`,
      );
      return;
    }
    if (!existing) {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...tunable,
        ...filter,
      });
      this.logger.log(`created durable consumer ${stream}/${durable}`);
      return;
    }
    const c = existing.config;
    const sameFilter =
      (c.filter_subject ?? '') === (filter.filter_subject ?? '') &&
      (c.filter_subjects ?? []).join(' ') === (filter.filter_subjects ?? []).join(' ');
    if (
      c.ack_wait !== tunable.ack_wait ||
      c.max_deliver !== tunable.max_deliver ||
      c.max_ack_pending !== tunable.max_ack_pending ||
      !sameFilter
    ) {
      await jsm.consumers.update(stream, durable, { ...tunable, ...filter });
      this.logger.log(`updated durable consumer ${stream}/${durable}`);
    }
  }

  private async watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (CONSUMER_TROUBLE.has(s.type)) {
          this.logger.warn(`consumer ${this.options.durable}: ${JSON.stringify(s)}`);
        }
      }
    } catch (err) {
      this.logger.error(`consumer status watch ended: ${describe(err)}`);
    }
  }

  /** Sequential: each message is fully settled (ack, nak or term) before the next one starts. */
  private async consume(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.closing) {
          // Already pulled but not started: hand it back now rather than after ack_wait.
          this.settle(m, 'nak', 0);
          continue;
        }
        await this.handle(m);
      }
    } catch (err) {
      this.logger.error(`consumer ${this.options.durable} stopped: ${describe(err)}`);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    let inbound: InboundMessage | undefined;
    try {
      const parts = parseFederationSubject(m.subject);
      inbound = toInboundMessage(m, parts);
      if (inbound.seq <= this.replayUpTo && !inbound.redelivered) {
        inbound = { ...inbound, redelivered: true };
      }
      if (!parts) {
        return await this.deadLetter(
          m,
          inbound,
          new DeadLetterError(
            'BAD_SUBJECT',
            `subject "${m.subject}" is not fed.v1.<origin>.<addressee>.<kind>`,
          ),
        );
      }
      const handler = this.getHandlerByPattern(parts.kind);
      if (!handler) {
        return await this.deadLetter(
          m,
          inbound,
          new DeadLetterError('NO_HANDLER', `no @EventPattern('${parts.kind}') handler`),
        );
      }
      if (inbound.deliveryCount > this.maxDeliver) {
        // A delivery granted only to retry a failed dead-lettering: never call the handler again.
        return await this.deadLetter(
          m,
          inbound,
          new DeadLetterError('MAX_DELIVER', `delivered ${inbound.deliveryCount} times`),
        );
      }
      try {
        this.inFlight = { m, since: Date.now() };
        await this.invoke(handler, inbound);
      } catch (err) {
        return await this.onHandlerError(m, inbound, err);
      } finally {
        this.inFlight = undefined;
      }
      this.settle(m, 'ack');
    } catch (err) {
      // Unreachable by design; if it ever happens, the message must stay in the stream.
      this.logger.error(`unexpected failure on ${m.subject} seq ${m.seq}: ${describe(err)}`);
      this.settle(m, 'nak', backoffDelay(m.info.deliveryCount, this.backoffMs));
    }
  }

  private async onHandlerError(m: JsMsg, inbound: InboundMessage, err: unknown): Promise<void> {
    if (isPermanentError(err)) {
      this.logger.warn(
        `permanent failure on ${inbound.subject} seq ${inbound.seq}: ${describe(err)}`,
      );
      return this.deadLetter(m, inbound, err);
    }
    if (inbound.deliveryCount >= this.maxDeliver) {
      return this.deadLetter(
        m,
        inbound,
        new DeadLetterError(
          'MAX_DELIVER',
          `handler failed on all ${this.maxDeliver} deliveries: ${describe(err)}`,
          { cause: err },
        ),
      );
    }
    const delay = backoffDelay(inbound.deliveryCount, this.backoffMs);
    this.logger.warn(
      `transient failure on ${inbound.subject} seq ${inbound.seq} (delivery ${inbound.deliveryCount}), retry in ${delay} ms: ${describe(err)}`,
    );
    this.settle(m, 'nak', delay);
  }

  private async deadLetter(m: JsMsg, inbound: InboundMessage, reason: unknown): Promise<void> {
    try {
      if (this.options.onDeadLetter) {
        await this.options.onDeadLetter(inbound, reason);
      } else {
        this.logger.error(
          `dead-lettered ${inbound.subject} seq ${inbound.seq} msgId ${inbound.msgId ?? '-'}: ${describe(reason)}`,
        );
      }
    } catch (err) {
      this.logger.error(
        `onDeadLetter failed for ${inbound.subject} seq ${inbound.seq}, will retry: ${describe(err)}`,
      );
      this.settle(m, 'nak', backoffDelay(inbound.deliveryCount, this.backoffMs));
      return;
    }
    this.settle(m, 'term');
  }

  /**
   * Runs the Nest handler between the processing hooks and resolves when it has settled, whether
   * it returns a value, a promise or an observable (Nest's exception filters turn a throw into an
   * erroring observable; awaiting it recovers the failure).
   */
  private async invoke(handler: MessageHandler, inbound: InboundMessage): Promise<void> {
    const ctx = new JetStreamContext([inbound.subject, inbound]);
    const outcome = await new Promise<{ failed: boolean; error?: unknown }>((resolve) => {
      const run = async (): Promise<void> => {
        const end = this.createProcessingEndHookRunner(ctx);
        try {
          const result: unknown = await handler(inbound, ctx);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          resolve({ failed: false });
        } catch (error) {
          resolve({ failed: true, error });
        } finally {
          end();
        }
      };
      try {
        this.onProcessingStartHook(this.transportId, ctx, run);
      } catch (error) {
        resolve({ failed: true, error });
      }
    });
    if (outcome.failed) throw outcome.error;
  }

  private settle(m: JsMsg, how: 'ack' | 'nak' | 'term', delayMs = 0): void {
    try {
      switch (how) {
        case 'ack':
          m.ack();
          break;
        case 'nak':
          m.nak(delayMs);
          break;
        case 'term':
          // No reason text: nats-server 2.9 only recognizes a bare `+TERM` and redelivers otherwise.
          m.term();
          break;
      }
    } catch (err) {
      // Connection closed: JetStream redelivers after ack_wait, which is the safe outcome.
      this.logger.warn(`could not ${how} ${m.subject} seq ${m.seq}: ${describe(err)}`);
    }
  }

  /** Keeps a slow handler's message from being redelivered to another instance meanwhile. */
  private keepInFlightAlive(): void {
    const f = this.inFlight;
    if (!f || Date.now() - f.since < this.ackWaitMs / 3) return;
    try {
      f.m.working();
    } catch {
      // connection down: nothing to extend
    }
  }
}
