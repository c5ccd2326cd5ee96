/** Most bytes of a refused message kept in a dead letter (its full size is recorded). */
export const MAX_DEAD_LETTER_BYTES = 1024 * 1024;

/** A refused message or record, as a node or the hub hands it to its store. */
export interface DeadLetterFields {
  subject: string;
  origin: string | null;
  code: string;
  detail: string;
  data: Uint8Array;
  receivedAt: string;
}

/**
 * The row of a dead letter, for the node's `dead_letter` and the hub's `hub_dead_letter` tables
 * (same columns): text cut to the column sizes, the first {@link MAX_DEAD_LETTER_BYTES} bytes in
 * base64 and the full size, so a huge message never fails to be kept.
 */
export function deadLetterRow(d: DeadLetterFields): {
  subject: string;
  origin: string | null;
  code: string;
  detail: string;
  size: number;
  data: string;
  receivedAt: string;
} {
  return {
    subject: d.subject.slice(0, 255),
    origin: d.origin,
    code: d.code.slice(0, 32),
    detail: d.detail.slice(0, 4000),
    size: d.data.length,
    data: Buffer.from(d.data.subarray(0, MAX_DEAD_LETTER_BYTES)).toString('base64'),
    receivedAt: d.receivedAt,
  };
}
