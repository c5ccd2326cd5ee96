import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  evaluateDisclosure,
  isProtocolError,
  openBundle,
  openReceipt,
  toRfc3339Ms,
  type Receipt,
} from '../../../../libs/protocol/src/index.js';
import { sendReceipt } from '../../../../libs/federation/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore, type ReceivedRecord } from '../persistence/node.store.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';
import { AuditService } from '../audit/audit.service.js';

/** Largest inbound message accepted (bytes); larger ones are dead-lettered unread. */
export const MAX_INBOUND_BYTES = 16 * 1024 * 1024;

export interface InboundOutcome {
  status: 'stored' | 'duplicate' | 'dead-lettered';
  accepted: number;
  rejected: number;
  code?: string;
}

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
      if (msg.data.length > MAX_INBOUND_BYTES) {
        throw new ProtocolError(
          'JSON_TOO_LARGE',
          `message of ${msg.data.length} bytes exceeds ${MAX_INBOUND_BYTES}`,
        );
      }
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

      const accepted: ReceivedRecord[] = [];
      const rejected: { index: number; code: string }[] = [];
      const rejectedRecords: { record: (typeof opened.records)[number]; code: string }[] = [];
      const receivedAt = toRfc3339Ms(now);
      const nowMs = now.getTime();
      // Each record keeps what verifies it alone later: its position in the bundle, whose signed
      // header and leaf hashes are stored once with the bundle (ADR 0049).
      const bundleRef = `{"bundle":"${header.seq}","index":`;
      for (const [index, record] of opened.records.entries()) {
        const proofJson = `${bundleRef}${index}}`;
        const text = opened.recordTexts[index] ?? '';
        let code: string | undefined;
        if (record.status === 'active') {
          if (Date.parse(record.validUntil) <= nowMs) code = 'EXPIRED';
          else {
            const d = evaluateDisclosure({
              record,
              directory: this.federation.directory,
              recipient: me,
              now,
            });
            if (!d.allowed) code = 'SCOPE_DENIED';
          }
        }
        if (code) {
          rejected.push({ index, code });
          rejectedRecords.push({ record, code });
          await this.store.addDeadLetter({
            subject: msg.subject,
            origin: header.origin,
            code,
            detail: `record ${record.id} v${record.version} (index ${index} of bundle #${header.seq})`,
            data: Buffer.from(text, 'utf8'),
            receivedAt,
          });
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
      if (!isProtocolError(e)) throw e; // transient (database, broker): redeliver
      const rejection = this.audit.rejectedMessageEvents(msg.origin || null, e.code, now);
      await this.audit.within(rejection, (audit) =>
        this.store.addDeadLetter(
          {
            subject: msg.subject,
            origin: msg.origin || null,
            code: e.code,
            detail: e.message,
            data: msg.data,
            receivedAt: toRfc3339Ms(now),
          },
          audit,
        ),
      );
      this.log.warn(`dead-lettered ${msg.subject} #${msg.seq}: ${e.code} ${e.message}`);
      return { status: 'dead-lettered', accepted: 0, rejected: 0, code: e.code };
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
