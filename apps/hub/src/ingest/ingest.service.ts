import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  decryptFor,
  evaluateDisclosure,
  isProtocolError,
  openBundle,
  toRfc3339Ms,
  type IndicatorRecord,
  type Receipt,
} from '../../../../libs/protocol/src/index.js';
import { HUB } from '../../../../libs/broker/src/index.js';
import { sendReceipt } from '../../../../libs/federation/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { HubStore, type AcceptedRecord } from '../persistence/hub.store.js';
import { HubAuditService } from '../audit/hub-audit.service.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';

/** Largest inbound message accepted (bytes); larger ones are dead-lettered unread. */
export const MAX_INBOUND_BYTES = 16 * 1024 * 1024;

export interface IngestOutcome {
  status: 'stored' | 'duplicate' | 'dead-lettered';
  accepted: number;
  rejected: number;
  code?: string;
}

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

  receiveBundle(msg: InboundMessage): Promise<IngestOutcome> {
    // Replay checks, version checks and the write form one unit against the aggregation pass.
    return this.store.exclusive(() => this.receiveUnlocked(msg));
  }

  private async receiveUnlocked(msg: InboundMessage): Promise<IngestOutcome> {
    const now = this.clock();
    try {
      if (msg.data.length > MAX_INBOUND_BYTES) {
        throw new ProtocolError(
          'JSON_TOO_LARGE',
          `message of ${msg.data.length} bytes exceeds ${MAX_INBOUND_BYTES}`,
        );
      }
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
      if (header.origin !== msg.origin) {
        throw new ProtocolError(
          'MISADDRESSED',
          `bundle signed by ${header.origin} arrived on the subject of ${msg.origin || '?'}`,
        );
      }
      const seq = BigInt(header.seq);
      const known = await this.store.findInboundBundle(header.origin, seq);
      if (known) {
        if (known.root === header.root && msg.redelivered) {
          return { status: 'duplicate', accepted: 0, rejected: 0 };
        }
        throw new ProtocolError(
          'REPLAY',
          `bundle ${header.origin}#${header.seq} was already accepted${known.root === header.root ? '' : ' with another root'}`,
        );
      }
      const last = await this.store.lastInboundSeq(header.origin);
      const gap = seq > last + 1n ? { from: last + 1n, to: seq - 1n } : null;
      if (gap) this.log.warn(`sequence gap from ${header.origin}: ${gap.from}..${gap.to} missing`);

      const stored = await this.store.currentVersions(
        header.origin,
        opened.records.map((r) => r.id),
      );
      const accepted: AcceptedRecord[] = [];
      const rejected: { index: number; code: string }[] = [];
      const rejectedRecords: { record: IndicatorRecord; code: string }[] = [];
      const receivedAt = toRfc3339Ms(now);
      const nowMs = now.getTime();
      const proofs = opened.proofs ?? [];
      for (const [index, record] of opened.records.entries()) {
        const text = opened.recordTexts[index] ?? '';
        let code: string | undefined;
        let detail = '';
        const have = stored.get(record.id);
        if (have !== undefined && have >= record.version) {
          code = 'STALE_VERSION';
          detail = `the hub holds v${have}`;
        } else if (record.status === 'active') {
          if (Date.parse(record.validUntil) <= nowMs) code = 'EXPIRED';
          else {
            const d = evaluateDisclosure({
              record,
              directory: this.federation.directory,
              recipient: HUB,
              now,
            });
            if (!d.allowed) {
              code = 'SCOPE_DENIED';
              detail = `${d.reason}: ${d.detail}`;
            }
          }
        }
        if (code) {
          rejected.push({ index, code });
          rejectedRecords.push({ record, code });
          await this.store.addDeadLetter({
            subject: msg.subject,
            origin: header.origin,
            code,
            detail: `record ${record.id} v${record.version} (index ${index} of bundle #${header.seq})${detail ? `: ${detail}` : ''}`,
            data: Buffer.from(text, 'utf8'),
            receivedAt,
          });
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
      if (!isProtocolError(e)) throw e; // transient (database, broker): redeliver
      const rejection = this.audit.rejectedMessageEvents(msg.origin || null, e.code, now);
      await this.audit.within(rejection, (hook) =>
        this.store.addDeadLetter(
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
      this.log.warn(`dead-lettered ${msg.subject} #${msg.seq}: ${e.code} ${e.message}`);
      return { status: 'dead-lettered', accepted: 0, rejected: 0, code: e.code };
    }
  }

  private sendReceipt(r: Receipt): Promise<void> {
    return sendReceipt(r, this.federation.signingKey, this.publisher, (m) => this.log.warn(m));
  }
}
