import type { JsMsg } from '@nats-io/jetstream';
import { type FedSubject, tryParseSubject } from '../../broker/src/index.js';

/**
 * One message delivered by JetStream, as handed to an `@EventPattern(<kind>)` handler through
 * `@Payload()`. `data` holds the exact bytes received: signatures are verified over them, so the
 * transport never decodes, re-encodes or JSON-parses the payload.
 */
export interface InboundMessage {
  /** Full subject, `fed.v1.<origin>.<addressee>.<kind>`. */
  readonly subject: string;
  /** Origin member id taken from the subject ('' when the subject is outside the grammar). */
  readonly origin: string;
  /** Addressee taken from the subject: a member id, `hub` or `all` ('' when outside the grammar). */
  readonly addressee: string;
  /** Message kind, the last subject token (`records`, `receipts`...); selects the handler. */
  readonly kind: string;
  /** The payload bytes exactly as stored in the stream. */
  readonly data: Uint8Array;
  /** NATS headers, first value of each (header names as sent). */
  readonly headers: Readonly<Record<string, string>>;
  /** Stream sequence of the message. */
  readonly seq: number;
  /** True when JetStream delivered this message before. */
  readonly redelivered: boolean;
  /** 1 on the first delivery, then 2, 3... */
  readonly deliveryCount: number;
  /** The publisher's `Nats-Msg-Id`, when it set one. */
  readonly msgId?: string;
}

/** The parts of a federation subject. */
export type FederationSubjectParts = FedSubject;

/**
 * Splits `fed.v1.<origin>.<addressee>.<kind>`; `null` for anything libs/broker (which owns subject
 * naming) would not produce: wrong shape, bad member id or kind, or an impossible pair. This is the
 * only place in libs/transport that reads subject tokens.
 */
export function parseFederationSubject(subject: string): FederationSubjectParts | null {
  return tryParseSubject(subject) ?? null;
}

/** Builds the handler payload from a JetStream message, keeping `m.data` as received. */
export function toInboundMessage(m: JsMsg, parts: FederationSubjectParts | null): InboundMessage {
  const headers: Record<string, string> = {};
  if (m.headers) {
    for (const [name] of m.headers) {
      // defineProperty: a hostile header named `__proto__` must stay a plain entry.
      Object.defineProperty(headers, name, {
        value: m.headers.get(name),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const msgId = headers['Nats-Msg-Id'];
  const info = m.info;
  return {
    subject: m.subject,
    origin: parts?.origin ?? '',
    addressee: parts?.addressee ?? '',
    kind: parts?.kind ?? '',
    data: m.data,
    headers,
    seq: info.streamSequence,
    redelivered: info.redelivered,
    deliveryCount: info.deliveryCount,
    ...(msgId === undefined ? {} : { msgId }),
  };
}
