import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  aggregate,
  aggregateKey,
  contributesTo,
  type Aggregate,
  type SourceRecord,
} from '../../../../libs/correlation/src/index.js';
import {
  canonicalBytes,
  canonicalize,
  encryptTo,
  memberById,
  signCompact,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../../../../libs/protocol/src/index.js';
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { FederationContext } from '../federation/federation.context.js';
import type { FeedPayload } from '../feed/feed.payload.js';
import { HubStore, type FeedItemChange, type IndicatorKeyValue } from '../persistence/hub.store.js';
import { HubAuditService } from '../audit/hub-audit.service.js';

/** Keys recomputed per pass (and so items per feed message at most). */
export const PASS_KEYS = 500;

/**
 * The aggregation pass: takes the keys that ingest (or the expiry sweep) marked dirty, recomputes
 * their aggregates from the current records with the pure rules of libs/correlation, recomputes
 * every member's view of them (only the sources `evaluateOnward` lets reach that member), and
 * stores aggregates, view changes and the signed, encrypted feed messages that carry them in one
 * transaction. One pass at a time; the hub runs as one process.
 */
@Injectable()
export class AggregationService {
  private readonly log = new Logger(AggregationService.name);
  private running: Promise<number> | undefined;
  private again = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: HubStore,
    private readonly federation: FederationContext,
    @Inject(HUB_CLOCK) private readonly clock: Clock,
    private readonly audit: HubAuditService,
  ) {}

  /** Called after each pass that changed something (correlation snapshot, feed relay). */
  onChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Run passes until no key is dirty; concurrent callers share the run in progress. */
  run(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      do {
        this.again = false;
        for (;;) {
          const n = await this.pass();
          total += n;
          if (n === 0) break;
        }
      } while (this.again);
      return total;
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Apply `now` to what is stored: mark aggregates with an expired contribution, then run. */
  async sweep(): Promise<number> {
    await this.store.exclusive(() => this.store.markExpired(toRfc3339Ms(this.clock())));
    return this.run();
  }

  private country(origin: string): string {
    return memberById(this.federation.directory, origin)?.country ?? origin.toUpperCase();
  }

  private members(): string[] {
    return this.federation.directory.members
      .filter((m) => m.roles.includes('member') && m.status === 'active')
      .map((m) => m.id)
      .sort();
  }

  private pass(): Promise<number> {
    return this.store.exclusive(() => this.passUnlocked());
  }

  private async passUnlocked(): Promise<number> {
    const keys = await this.store.dirtyKeys(PASS_KEYS);
    if (keys.length === 0) return 0;
    const now = this.clock();
    const directory = this.federation.directory;
    const groups = new Map<string, SourceRecord[]>();
    const current = new Map<string, IndicatorRecord>();
    for (const k of keys) groups.set(aggregateKey(k.type, k.value), []);
    for (const text of await this.store.recordTextsForKeys(keys)) {
      const record = JSON.parse(text) as IndicatorRecord;
      current.set(`${record.origin}/${record.id}`, record);
      groups
        .get(aggregateKey(record.type, record.value))
        ?.push({ record, country: this.country(record.origin) });
    }
    const aggregates: Aggregate[] = [];
    const removed: IndicatorKeyValue[] = [];
    for (const k of keys) {
      const a = aggregate(groups.get(aggregateKey(k.type, k.value)) ?? [], now);
      if (a) aggregates.push(a);
      else removed.push(k);
    }
    const held = await this.store.feedHashes(keys);
    const feedChanges: FeedItemChange[] = [];
    const feedMessages: { member: string; seq: bigint; payload: string }[] = [];
    const feeds: { member: string; seq: bigint; upserts: Aggregate[]; removals: number }[] = [];
    const issuedAt = toRfc3339Ms(now);
    for (const member of this.members()) {
      const upserts: Aggregate[] = [];
      const removals: IndicatorKeyValue[] = [];
      for (const k of keys) {
        const sources = (groups.get(aggregateKey(k.type, k.value)) ?? []).filter((s) =>
          contributesTo(s.record, member, directory, now),
        );
        const view = aggregate(sources, now);
        const hash = view ? createHash('sha256').update(canonicalize(view)).digest('hex') : null;
        const before = held.get(`${member}|${k.type}|${k.value}`) ?? null;
        if (hash === before) continue;
        feedChanges.push({ member, type: k.type, value: k.value, hash });
        if (view) upserts.push(view);
        else removals.push({ type: k.type, value: k.value });
      }
      if (upserts.length === 0 && removals.length === 0) continue;
      const recipients = this.federation.encryptionRecipients(member, now);
      if (recipients.length === 0) {
        this.log.warn(`no encryption key for ${member}: its feed waits`);
        feedChanges.splice(
          0,
          feedChanges.length,
          ...feedChanges.filter((c) => c.member !== member),
        );
        continue;
      }
      const seq = (await this.store.lastFeedSeq(member)) + 1n;
      const payload: FeedPayload = {
        v: 1,
        from: 'hub',
        to: member,
        seq: String(seq),
        issuedAt,
        upserts,
        removals,
      };
      const jws = await signCompact(canonicalBytes(payload), 'feed', this.federation.signingKey);
      const jwe = await encryptTo(Buffer.from(jws, 'utf8'), recipients);
      feedMessages.push({ member, seq, payload: jwe });
      feeds.push({ member, seq, upserts, removals: removals.length });
    }
    // What each aggregate combined before the pass, for the log's combination and erasure entries.
    const before = new Map(
      (await this.store.aggregatesByKeys(keys)).map((a) => [aggregateKey(a.type, a.value), a]),
    );
    const events = this.audit.passEvents({
      before,
      after: aggregates,
      removed,
      current,
      feeds,
      now,
    });
    await this.audit.within(events, (hook) =>
      this.store.applyPass(
        { processed: keys, aggregates, removed, feedChanges, feedMessages, at: issuedAt },
        hook,
      ),
    );
    for (const l of this.listeners) l();
    return keys.length;
  }
}
