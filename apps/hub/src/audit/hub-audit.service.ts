import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { aggregateKey, type Aggregate } from '../../../../libs/correlation/src/index.js';
import { toRfc3339Ms, type IndicatorRecord } from '../../../../libs/protocol/src/index.js';
import {
  AuditError,
  AuditLog,
  checkpointMessageSize,
  openCosignature,
  recordRef,
  type AuditEvent,
  type CheckpointMessage,
} from '../../../../libs/audit/src/index.js';
import { HUB, subjectFor } from '../../../../libs/broker/src/index.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../ingest/publisher.js';
import { HubAuditStore, type HubLogCosignature } from './hub-audit.store.js';

const PRUNE_EVERY_MS = 6 * 3600 * 1000;
const MEMBER = /^[a-z][a-z0-9-]{0,31}$/;
const UUID = /^[0-9a-f-]{36}$/;

/** A record version as the log names it. */
export interface RecordVersion {
  origin: string;
  id: string;
  version: number;
}

/**
 * How an aggregate is named in the log without its value: base64url SHA-256 of its key
 * (`type` and normalized value). An auditor who holds a value computes the same digest to find
 * the aggregate's entries; the log itself never holds the value.
 */
export function aggregateDigest(type: string, value: string): string {
  return createHash('sha256').update(aggregateKey(type, value), 'utf8').digest('base64url');
}

function refs(rs: readonly RecordVersion[]): string[] {
  return rs.map((r) => recordRef(r.origin, r.id, r.version));
}

/** Every `{origin, id, version}` in an API response (aggregate sources, networks, records). */
export function recordsIn(value: unknown, out = new Map<string, RecordVersion>(), depth = 0) {
  if (depth > 8 || typeof value !== 'object' || value === null) return out;
  if (Array.isArray(value)) {
    for (const v of value) recordsIn(v, out, depth + 1);
    return out;
  }
  const o = value as Record<string, unknown>;
  if (
    typeof o.origin === 'string' &&
    MEMBER.test(o.origin) &&
    typeof o.id === 'string' &&
    UUID.test(o.id) &&
    typeof o.version === 'number' &&
    Number.isSafeInteger(o.version) &&
    o.version > 0
  ) {
    out.set(recordRef(o.origin, o.id, o.version), {
      origin: o.origin,
      id: o.id,
      version: o.version,
    });
  }
  for (const v of Object.values(o)) recordsIn(v, out, depth + 1);
  return out;
}

/**
 * The hub's own tamper-evident log (docs/audit.md, "The hub's log"): libs/audit's AuditLog over
 * the hub's database, signed with the hub's federation key. Receipts, rejections, combinations,
 * erasures and disclosures (feed messages) are written inside the transaction of the operation;
 * consultations and the auditor's calls on their own. A checkpoint is signed every
 * FEDINTEL_HUB_AUDIT_CHECKPOINT_INTERVAL_MS when the log grew.
 */
@Injectable()
export class HubAuditService
  extends AuditLog
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('audit');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastPrune = 0;

  /** The newest checkpoint message not yet published to each member (retried every pass). */
  private readonly unpublished = new Map<string, CheckpointMessage>();

  constructor(
    private readonly hubStore: HubAuditStore,
    private readonly federation: FederationContext,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
  ) {
    const logger = new Logger('audit');
    super(hubStore, {
      logId: HUB,
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

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.audit.checkpointIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.flush();
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.checkpointPass()
      .catch((e: unknown) => {
        this.logger.warn(`checkpoint pass failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /**
   * Prune when due, sign a checkpoint if the log grew, and publish it to every active member's
   * witness on `fed.v1.hub.<member>.checkpoints` (ADR 0061). A member the publish failed for gets
   * the newest message on the next pass (its proofs cover the last few sizes).
   */
  async checkpointPass(now = new Date()): Promise<void> {
    if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      await this.prune(now);
    }
    const fresh = await this.checkpoint(now);
    if (fresh) {
      for (const m of this.federation.directory.members) {
        if (m.id !== HUB && m.status === 'active') this.unpublished.set(m.id, fresh);
      }
    }
    for (const [member, msg] of [...this.unpublished]) {
      const m = this.federation.directory.members.find((x) => x.id === member);
      if (m?.status !== 'active') {
        this.unpublished.delete(member); // suspended or removed since: nothing more to send
        continue;
      }
      const size = checkpointMessageSize(msg);
      try {
        await this.publisher.publish(
          subjectFor(HUB, member, 'checkpoints'),
          Buffer.from(JSON.stringify(msg), 'utf8'),
          { msgId: `checkpoint.hub.${member}.${size}` },
        );
        if (this.unpublished.get(member) === msg) this.unpublished.delete(member);
      } catch (e) {
        this.logger.warn(
          `checkpoint hub@${size} not published to ${member}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
  }

  /**
   * A member's cosignature of one of our checkpoints (on `fed.v1.<member>.hub.checkpoints`):
   * kept when its signature is the member's and it names a checkpoint we signed, size and root.
   * @throws AuditError otherwise (the caller drops it)
   */
  async cosigned(member: string, jws: string, now = new Date()): Promise<void> {
    const c = await openCosignature(jws, this.federation.receiveResolver(now, member));
    const mine = c.log === HUB ? await this.hubStore.checkpointAt(c.size) : undefined;
    if (c.witness !== member || !mine || mine.root !== c.root) {
      throw new AuditError(
        'INVALID_CHECKPOINT',
        `cosignature by ${member} of ${c.log}@${c.size} matches no checkpoint of the hub's log`,
      );
    }
    await this.hubStore.addMemberCosignature(c.size, member, jws, c.witnessedAt);
  }

  /** The newest checkpoint of the hub's log and the members' cosignatures of recent ones. */
  async witnessedBy(limit = 200): Promise<{
    newest: { size: number; root: string; at: string } | null;
    cosignatures: HubLogCosignature[];
  }> {
    const newest = (await this.hubStore.checkpoints(1, true))[0];
    return {
      newest: newest ? { size: newest.size, root: newest.root, at: newest.at } : null,
      cosignatures: await this.hubStore.memberCosignatures(limit),
    };
  }

  // ---- ingest ------------------------------------------------------------------------------

  /** A member's bundle stored (receipt) and the records of it refused (rejection, by code). */
  receivedEvents(
    origin: string,
    seq: string,
    root: string,
    accepted: readonly IndicatorRecord[],
    rejected: readonly { record: IndicatorRecord; code: string }[],
    now: Date,
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
        records: refs(accepted),
        detail: { accepted: accepted.length, rejected: rejected.length },
      },
    ];
    const byCode = new Map<string, string[]>();
    for (const r of rejected) {
      byCode.set(r.code, [...(byCode.get(r.code) ?? []), ...refs([r.record])]);
    }
    for (const [code, rs] of byCode) {
      out.push({
        at,
        actor: origin,
        op: 'rejection',
        partner: origin,
        bundle,
        reason: code,
        records: rs,
      });
    }
    return out;
  }

  // ---- aggregation ---------------------------------------------------------------------------

  /**
   * One aggregation pass: a `combination` entry per aggregate it created, changed or removed
   * (the aggregate by digest, the records it now combines by reference), an `erasure` entry for
   * the records that left an aggregate because they were retracted or expired, and a
   * `disclosure` entry per feed message committed for a member.
   */
  passEvents(p: {
    before: ReadonlyMap<string, Aggregate>;
    after: readonly Aggregate[];
    removed: readonly { type: string; value: string }[];
    current: ReadonlyMap<string, IndicatorRecord>;
    feeds: readonly { member: string; seq: bigint; upserts: Aggregate[]; removals: number }[];
    now: Date;
  }): AuditEvent[] {
    const at = toRfc3339Ms(p.now);
    const out: AuditEvent[] = [];
    const left = new Map<string, RecordVersion[]>();
    const leaving = (before: Aggregate | undefined, kept: readonly RecordVersion[]) => {
      if (!before) return;
      const still = new Set(kept.map((k) => `${k.origin}/${k.id}`));
      for (const s of before.sources) {
        if (still.has(`${s.origin}/${s.id}`)) continue;
        const rec = p.current.get(`${s.origin}/${s.id}`);
        // A record not found under this key moved to another aggregate (its value changed):
        // that is a combination elsewhere, not an erasure.
        const reason = !rec
          ? undefined
          : rec.status === 'retracted'
            ? 'retraction'
            : Date.parse(rec.validUntil) <= p.now.getTime()
              ? 'expiry'
              : undefined;
        if (reason) left.set(reason, [...(left.get(reason) ?? []), s]);
      }
    };
    for (const a of p.after) {
      const key = aggregateKey(a.type, a.value);
      const before = p.before.get(key);
      leaving(before, a.sources);
      out.push({
        at,
        actor: 'system',
        op: 'combination',
        reason: before ? 'changed' : 'created',
        records: refs(a.sources),
        detail: { aggregate: aggregateDigest(a.type, a.value), sources: a.sources.length },
      });
    }
    for (const k of p.removed) {
      const key = aggregateKey(k.type, k.value);
      leaving(p.before.get(key), []);
      out.push({
        at,
        actor: 'system',
        op: 'combination',
        reason: 'removed',
        records: [],
        detail: { aggregate: aggregateDigest(k.type, k.value), sources: 0 },
      });
    }
    for (const [reason, rs] of left) {
      out.push({
        at,
        actor: 'system',
        op: 'erasure',
        reason,
        records: refs(rs),
        detail: { count: rs.length },
      });
    }
    for (const f of p.feeds) {
      const cited = recordsIn(f.upserts);
      out.push({
        at,
        actor: 'system',
        op: 'disclosure',
        partner: f.member,
        records: [...cited.keys()],
        detail: { feed: f.seq.toString(), upserts: f.upserts.length, removals: f.removals },
      });
    }
    return out;
  }

  // ---- operator API --------------------------------------------------------------------------

  /** An operator API read, with the user, the stated purpose and the records it returned. */
  async consulted(
    actor: string,
    purpose: string,
    route: string,
    response: unknown,
    now = new Date(),
  ): Promise<void> {
    await this.append({
      at: toRfc3339Ms(now),
      actor,
      op: 'consultation',
      purpose,
      records: [...recordsIn(response).keys()],
      detail: { route },
    });
  }
}
