import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toRfc3339Ms, type IndicatorRecord } from '../../../../libs/protocol/src/index.js';
import {
  AuditError,
  AuditLog,
  openCosignature,
  recordRef,
  type AuditEvent,
  type AuditOperation,
} from '../../../../libs/audit/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { AuditStore } from './audit.store.js';

export type { AuditReader, CheckpointMessage } from '../../../../libs/audit/src/index.js';

/** What an entry about issued versions needs of each record. */
export type VersionRef = Pick<IndicatorRecord, 'origin' | 'id' | 'version' | 'status'>;

/**
 * The node's tamper-evident log (docs/audit.md): libs/audit's AuditLog over the node's database,
 * and one method per logged operation. Operations that change data write their entries inside
 * their own transaction ({@link AuditLog.within} with a NodeStore method's `audit` hook); reads
 * append on their own, batched.
 */
@Injectable()
export class AuditService extends AuditLog implements OnModuleInit, OnApplicationShutdown {
  constructor(
    protected override readonly store: AuditStore,
    private readonly federation: FederationContext,
    @Inject(NODE_CONFIG) config: NodeConfig,
  ) {
    const logger = new Logger('audit');
    super(store, {
      get logId() {
        return federation.memberId;
      },
      get signingKey() {
        return federation.signingKey;
      },
      get directoryJws() {
        return federation.directoryJws;
      },
      retentionDays: config.audit.retentionDays,
      logger: { log: (m) => logger.log(m), error: (m) => logger.error(m) },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  get memberId(): string {
    return this.federation.memberId;
  }

  // ---- one call per operation (the one-liners in indicators/ and sharing/) -----------------
  // `xxxEvents` build an operation's entries for {@link AuditLog.within} (written inside the
  // operation's transaction); the plain forms append them on their own.

  /** Collection (v1), alteration (later versions) or erasure (retraction) of own records. */
  versionsIssuedEvents(
    actor: string,
    records: readonly VersionRef[],
    now = new Date(),
  ): AuditEvent[] {
    const groups = new Map<string, { op: AuditOperation; reason?: string; refs: string[] }>();
    for (const r of records) {
      const op: AuditOperation =
        r.status === 'retracted' ? 'erasure' : r.version === 1 ? 'collection' : 'alteration';
      const g = groups.get(op) ?? {
        op,
        ...(op === 'erasure' ? { reason: 'retraction' } : {}),
        refs: [],
      };
      g.refs.push(recordRef(r.origin, r.id, r.version));
      groups.set(op, g);
    }
    const at = toRfc3339Ms(now);
    return [...groups.values()].map((g) => ({
      at,
      actor,
      op: g.op,
      records: g.refs,
      ...(g.reason ? { reason: g.reason } : {}),
    }));
  }

  /** Records whose `validUntil` passed (the expiry sweep), in entries of at most 1000. */
  expiredEvents(
    records: readonly { origin: string; id: string; version: number }[],
    now = new Date(),
  ): AuditEvent[] {
    const at = toRfc3339Ms(now);
    const out: AuditEvent[] = [];
    for (let i = 0; i < records.length; i += 1000) {
      const part = records.slice(i, i + 1000);
      out.push({
        at,
        actor: 'system',
        op: 'erasure',
        reason: 'expiry',
        records: part.map((r) => recordRef(r.origin, r.id, r.version)),
        detail: { count: part.length },
      });
    }
    return out;
  }

  /** A read of records through the API, with the stated purpose. */
  async consulted(
    actor: string,
    purpose: string,
    records: readonly { origin: string; id: string; version: number }[],
    detail: Record<string, string | number | boolean>,
    now = new Date(),
  ): Promise<void> {
    await this.append({
      at: toRfc3339Ms(now),
      actor,
      op: 'consultation',
      purpose,
      records: records.map((r) => recordRef(r.origin, r.id, r.version)),
      detail,
    });
  }

  /**
   * A bundle stored in the outbox for a partner: recipient, agreement(s), bundle digest. Its
   * items are read back from the outbox (ids, versions, agreements) with `m`, inside the
   * transaction that attaches them, so the relay hands over nothing but the bundle's identity.
   */
  async disclosureEvents(
    m: EntityManager | undefined,
    addressee: string,
    seq: bigint,
    root: string,
    now = new Date(),
  ): Promise<AuditEvent[]> {
    const items = await this.store.bundleItems(addressee, seq.toString().padStart(20, '0'), m);
    const agreements = [...new Set(items.map((i) => i.agreement))].sort();
    return [
      {
        at: toRfc3339Ms(now),
        actor: 'system',
        op: 'disclosure',
        partner: addressee,
        ...(agreements.length === 1 ? { agreement: agreements[0] } : {}),
        bundle: { seq: seq.toString(), root },
        records: items.map((i) => recordRef(this.memberId, i.recordId, i.version)),
        detail: { count: items.length, agreements: agreements.join(',') },
      },
    ];
  }

  /** A partner's signed receipt for one of our bundles. */
  acknowledgedEvents(
    partner: string,
    seq: string,
    root: string,
    accepted: number,
    rejected: number,
    now = new Date(),
  ): AuditEvent[] {
    return [
      {
        at: toRfc3339Ms(now),
        actor: partner,
        op: 'disclosure',
        reason: 'acknowledged',
        partner,
        bundle: { seq, root },
        detail: { accepted, rejected },
      },
    ];
  }

  /** A bundle received from a partner: what was accepted (receipt) and rejected (with codes). */
  receivedEvents(
    origin: string,
    seq: string,
    root: string,
    accepted: readonly IndicatorRecord[],
    rejected: readonly { record: IndicatorRecord; code: string }[],
    now = new Date(),
  ): AuditEvent[] {
    const at = toRfc3339Ms(now);
    const bundle = { seq, root };
    const out: AuditEvent[] = [
      {
        at,
        actor: origin,
        op: 'receipt',
        partner: origin,
        bundle,
        records: accepted.map((r) => recordRef(r.origin, r.id, r.version)),
        detail: { accepted: accepted.length, rejected: rejected.length },
      },
    ];
    const byCode = new Map<string, string[]>();
    for (const r of rejected) {
      byCode.set(r.code, [
        ...(byCode.get(r.code) ?? []),
        recordRef(r.record.origin, r.record.id, r.record.version),
      ]);
    }
    for (const [code, refs] of byCode) {
      out.push({
        at,
        actor: origin,
        op: 'rejection',
        partner: origin,
        bundle,
        reason: code,
        records: refs,
      });
    }
    return out;
  }

  /** A witness's cosignature, kept with the checkpoint it signs. */
  async cosigned(jws: string, now = new Date()): Promise<boolean> {
    const c = await openCosignature(jws, this.federation.receiveResolver(now, 'hub'));
    const mine = (await this.store.checkpoints()).find((k) => k.size === c.size);
    if (c.log !== this.memberId || !mine || mine.root !== c.root) {
      throw new AuditError(
        'INVALID_CHECKPOINT',
        `cosignature of ${c.log}@${c.size} matches no checkpoint of ours`,
      );
    }
    await this.store.setCosignature(c.size, jws);
    return true;
  }
}
