/**
 * Stable error codes of the audit log. Each transport (HTTP, CLI) translates them in one place.
 */
export type AuditErrorCode =
  | 'INVALID_ENTRY'
  | 'INVALID_CHECKPOINT'
  | 'INVALID_PROOF_REQUEST'
  | 'PURPOSE_REQUIRED'
  | 'CHECKPOINT_ROLLBACK'
  | 'CHECKPOINT_FORK'
  | 'CHECKPOINT_INCONSISTENT'
  | 'SIGNATURE_INVALID'
  | 'NODE_MISSING';

/** An audit error with a stable code and an optional cause. */
export class AuditError extends Error {
  override readonly name = 'AuditError';
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is an {@link AuditError}. */
export function isAuditError(e: unknown): e is AuditError {
  return e instanceof AuditError;
}
