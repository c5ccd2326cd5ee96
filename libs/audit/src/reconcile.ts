import type { AuditEntry, RecordRef } from './entry.js';

/** How a record differs between a sender's disclosures and a receiver's receptions. */
export type Discrepancy = 'lost' | 'duplicated' | 'unexpected' | 'digest-mismatch';

export interface ReconcileFinding {
  kind: Discrepancy;
  /** `origin/id@version` */
  record: RecordRef;
  /** Bundle sequence number(s) involved. */
  bundles: string[];
  detail: string;
}

export interface ReconcileReport {
  sender: string;
  receiver: string;
  bundlesDisclosed: number;
  recordsDisclosed: number;
  recordsMatched: number;
  findings: ReconcileFinding[];
}

interface Bundle {
  seq: string;
  root: string;
  records: RecordRef[];
}

function bundlesOf(
  entries: readonly AuditEntry[],
  ops: readonly string[],
  partner: string,
): Bundle[] {
  return (
    entries
      // A disclosure entry with a reason is the partner's acknowledgement, not a disclosure.
      .filter(
        (e) =>
          ops.includes(e.op) &&
          e.partner === partner &&
          e.bundle !== undefined &&
          !(e.op === 'disclosure' && e.reason !== undefined),
      )
      .map((e) => ({ seq: e.bundle!.seq, root: e.bundle!.root, records: e.records ?? [] }))
  );
}

/**
 * Compares, for one sender → receiver pair, the sender's `disclosure` entries with the receiver's
 * `receipt` and `rejection` entries (pure). Every disclosed record must be received (or rejected
 * with a reason) exactly once under the same bundle root. The window is the sender's disclosures
 * given; receptions of bundles numbered inside the window's range that the sender never disclosed
 * are `unexpected`.
 */
export function reconcile(p: {
  sender: string;
  receiver: string;
  senderEntries: readonly AuditEntry[];
  receiverEntries: readonly AuditEntry[];
}): ReconcileReport {
  const disclosed = bundlesOf(p.senderEntries, ['disclosure'], p.receiver);
  const received = bundlesOf(p.receiverEntries, ['receipt', 'rejection'], p.sender);
  const findings: ReconcileFinding[] = [];
  const sentBySeq = new Map<string, Bundle[]>();
  for (const b of disclosed) sentBySeq.set(b.seq, [...(sentBySeq.get(b.seq) ?? []), b]);
  const gotBySeq = new Map<string, Bundle[]>();
  for (const b of received) gotBySeq.set(b.seq, [...(gotBySeq.get(b.seq) ?? []), b]);

  // A record disclosed twice to the same partner (in two bundles, or twice in one).
  const sentCount = new Map<RecordRef, string[]>();
  for (const b of disclosed)
    for (const r of b.records) sentCount.set(r, [...(sentCount.get(r) ?? []), b.seq]);
  for (const [record, seqs] of sentCount) {
    if (seqs.length > 1) {
      findings.push({
        kind: 'duplicated',
        record,
        bundles: seqs,
        detail: `disclosed ${seqs.length} times`,
      });
    }
  }

  let matched = 0;
  for (const [seq, sent] of sentBySeq) {
    const got = gotBySeq.get(seq) ?? [];
    const sentBundle = sent[0] as Bundle;
    const gotRefs = new Map<RecordRef, number>();
    for (const g of got) for (const r of g.records) gotRefs.set(r, (gotRefs.get(r) ?? 0) + 1);
    const mismatch = got.find((g) => g.root !== sentBundle.root);
    for (const record of sentBundle.records) {
      const n = gotRefs.get(record) ?? 0;
      if (mismatch) {
        findings.push({
          kind: 'digest-mismatch',
          record,
          bundles: [seq],
          detail: `bundle #${seq} root ${sentBundle.root} disclosed, ${mismatch.root} received`,
        });
      } else if (n === 0) {
        findings.push({
          kind: 'lost',
          record,
          bundles: [seq],
          detail:
            got.length === 0
              ? `bundle #${seq} never received`
              : `not in bundle #${seq} as received`,
        });
      } else if (n > 1) {
        findings.push({
          kind: 'duplicated',
          record,
          bundles: [seq],
          detail: `received ${n} times`,
        });
      } else {
        matched++;
      }
    }
    for (const [record] of gotRefs) {
      if (!sentBundle.records.includes(record)) {
        findings.push({
          kind: 'unexpected',
          record,
          bundles: [seq],
          detail: `received in bundle #${seq}, never disclosed in it`,
        });
      }
    }
  }

  const seqs = [...sentBySeq.keys()].map(BigInt);
  if (seqs.length > 0) {
    const lo = seqs.reduce((a, b) => (a < b ? a : b));
    const hi = seqs.reduce((a, b) => (a > b ? a : b));
    for (const [seq, got] of gotBySeq) {
      const s = BigInt(seq);
      if (s < lo || s > hi || sentBySeq.has(seq)) continue;
      for (const g of got) {
        for (const record of g.records) {
          findings.push({
            kind: 'unexpected',
            record,
            bundles: [seq],
            detail: `bundle #${seq} received, never disclosed`,
          });
        }
      }
    }
  }
  return {
    sender: p.sender,
    receiver: p.receiver,
    bundlesDisclosed: sentBySeq.size,
    recordsDisclosed: disclosed.reduce((n, b) => n + b.records.length, 0),
    recordsMatched: matched,
    findings,
  };
}
