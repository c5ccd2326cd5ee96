import { Logger } from '@nestjs/common';
import {
  jetstream,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamPublishOptions,
} from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  headers as natsHeaders,
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { connectForever, type NatsConnectionOptions, watchConnection } from './connection.js';
import { JetStreamPublishError } from './errors.js';

/** Options of {@link JetStreamPublisher.connect}. */
export interface JetStreamPublisherOptions extends NatsConnectionOptions {
  /** JetStream domain to publish into (the member's own leaf domain). */
  domain?: string;
  /** How long to wait for each PubAck; default 5 000 ms. */
  timeoutMs?: number;
  /** Publishes in flight at once in {@link JetStreamPublisher.publishMany}; default 256. */
  concurrency?: number;
}

/** Per-message options of {@link JetStreamPublisher.publish}. */
export interface PublishOptions {
  /** `Nats-Msg-Id`: JetStream drops a repeat within the stream's duplicate window. */
  msgId: string;
  /** Extra NATS headers. */
  headers?: Readonly<Record<string, string>>;
  /** The stream that must store the message; a PubAck from any other is a `STREAM_MISMATCH` error. */
  expectStream?: string;
}

/** A JetStream PubAck. */
export interface PublishAck {
  /** Stream that stored the message. */
  stream: string;
  /** Its stream sequence (the first one's, for a duplicate). */
  seq: number;
  /** True when the stream already held this `msgId`: nothing new was stored. */
  duplicate: boolean;
  /** JetStream domain of the stream, when the server reports one. */
  domain?: string;
}

/** One message of {@link JetStreamPublisher.publishMany}. */
export interface PublishItem extends PublishOptions {
  subject: string;
  data: Uint8Array;
}

/** The outcome of one item of {@link JetStreamPublisher.publishMany}, at the item's index. */
export type PublishResult =
  { ok: true; ack: PublishAck } | { ok: false; error: JetStreamPublishError };

/** Minimal JetStream client surface the publisher needs (a seam for tests). */
export type JetStreamPublishClient = Pick<JetStreamClient, 'publish'>;

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_CONCURRENCY = 256;
/** JetStream API error: `Nats-Expected-Stream` did not match the stream that captured the subject. */
const API_EXPECTED_STREAM_MISMATCH = 10060;

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let e: unknown = err;
  while (e !== undefined && e !== null && chain.length < 8) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/** Translates a NATS client error into a {@link JetStreamPublishError} with a stable code. */
export function toPublishError(subject: string, err: unknown): JetStreamPublishError {
  if (err instanceof JetStreamPublishError) return err;
  const chain = causes(err);
  const has = (p: (e: unknown) => boolean): boolean => chain.some(p);
  const api = chain.find((e): e is JetStreamApiError => e instanceof JetStreamApiError);
  if (api?.code === API_EXPECTED_STREAM_MISMATCH) {
    return new JetStreamPublishError('STREAM_MISMATCH', `publish to ${subject}: ${api.message}`, {
      cause: err,
      apiCode: api.code,
    });
  }
  if (api) {
    return new JetStreamPublishError('API_ERROR', `publish to ${subject}: ${api.message}`, {
      cause: err,
      apiCode: api.code,
    });
  }
  if (has((e) => e instanceof PermissionViolationError)) {
    return new JetStreamPublishError(
      'PERMISSION_DENIED',
      `publish to ${subject} denied by the server's permissions`,
      { cause: err },
    );
  }
  if (
    has((e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()))
  ) {
    return new JetStreamPublishError(
      'NO_RESPONDERS',
      `publish to ${subject}: no responders (503): no JetStream stream captures this subject in ` +
        `this domain, JetStream is disabled, or this identity may not publish it`,
      { cause: err },
    );
  }
  if (has((e) => e instanceof TimeoutError)) {
    return new JetStreamPublishError('TIMEOUT', `publish to ${subject}: no PubAck in time`, {
      cause: err,
    });
  }
  if (has((e) => e instanceof ClosedConnectionError || e instanceof DrainingConnectionError)) {
    return new JetStreamPublishError('CONNECTION', `publish to ${subject}: connection closed`, {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new JetStreamPublishError('UNKNOWN', `publish to ${subject}: ${message}`, { cause: err });
}

/**
 * Publishes to JetStream with `Nats-Msg-Id` deduplication and a checked PubAck. Not tied to Nest:
 * the outbox relay of a node uses it directly (a Nest provider can wrap it).
 *
 * @example
 * ```ts
 * const pub = await JetStreamPublisher.connect({ servers: 'nats://127.0.0.1:4222' });
 * const ack = await pub.publish('fed.v1.kr.vn.records', bytes, { msgId: bundleId, expectStream: 'OUTBOX_KR' });
 * ```
 */
export class JetStreamPublisher {
  private readonly logger = new Logger(JetStreamPublisher.name);
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  /**
   * Prefer {@link JetStreamPublisher.connect} or {@link JetStreamPublisher.fromConnection}.
   * @param js the JetStream client to publish with
   * @param nc the connection to drain on {@link close}, when this publisher owns it
   * @param options timeouts and concurrency
   */
  constructor(
    private readonly js: JetStreamPublishClient,
    private readonly nc: NatsConnection | undefined,
    options: Pick<JetStreamPublisherOptions, 'timeoutMs' | 'concurrency'> = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1) {
      throw new TypeError(`JetStreamPublisher: concurrency must be an integer >= 1`);
    }
  }

  /** Opens its own connection (reconnecting forever) and publishes through it. */
  static async connect(options: JetStreamPublisherOptions): Promise<JetStreamPublisher> {
    const nc = await connectForever(options);
    const publisher = new JetStreamPublisher(
      jetstream(nc, options.domain === undefined ? {} : { domain: options.domain }),
      nc,
      options,
    );
    void watchConnection(nc, publisher.logger).catch(() => undefined);
    return publisher;
  }

  /**
   * Publishes over an existing connection (for instance `JetStreamServer.unwrap()`); {@link close}
   * then leaves the connection open.
   */
  static fromConnection(
    nc: NatsConnection,
    options: Pick<JetStreamPublisherOptions, 'domain' | 'timeoutMs' | 'concurrency'> = {},
  ): JetStreamPublisher {
    const js = jetstream(nc, options.domain === undefined ? {} : { domain: options.domain });
    return new JetStreamPublisher(js, undefined, options);
  }

  /**
   * Publishes one message and waits for its PubAck. Fails fast on "no responders" (no retry).
   *
   * @throws JetStreamPublishError with a stable `code` (see {@link JetStreamPublishErrorCode})
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishAck> {
    if (!options.msgId) {
      throw new JetStreamPublishError('UNKNOWN', `publish to ${subject}: msgId is required`);
    }
    const opts: Partial<JetStreamPublishOptions> = {
      msgID: options.msgId,
      timeout: this.timeoutMs,
      retries: 1,
    };
    if (options.headers) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(options.headers)) h.set(k, v);
      opts.headers = h;
    }
    // The expected stream is checked on the PubAck only. The `Nats-Expected-Stream` header would
    // travel with the message into every stream that sources it, and the addressee's inbox
    // (another name) then refuses the message: sourced delivery silently stops (nats-server 2.9).
    let pa;
    try {
      pa = await this.js.publish(subject, data, opts);
    } catch (err) {
      throw toPublishError(subject, err);
    }
    if (options.expectStream !== undefined && pa.stream !== options.expectStream) {
      throw new JetStreamPublishError(
        'STREAM_MISMATCH',
        `publish to ${subject}: stored by stream "${pa.stream}", expected "${options.expectStream}"`,
      );
    }
    return {
      stream: pa.stream,
      seq: pa.seq,
      duplicate: pa.duplicate,
      ...(pa.domain ? { domain: pa.domain } : {}),
    };
  }

  /**
   * Publishes many messages with up to `concurrency` PubAcks awaited at once. Never rejects: the
   * result at index i is item i's ack or error, so the caller marks exactly the acked ones as sent.
   */
  async publishMany(items: readonly PublishItem[]): Promise<PublishResult[]> {
    const results = new Array<PublishResult>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        const item = items[i];
        if (!item) continue;
        try {
          const ack = await this.publish(item.subject, item.data, item);
          results[i] = { ok: true, ack };
        } catch (err) {
          results[i] = { ok: false, error: toPublishError(item.subject, err) };
        }
      }
    };
    const workers = Array.from({ length: Math.min(this.concurrency, items.length) }, worker);
    await Promise.all(workers);
    return results;
  }

  /** Drains the connection when this publisher opened it (pending PubAcks settle first). */
  async close(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
  }
}
