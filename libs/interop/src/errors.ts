/** Stable codes of whole-document failures (a file or body that is not what it claims to be). */
export type InteropErrorCode =
  'NOT_A_STIX_BUNDLE' | 'NOT_A_MISP_EVENT' | 'BAD_CSV_HEADER' | 'TOO_MANY_ROWS';

/** A document that cannot be read at all; per-object or per-line problems go into the report. */
export class InteropError extends Error {
  override readonly name = 'InteropError';
  constructor(
    readonly code: InteropErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
