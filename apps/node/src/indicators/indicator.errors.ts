/** Errors of the node's use cases, translated to HTTP in one place (http/error.filter.ts). */
export type IndicatorErrorCode = 'NOT_FOUND' | 'NOT_OWN_RECORD' | 'ALREADY_RETRACTED';

export class IndicatorError extends Error {
  override readonly name = 'IndicatorError';
  constructor(
    readonly code: IndicatorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
