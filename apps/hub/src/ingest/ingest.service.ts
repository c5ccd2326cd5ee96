import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  decryptFor,
  openBundle,
  toRfc3339Ms,
  type IndicatorRecord,
  type Receipt,
} from '../../../../libs/protocol/src/index.js';
import { HUB } from '../../../../libs/broker/src/index.js';
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
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { HubStore, type AcceptedRecord } from '../persistence/hub.store.js';
import { HubAuditService } from '../audit/hub-audit.service.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';

/** Largest inbound message accepted (bytes); larger ones are dead-lettered unread. */

/**
 * Hub ingest: every check a receiving node makes (decryption with the hub key, signature against
 * the directory and key status, addressee `hub` or `all`, sequence replay and gaps, per-record
 * validity and scope with recipient `hub`), then one transaction per bundle that stores each
 * accepted version with its signed header and inclusion proof and marks the affected aggregates
 * for recomputation, then a signed receipt. Invalid input is dead-lettered with its reason; the
 * caller acks in every case but a transient failure, so nothing is redelivered forever.
 */
@Injectable()
export class IngestService {
  private readonly log = new Logger(IngestService.name);
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: HubStore,
    private readonly federation: FederationContext,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
    @Inject(HUB_CLOCK) private readonly clock: Clock,
    private readonly audit: HubAuditService,
  ) {}

  /** Called after each stored bundle (the aggregation pass subscribes to run at once). */
  onStored(listener: () => void): void {
    this.listeners.push(listener);
  }

  receiveBundle(msg: InboundMessage): Promise<InboundOutcome> {
    // Replay checks, version checks and the write form one unit against the aggregation pass.
    return this.store.exclusive(() => this.receiveUnlocked(msg));
  }

  private async receiveUnlocked(msg: InboundMessage): Promise<InboundOutcome> {
    const now = this.clock();
    try {
      checkInboundSize(msg);
      const plain = await decryptFor(
        Buffer.from(msg.data).toString('utf8'),
        this.federation.encryptionKey,
      );
      const opened = await openBundle(
        plain,
        this.federation.receiveResolver(now, msg.origin || undefined),
        { expectedAddressee: [HUB, 'all'], maxBytes: MAX_INBOUND_BYTES, withProofs: true },
      );
      const { header } = opened;
      const arrival = await checkArrival(header, msg, this.store, (m) => this.log.warn(m));
      if (arrival.duplicate) return { status: 'duplicate', accepted: 0, rejected: 0 };
      const { seq, gap } = arrival;

      const stored = await this.store.currentVersions(
        header.origin,
        opened.records.map((r) => r.id),
      );
      const accepted: AcceptedRecord[] = [];
      const rejected: { index: number; code: string }[] = [];
      const rejectedRecords: { record: IndicatorRecord; code: string }[] = [];
      const receivedAt = toRfc3339Ms(now);
      const to = { directory: this.federation.directory, recipient: HUB, now };
      const proofs = opened.proofs ?? [];
      for (const [index, record] of opened.records.entries()) {
        const text = opened.recordTexts[index] ?? '';
        const have = stored.get(record.id);
        const refusal =
          have !== undefined && have >= record.version
            ? { code: 'STALE_VERSION', detail: `the hub holds v${have}` }
            : recordRefusal(record, to);
        if (refusal) {
          rejected.push({ index, code: refusal.code });
          rejectedRecords.push({ record, code: refusal.code });
          await this.store.addDeadLetter(
            refusedRecordLetter(msg, header, index, { record, text, ...refusal }, receivedAt),
          );
        } else {
          accepted.push({ record, text, proofJson: JSON.stringify(proofs[index] ?? null) });
          stored.set(record.id, record.version);
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
      await this.audit.within(events, (hook) =>
        this.store.storeAcceptedBundle(
          {
            origin: header.origin,
            seq,
            root: header.root,
            count: header.count,
            kid: opened.kid,
            receivedAt,
            records: accepted,
            gap,
          },
          hook,
        ),
      );
      for (const l of this.listeners) l();
      await this.sendReceipt({
        v: 1,
        from: HUB,
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
}
