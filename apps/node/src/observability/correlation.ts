import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What ties log lines together: the HTTP request, or the federation message being handled. */
export interface Correlation {
  /** `X-Request-Id` of an HTTP request (accepted from the caller when well-formed, else new). */
  requestId?: string;
  /** A federation message: `<subject>#<stream seq>`. */
  messageId?: string;
}

const storage = new AsyncLocalStorage<Correlation>();

/** The correlation of the code running now, if any. */
export function currentCorrelation(): Correlation | undefined {
  return storage.getStore();
}

/** Run `fn` with `c` as the correlation of everything it logs. */
export function withCorrelation<T>(c: Correlation, fn: () => T): T {
  return storage.run(c, fn);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request id to use: the caller's when it is a safe token, otherwise a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && REQUEST_ID.test(v) ? v : randomUUID();
}
