import {
  ProtocolError,
  evaluateDisclosure,
  isProtocolError,
  toRfc3339Ms,
  type DisclosureInput,
  type IndicatorRecord,
} from '../../protocol/src/index.js';
import type { DeadLetterFields } from '../../persistence/src/index.js';

// The checks every receiver of bundles owes the federation, shared by a member node
// (apps/node InboundService) and the hub (apps/hub IngestService).

/** Largest inbound message accepted (bytes); larger ones are dead-lettered unread. */
export const MAX_INBOUND_BYTES = 16 * 1024 * 1024;

/** What became of one inbound message. */
export interface InboundOutcome {
  status: 'stored' | 'duplicate' | 'dead-lettered';
  accepted: number;
  rejected: number;
  code?: string;
}

/** What the checks need of an inbound message (libs/transport InboundMessage has it). */
export interface ReceivedMessage {
  readonly subject: string;
  readonly origin: string;
  readonly data: Uint8Array;
  readonly seq: number;
  readonly redelivered: boolean;
}

/** @throws {ProtocolError} `JSON_TOO_LARGE` past {@link MAX_INBOUND_BYTES}, before anything is read */
export function checkInboundSize(msg: ReceivedMessage): void {
  if (msg.data.length > MAX_INBOUND_BYTES) {
    throw new ProtocolError(
      'JSON_TOO_LARGE',
      `message of ${msg.data.length} bytes exceeds ${MAX_INBOUND_BYTES}`,
    );
  }
}

/** What {@link checkArrival} reads of the receiver's inbound state. */
export interface InboundState {
  findInboundBundle(origin: string, seq: bigint): Promise<{ root: string } | null>;
  lastInboundSeq(origin: string): Promise<bigint>;
}

/** A bundle that may be stored: its sequence number and the numbers it skipped, if any. */
export type Arrival =
  { duplicate: true } | { duplicate: false; seq: bigint; gap: { from: bigint; to: bigint } | null };

/**
 * The checks of an opened bundle against the subject it came on and what was received before:
 * signed by the member of its subject, not a replay (a redelivery of the same bundle is a
 * duplicate, acknowledged without a second write), and the gap it leaves, if any.
 *
 * @throws {ProtocolError} `MISADDRESSED`, `REPLAY`
 */
export async function checkArrival(
  header: { origin: string; seq: string; root: string },
  msg: ReceivedMessage,
  state: InboundState,
  warn: (message: string) => void,
): Promise<Arrival> {
  if (header.origin !== msg.origin) {
    throw new ProtocolError(
      'MISADDRESSED',
      `bundle signed by ${header.origin} arrived on the subject of ${msg.origin || '?'}`,
    );
  }
  const seq = BigInt(header.seq);
  const known = await state.findInboundBundle(header.origin, seq);
  if (known) {
    if (known.root === header.root && msg.redelivered) return { duplicate: true };
    throw new ProtocolError(
      'REPLAY',
      `bundle ${header.origin}#${header.seq} was already accepted${known.root === header.root ? '' : ' with another root'}`,
    );
  }
  const last = await state.lastInboundSeq(header.origin);
  const gap = seq > last + 1n ? { from: last + 1n, to: seq - 1n } : null;
  if (gap) warn(`sequence gap from ${header.origin}: ${gap.from}..${gap.to} missing`);
  return { duplicate: false, seq, gap };
}

/**
 * Why `recipient` must not keep an active record: `EXPIRED` past its `validUntil`, or
 * `SCOPE_DENIED` (with the disclosure decision's reason) when its scope and agreements do not
 * reach the recipient. Undefined when it may; retractions are always kept.
 */
export function recordRefusal(
  record: IndicatorRecord,
  to: Omit<DisclosureInput, 'record'>,
): { code: 'EXPIRED' | 'SCOPE_DENIED'; detail: string } | undefined {
  if (record.status !== 'active') return undefined;
  if (Date.parse(record.validUntil) <= to.now.getTime()) {
    return { code: 'EXPIRED', detail: `valid until ${record.validUntil}` };
  }
  const d = evaluateDisclosure({
    record,
    directory: to.directory,
    recipient: to.recipient,
    now: to.now,
  });
  return d.allowed ? undefined : { code: 'SCOPE_DENIED', detail: `${d.reason}: ${d.detail}` };
}

/** The dead letter of one refused record of a bundle (its text as received). */
export function refusedRecordLetter(
  msg: ReceivedMessage,
  bundle: { origin: string; seq: string },
  index: number,
  refused: { record: IndicatorRecord; text: string; code: string; detail: string },
  receivedAt: string,
): DeadLetterFields {
  const { record } = refused;
  return {
    subject: msg.subject,
    origin: bundle.origin,
    code: refused.code,
    detail: `record ${record.id} v${record.version} (index ${index} of bundle #${bundle.seq}): ${refused.detail}`,
    data: Buffer.from(refused.text, 'utf8'),
    receivedAt,
  };
}

/** What {@link deadLetterMessage} needs of the receiver's audit log and store. */
export interface DeadLetterSink<E, H> {
  audit: {
    rejectedMessageEvents(origin: string | null, code: string, now: Date): E;
    within<T>(events: E, run: (hook: H) => Promise<T>): Promise<T>;
  };
  store: { addDeadLetter(d: DeadLetterFields, hook?: H): Promise<void> };
  warn: (message: string) => void;
}

/**
 * Keeps a whole message refused with `e` (its bytes, code and reason) with its audit entry, in
 * one transaction, and reports it dead-lettered: the caller acknowledges it, so it is never
 * redelivered. Anything but a {@link ProtocolError} is transient (database, broker) and is thrown
 * again, so the message is redelivered instead.
 */
export async function deadLetterMessage<E, H>(
  msg: ReceivedMessage,
  e: unknown,
  now: Date,
  sink: DeadLetterSink<E, H>,
): Promise<InboundOutcome> {
  if (!isProtocolError(e)) throw e;
  const rejection = sink.audit.rejectedMessageEvents(msg.origin || null, e.code, now);
  await sink.audit.within(rejection, (hook) =>
    sink.store.addDeadLetter(
      {
        subject: msg.subject,
        origin: msg.origin || null,
        code: e.code,
        detail: e.message,
        data: msg.data,
        receivedAt: toRfc3339Ms(now),
      },
      hook,
    ),
  );
  sink.warn(`dead-lettered ${msg.subject} #${msg.seq}: ${e.code} ${e.message}`);
  return { status: 'dead-lettered', accepted: 0, rejected: 0, code: e.code };
}
