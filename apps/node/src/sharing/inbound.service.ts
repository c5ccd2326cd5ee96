import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  isProtocolError,
  openBundle,
  openReceipt,
  toRfc3339Ms,
  type Receipt,
} from '../../../../libs/protocol/src/index.js';
import {
  MAX_INBOUND_BYTES,
  checkArrival,
  checkInboundSize,
  deadLetterMessage,
  recordRefusal,
  refusedRecordLetter,
  sendReceipt,
  type InboundOutcome,
} from '../../../../libs/federation/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore, type ReceivedRecord } from '../persistence/node.store.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';
import { AuditService } from '../audit/audit.service.js';

/**
 * Receiving: every check a receiver owes the federation (decryption, signature against the
 * directory, addressee, sequence, per-record scope and validity), then one transaction per bundle,
 * then a signed receipt. Invalid input is dead-lettered with its reason and never stored as valid;
 * the caller acks in every case but a transient failure, so nothing is redelivered forever.
 */
@Injectable()
export class InboundService {
  private readonly log = new Logger(InboundService.name);

  constructor(
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
    private readonly audit: AuditService,
  ) {}

  async receiveBundle(msg: InboundMessage, now = new Date()): Promise<InboundOutcome> {
    const me = this.federation.memberId;
    try {
      checkInboundSize(msg);
      const plain = await this.federation.decrypt(Buffer.from(msg.data).toString('utf8'));
      const opened = await openBundle(
        plain,
        this.federation.receiveResolver(now, msg.origin || undefined),
        {
          expectedAddressee: me,
          maxBytes: MAX_INBOUND_BYTES,
          // Proofs are rebuilt on request from the stored leaf hashes (NodeStore.history).
          withProofs: false,
        },
      );
      const { header } = opened;
      const arrival = await checkArrival(header, msg, this.store, (m) => this.log.warn(m));
      if (arrival.duplicate) return { status: 'duplicate', accepted: 0, rejected: 0 };
      const { seq, gap } = arrival;

      const accepted: ReceivedRecord[] = [];
      const rejected: { index: number; code: string }[] = [];
      const rejectedRecords: { record: (typeof opened.records)[number]; code: string }[] = [];
      const receivedAt = toRfc3339Ms(now);
      const to = { directory: this.federation.directory, recipient: me, now };
      // Each record keeps what verifies it alone later: its position in the bundle, whose signed
      // header and leaf hashes are stored once with the bundle (ADR 0049).
      const bundleRef = `{"bundle":"${header.seq}","index":`;
      for (const [index, record] of opened.records.entries()) {
        const proofJson = `${bundleRef}${index}}`;
        const text = opened.recordTexts[index] ?? '';
        const refusal = recordRefusal(record, to);
        if (refusal) {
          rejected.push({ index, code: refusal.code });
          rejectedRecords.push({ record, code: refusal.code });
          await this.store.addDeadLetter(
            refusedRecordLetter(msg, header, index, { record, text, ...refusal }, receivedAt),
          );
        } else {
          accepted.push({ record, text, proofJson });
        }
      }
      const events = this.audit.receivedEvents(
        header.origin,
        header.seq,
        header.root,
        accepted.map((a) => a.record),
        rejectedRecords,
        now,
      );
      await this.audit.within(events, (audit) =>
        this.store.storeReceivedBundle(
          {
            origin: header.origin,
            seq,
            root: header.root,
            count: header.count,
            kid: opened.kid,
            header: opened.headerJws,
            leafHashes: opened.leafHashes,
            receivedAt,
            records: accepted,
            gap,
          },
          audit,
        ),
      );
      await this.sendReceipt({
        v: 1,
        from: me,
        to: header.origin,
        seq: header.seq,
        root: header.root,
        count: header.count,
        accepted: accepted.length,
        rejected,
        receivedAt,
      });
      return { status: 'stored', accepted: accepted.length, rejected: rejected.length };
    } catch (e) {
      // A ProtocolError is kept as a dead letter; anything else is thrown again (redelivered).
      return deadLetterMessage(msg, e, now, {
        audit: this.audit,
        store: this.store,
        warn: (m) => this.log.warn(m),
      });
    }
  }

  private sendReceipt(r: Receipt): Promise<void> {
    return sendReceipt(r, this.federation.signingKey, this.publisher, (m) => this.log.warn(m));
  }

  /** A partner's signed receipt for one of our bundles. */
  async receiveReceipt(msg: InboundMessage, now = new Date()): Promise<InboundOutcome> {
    try {
      const jws = Buffer.from(msg.data).toString('utf8');
      const receipt = await openReceipt(
        jws,
        this.federation.receiveResolver(now, msg.origin || undefined),
      );
      if (receipt.to !== this.federation.memberId || receipt.from !== msg.origin) {
        throw new ProtocolError(
          'MISADDRESSED',
          `receipt from ${receipt.from} to ${receipt.to} on ${msg.subject}`,
        );
      }
      const events = this.audit.acknowledgedEvents(
        receipt.from,
        receipt.seq,
        receipt.root,
        receipt.accepted,
        receipt.rejected.length,
        now,
      );
      const ok = await this.audit.within(events, (audit) =>
        this.store.markAcknowledged(receipt.from, BigInt(receipt.seq), jws, audit),
      );
      if (!ok)
        throw new ProtocolError('BUNDLE_MALFORMED', `receipt for unknown bundle #${receipt.seq}`);
      return { status: 'stored', accepted: 1, rejected: 0 };
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      await this.store.addDeadLetter({
        subject: msg.subject,
        origin: msg.origin || null,
        code: e.code,
        detail: e.message,
        data: msg.data,
        receivedAt: toRfc3339Ms(now),
      });
      return { status: 'dead-lettered', accepted: 0, rejected: 0, code: e.code };
    }
  }
}
