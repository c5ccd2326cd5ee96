import { subjectFor } from '../../broker/src/index.js';
import { signReceipt, type Receipt, type SigningKey } from '../../protocol/src/index.js';

/** What sending a receipt needs of a JetStream publisher (libs/transport's, in the node and hub). */
export interface ReceiptPublisher {
  publish(subject: string, data: Uint8Array, opts: { msgId: string }): Promise<unknown>;
}

/**
 * Signs the receipt of a received bundle and publishes it to the bundle's sender, on
 * `<from>.<to>.receipts` with a de-duplication id per (from, to, seq), so a redelivered bundle
 * never produces two receipts. Never throws: the records are stored by then, and a receipt that
 * did not leave shows up in reconciliation, not as data loss; `warn` hears why.
 */
export async function sendReceipt(
  r: Receipt,
  key: SigningKey,
  publisher: ReceiptPublisher,
  warn: (message: string) => void,
): Promise<void> {
  try {
    const jws = await signReceipt(r, key);
    await publisher.publish(subjectFor(r.from, r.to, 'receipts'), Buffer.from(jws, 'utf8'), {
      msgId: `receipt.${r.from}.${r.to}.${r.seq}`,
    });
  } catch (e) {
    warn(
      `receipt to ${r.to} for #${r.seq} not sent: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
