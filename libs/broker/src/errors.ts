/** Stable error codes of libs/broker. Transports translate them in one place; never rename one. */
export type BrokerErrorCode =
  /** A subject, or one of its tokens, does not follow `fed.v1.<origin>.<addressee>.<kind>`. */
  | 'INVALID_SUBJECT'
  /** A federation topology input is inconsistent (duplicate member, reserved id, bad port...). */
  | 'INVALID_TOPOLOGY'
  /** JetStream refused to create or update a stream of the plan. */
  | 'PROVISION_FAILED';

/** The one error class of libs/broker. `code` is stable; `message` is for humans. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';

  /**
   * @param code stable machine-readable code
   * @param message human-readable explanation naming the offending value
   * @param options.cause the underlying error, kept for diagnostics
   */
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** True when `e` is a {@link BrokerError}, optionally with the given code. */
export function isBrokerError(e: unknown, code?: BrokerErrorCode): e is BrokerError {
  return e instanceof BrokerError && (code === undefined || e.code === code);
}
