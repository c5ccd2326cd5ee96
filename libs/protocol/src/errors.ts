/**
 * Stable error codes of the protocol. Each transport (HTTP, NATS, CLI) translates them in one place.
 * Codes are part of the wire contract (docs/protocol.md, "Error codes"): never rename one.
 */
export type ProtocolErrorCode =
  // input and normalization
  | 'INVALID_FIELD'
  | 'INVALID_VALUE'
  | 'UNSUPPORTED_TYPE'
  // JSON and canonical bytes
  | 'JSON_SYNTAX'
  | 'JSON_DUPLICATE_KEY'
  | 'JSON_UNSAFE_NUMBER'
  | 'JSON_TOO_LARGE'
  // signatures and keys
  | 'SIGNATURE_INVALID'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'TYPE_MISMATCH'
  | 'CRIT_UNSUPPORTED'
  | 'KEY_UNKNOWN'
  | 'KEY_NOT_VALID'
  | 'KEY_REVOKED'
  // bundles and proofs
  | 'BUNDLE_MALFORMED'
  | 'ROOT_MISMATCH'
  | 'PROOF_INVALID'
  | 'MISADDRESSED'
  | 'DECRYPTION_FAILED'
  // sequence and validity
  | 'REPLAY'
  | 'SEQUENCE_GAP'
  | 'EXPIRED'
  // directory
  | 'DIRECTORY_INVALID'
  | 'DIRECTORY_ROLLBACK'
  | 'MEMBER_UNKNOWN'
  // scope and handling
  | 'SCOPE_DENIED'
  | 'NO_AGREEMENT';

/** The one error class of libs/protocol. `code` is stable; `message` is for humans. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  /**
   * @param code stable machine-readable code
   * @param message human-readable explanation naming the field and the reason
   * @param options.cause the underlying error, kept for diagnostics
   * @param options.field the offending field path, when there is one (e.g. `value`, `scope.addressees[1]`)
   */
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options: { cause?: unknown; field?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
  }

  readonly field: string | undefined;
}

/** True when `e` is a {@link ProtocolError}, optionally with the given code. */
export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}
