/** Stable codes of the hub's domain errors; translated to HTTP in one place (http/error.filter.ts). */
export type HubErrorCode = 'NOT_FOUND' | 'BAD_CURSOR';

export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly code: HubErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
