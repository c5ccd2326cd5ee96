import { RpcException } from '@nestjs/microservices';

/**
 * A handler error that retrying cannot fix (bad signature, unknown key, malformed bundle, scope
 * denied). The {@link JetStreamServer} dead-letters the message and terminates it: it is never
 * redelivered.
 *
 * It extends Nest's `RpcException` (itself an `Error`) and returns itself from `getError()`, the
 * same device as Nest's `KafkaRetriableException`: Nest's default RPC exception filter then hands
 * this very instance back to the transport instead of a generic "Internal server error", so the
 * permanence survives without any filter registered.
 *
 * @example
 * ```ts
 * throw new PermanentMessageError('SIGNATURE_INVALID', 'bundle signature does not verify');
 * ```
 */
export class PermanentMessageError extends RpcException {
  override readonly name = 'PermanentMessageError';
  /** Marks the error as permanent for {@link isPermanentError}, even across realms. */
  readonly permanent = true as const;

  /**
   * @param code stable machine-readable reason (for instance a `ProtocolErrorCode`)
   * @param message human-readable explanation
   * @param options.cause the underlying error, kept for diagnostics and for `onDeadLetter`
   */
  constructor(
    readonly code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message);
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
    }
  }

  /** Returns the instance itself so that Nest's RPC exception filter passes it through unchanged. */
  override getError(): this {
    return this;
  }
}

/**
 * True when retrying `error` cannot succeed: a {@link PermanentMessageError}, or any object with a
 * truthy `permanent` property (so libraries need not import this one to classify their errors).
 */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof PermanentMessageError) return true;
  return (
    typeof error === 'object' &&
    error !== null &&
    Boolean((error as { permanent?: unknown }).permanent)
  );
}

/** Why the transport dead-lettered a message without a handler error of its own. */
export type DeadLetterCode = 'NO_HANDLER' | 'BAD_SUBJECT' | 'MAX_DELIVER';

/**
 * The reason handed to `onDeadLetter` when the transport itself decides to dead-letter: no handler
 * for the kind, a subject outside the federation grammar, or delivery attempts exhausted (the last
 * handler error is the `cause`).
 */
export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';

  /**
   * @param code why the message is dead-lettered
   * @param message human-readable explanation
   * @param options.cause the last handler error, for `MAX_DELIVER`
   */
  constructor(
    readonly code: DeadLetterCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * Stable codes of {@link JetStreamPublishError}.
 *
 * - `NO_RESPONDERS`: nothing answered the publish (no stream captures the subject, JetStream is
 *   off, or a permission denies it: NATS answers 503 in all three cases). Retrying at once cannot
 *   help; an operator must act.
 * - `TIMEOUT`: no PubAck in time. The message may or may not be stored; retry with the same
 *   `msgId` and the duplicate window makes it safe.
 * - `STREAM_MISMATCH`: the PubAck named another stream than the expected one (the message is stored
 *   there: a configuration error), or a caller-set `Nats-Expected-Stream` header was refused.
 * - `PERMISSION_DENIED`: the server refused the publish subject to this identity.
 * - `CONNECTION`: the connection is closed or draining.
 * - `API_ERROR`: JetStream answered with an error (limits, storage, wrong sequence...).
 * - `UNKNOWN`: anything else (kept retryable: the same `msgId` makes a retry harmless).
 */
export type JetStreamPublishErrorCode =
  | 'NO_RESPONDERS'
  | 'TIMEOUT'
  | 'STREAM_MISMATCH'
  | 'PERMISSION_DENIED'
  | 'CONNECTION'
  | 'API_ERROR'
  | 'UNKNOWN';

/**
 * A JetStream publish that did not end with the expected PubAck. `retryable` tells an outbox relay
 * whether a later retry of the same message (same `msgId`) may succeed without operator action.
 */
export class JetStreamPublishError extends Error {
  override readonly name = 'JetStreamPublishError';
  /** True for `TIMEOUT`, `CONNECTION`, `API_ERROR` and `UNKNOWN`; false for configuration problems. */
  readonly retryable: boolean;

  /**
   * @param code stable machine-readable code
   * @param message human-readable explanation naming the subject
   * @param options.cause the NATS client error, kept for diagnostics
   * @param options.apiCode the JetStream API error code, for `API_ERROR` and server-side mismatches
   */
  constructor(
    readonly code: JetStreamPublishErrorCode,
    message: string,
    options: { cause?: unknown; apiCode?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.apiCode = options.apiCode;
    this.retryable =
      code === 'TIMEOUT' || code === 'CONNECTION' || code === 'API_ERROR' || code === 'UNKNOWN';
  }

  /** The JetStream API `err_code`, when the server sent one. */
  readonly apiCode: number | undefined;
}
