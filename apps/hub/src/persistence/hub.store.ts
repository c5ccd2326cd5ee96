import { Inject, Injectable } from '@nestjs/common';
import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
import type { AuditHook } from '../../../../libs/audit/src/index.js';
import {
  deadLetterRow,
  insertRows,
  newestPerRecord,
  type DeadLetterFields,
  type RowColumn,
} from '../../../../libs/persistence/src/index.js';
import type { Aggregate } from '../../../../libs/correlation/src/index.js';
import type { IndicatorRecord } from '../../../../libs/protocol/src/index.js';
import {
  HubDeadLetterRow,
  HubFeedMessageRow,
  HubInboundBundleRow,
  HubSequenceGapRow,
} from './entities.js';

export const HUB_DATA_SOURCE = Symbol('HUB_DATA_SOURCE');

const HUB_VERSION_COLUMNS: readonly RowColumn[] = [
  ['origin', 'text'],
  ['record_id', 'text'],
  ['version', 'integer'],
  ['record_text', 'text'],
  ['proof_json', 'text'],
  ['received_at', 'text'],
];

const HUB_RECORD_COLUMNS: readonly RowColumn[] = [
  ['origin', 'text'],
  ['record_id', 'text'],
  ['version', 'integer'],
  ['status', 'text'],
  ['type', 'text'],
  ['value', 'text'],
  ['valid_until', 'text'],
  ['has_relations', 'integer'],
  ['record_text', 'text'],
  ['received_at', 'text'],
];

const AGGREGATE_COLUMNS: readonly RowColumn[] = [
  ['type', 'text'],
  ['value', 'text'],
  ['source_count', 'integer'],
  ['country_count', 'integer'],
  ['countries', 'text'],
  ['categories', 'text'],
  ['confidence', 'integer'],
  ['first_seen', 'text'],
  ['last_seen', 'text'],
  ['next_expiry', 'text'],
  ['aggregate_json', 'text'],
];

export interface IndicatorKeyValue {
  type: string;
  value: string;
}

/** A dirty key and the stamp of its latest mark. */
export interface DirtyKey extends IndicatorKeyValue {
  stamp: number;
}

export interface AcceptedRecord {
  record: IndicatorRecord;
  text: string;
  proofJson: string;
}

export interface DeadLetter {
  id: number;
  subject: string;
  origin: string | null;
  code: string;
  detail: string;
  size: number;
  receivedAt: string;
}

export interface AggregateFilter {
  type?: string;
  valuePrefix?: string;
  country?: string;
  category?: string;
  minSources?: number;
}

/** A feed item change for one member: `hash` null means "removed from the member's view". */
export interface FeedItemChange {
  member: string;
  type: string;
  value: string;
  hash: string | null;
}

export interface PendingFeedMessage {
  member: string;
  seq: bigint;
  payload: string;
}

function padSeq(seq: bigint): string {
  return seq.toString().padStart(20, '0');
}

function list(items: readonly string[]): string {
  return `,${items.join(',')},`;
}

/** `LIKE` pattern for a literal prefix (escapes `%`, `_` and the escape character). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The hub's repository: the only code that touches TypeORM. Each method is one atomic unit of
 * work, so a service never holds a transaction across an await on the network.
 */
@Injectable()
export class HubStore {
  private readonly pg: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@Inject(HUB_DATA_SOURCE) private readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  /**
   * Runs `fn` alone among the hub's read-modify-write units (ingest of one bundle, one aggregation
   * pass). With SQLite, TypeORM shares one connection, so two concurrent transactions would
   * interleave on it; with PostgreSQL it keeps a pass's reads and writes consistent.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** `?` placeholders become `$n` on PostgreSQL. */
  private sql(text: string): string {
    if (!this.pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  private async q<T>(text: string, params: unknown[] = [], m?: EntityManager): Promise<T[]> {
    const rows: T[] = await (m ?? this.ds.manager).query<T[]>(this.sql(text), params);
    return rows;
  }

  // ---- ingest -----------------------------------------------------------------------------------

  async findInboundBundle(origin: string, seq: bigint): Promise<{ root: string } | null> {
    const row = await this.ds
      .getRepository(HubInboundBundleRow)
      .findOneBy({ origin, seq: padSeq(seq) });
    return row ? { root: row.root } : null;
  }

  async lastInboundSeq(origin: string): Promise<bigint> {
    const rows = await this.q<{ seq: string | null }>(
      'SELECT MAX(seq) AS seq FROM hub_inbound_bundle WHERE origin = ?',
      [origin],
    );
    const s = rows[0]?.seq;
    return s ? BigInt(s) : 0n;
  }

  /** Stored current version of each record id of `origin` (absent when unknown). */
  async currentVersions(origin: string, ids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = await this.q<{ record_id: string; version: number }>(
        `SELECT record_id, version FROM hub_record WHERE origin = ? AND record_id IN (${part
          .map(() => '?')
          .join(',')})`,
        [origin, ...part],
      );
      for (const r of rows) out.set(r.record_id, Number(r.version));
    }
    return out;
  }

  /**
   * Store the accepted records of one bundle (every version with its proof; the current version
   * only when newer), its sequence entry and any gap, and mark the affected keys (old and new
   * value of an updated record) for recomputation: all in one transaction.
   */
  async storeAcceptedBundle(
    p: {
      origin: string;
      seq: bigint;
      root: string;
      count: number;
      kid: string;
      receivedAt: string;
      records: AcceptedRecord[];
      gap: { from: bigint; to: bigint } | null;
    },
    audit?: AuditHook,
  ): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.insert(HubInboundBundleRow, {
        origin: p.origin,
        seq: padSeq(p.seq),
        root: p.root,
        count: p.count,
        accepted: p.records.length,
        kid: p.kid,
        receivedAt: p.receivedAt,
      });
      if (p.gap) {
        await m.insert(HubSequenceGapRow, {
          origin: p.origin,
          fromSeq: String(p.gap.from),
          toSeq: String(p.gap.to),
          detectedAt: p.receivedAt,
        });
      }
      for (let i = 0; i < p.records.length; i += 200) {
        const part = p.records.slice(i, i + 200);
        // Old keys first: an update that changes the value must recompute the old aggregate.
        const ids = part.map((r) => r.record.id);
        const old = await this.q<{ type: string; value: string }>(
          `SELECT type, value FROM hub_record WHERE origin = ? AND record_id IN (${ids
            .map(() => '?')
            .join(',')})`,
          [p.origin, ...ids],
          m,
        );
        await insertRows(
          m,
          this.pg,
          'hub_record_version',
          HUB_VERSION_COLUMNS,
          part.map((r) => [
            r.record.origin,
            r.record.id,
            r.record.version,
            r.text,
            r.proofJson,
            p.receivedAt,
          ]),
          'ON CONFLICT DO NOTHING',
        );
        await insertRows(
          m,
          this.pg,
          'hub_record',
          HUB_RECORD_COLUMNS,
          newestPerRecord(part).map((r) => [
            r.record.origin,
            r.record.id,
            r.record.version,
            r.record.status,
            r.record.type,
            r.record.value,
            r.record.validUntil,
            r.record.relations.length > 0 ? 1 : 0,
            r.text,
            p.receivedAt,
          ]),
          `ON CONFLICT (origin, record_id) DO UPDATE SET version = excluded.version,
             status = excluded.status, type = excluded.type, value = excluded.value,
             valid_until = excluded.valid_until, has_relations = excluded.has_relations,
             record_text = excluded.record_text, received_at = excluded.received_at
           WHERE excluded.version > hub_record.version`,
        );
        await this.markDirty([...old, ...part.map((r) => r.record)], m);
      }
      await audit?.(m);
    });
  }

  private async markDirty(keys: readonly IndicatorKeyValue[], m?: EntityManager): Promise<void> {
    const unique = [...new Map(keys.map((k) => [`${k.type}|${k.value}`, k])).values()];
    await insertRows(
      m ?? this.ds.manager,
      this.pg,
      'hub_dirty_key',
      [
        ['type', 'text'],
        ['value', 'text'],
        ['stamp', 'integer'],
      ],
      unique.map((k) => [k.type, k.value, 1]),
      'ON CONFLICT (type, value) DO UPDATE SET stamp = hub_dirty_key.stamp + 1',
      400,
    );
  }

  /** Keep a refused message; `audit` (its rejection entry) runs in the same transaction. */
  async addDeadLetter(d: DeadLetterFields, audit?: AuditHook): Promise<void> {
    // Through transaction() in both cases: SQLite runs them one at a time (ADR 0052); a bare
    // write could otherwise land inside another caller's open transaction.
    await this.ds.transaction(async (m) => {
      await m.getRepository(HubDeadLetterRow).insert(deadLetterRow(d));
      await audit?.(m);
    });
  }

  /** Dead letters in arrival order after id `afterId` (the received bytes are not returned). */
  async deadLetters(afterId: number, limit: number): Promise<DeadLetter[]> {
    const rows = await this.ds.getRepository(HubDeadLetterRow).find({
      where: { id: MoreThan(afterId) },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({
      id: r.id,
      subject: r.subject,
      origin: r.origin,
      code: r.code,
      detail: r.detail,
      size: r.size,
      receivedAt: r.receivedAt,
    }));
  }

  // ---- aggregation ------------------------------------------------------------------------------

  /** Mark every aggregate whose earliest contribution expired by `now` for recomputation. */
  async markExpired(now: string): Promise<number> {
    const rows = await this.q<{ type: string; value: string }>(
      'SELECT type, value FROM hub_aggregate WHERE next_expiry <= ?',
      [now],
    );
    await this.markDirty(rows);
    return rows.length;
  }

  async dirtyKeys(limit: number): Promise<DirtyKey[]> {
    const rows = await this.q<DirtyKey>(
      'SELECT type, value, stamp FROM hub_dirty_key ORDER BY type, value LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({ type: r.type, value: r.value, stamp: Number(r.stamp) }));
  }

  /** Current record texts of the given keys. */
  async recordTextsForKeys(keys: readonly IndicatorKeyValue[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < keys.length; i += 200) {
      const part = keys.slice(i, i + 200);
      const rows = await this.q<{ record_text: string }>(
        `SELECT record_text FROM hub_record WHERE ${part
          .map(() => '(type = ? AND value = ?)')
          .join(' OR ')}`,
        part.flatMap((k) => [k.type, k.value]),
      );
      for (const r of rows) out.push(r.record_text);
    }
    return out;
  }

  /** Feed item hashes currently held by members for the given keys (`member|type|value` → hash). */
  async feedHashes(keys: readonly IndicatorKeyValue[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < keys.length; i += 200) {
      const part = keys.slice(i, i + 200);
      const rows = await this.q<{ member: string; type: string; value: string; hash: string }>(
        `SELECT member, type, value, hash FROM hub_feed_item WHERE ${part
          .map(() => '(type = ? AND value = ?)')
          .join(' OR ')}`,
        part.flatMap((k) => [k.type, k.value]),
      );
      for (const r of rows) out.set(`${r.member}|${r.type}|${r.value}`, r.hash);
    }
    return out;
  }

  async lastFeedSeq(member: string): Promise<bigint> {
    const rows = await this.q<{ seq: string | null }>(
      'SELECT MAX(seq) AS seq FROM hub_feed_message WHERE member = ?',
      [member],
    );
    const s = rows[0]?.seq;
    return s ? BigInt(s) : 0n;
  }

  /**
   * Apply one aggregation pass atomically: new or changed aggregates, vanished ones, each member's
   * feed items, the feed messages that carry those changes, and the processed dirty keys.
   */
  async applyPass(
    p: {
      processed: readonly DirtyKey[];
      aggregates: readonly Aggregate[];
      removed: readonly IndicatorKeyValue[];
      feedChanges: readonly FeedItemChange[];
      feedMessages: readonly { member: string; seq: bigint; payload: string }[];
      at: string;
    },
    audit?: AuditHook,
  ): Promise<void> {
    await this.ds.transaction(async (m) => {
      for (const k of p.removed) {
        await this.q(
          'DELETE FROM hub_aggregate WHERE type = ? AND value = ?',
          [k.type, k.value],
          m,
        );
      }
      await insertRows(
        m,
        this.pg,
        'hub_aggregate',
        AGGREGATE_COLUMNS,
        p.aggregates.map((a) => [
          a.type,
          a.value,
          a.sources.length,
          a.countries.length,
          list(a.countries.map((c) => c.country)),
          list(a.categories),
          a.confidence,
          a.firstSeen,
          a.lastSeen,
          a.nextExpiry,
          JSON.stringify(a),
        ]),
        `ON CONFLICT (type, value) DO UPDATE SET source_count = excluded.source_count,
           country_count = excluded.country_count, countries = excluded.countries,
           categories = excluded.categories, confidence = excluded.confidence,
           first_seen = excluded.first_seen, last_seen = excluded.last_seen,
           next_expiry = excluded.next_expiry, aggregate_json = excluded.aggregate_json`,
        200,
      );
      for (const c of p.feedChanges) {
        if (c.hash === null) {
          await this.q(
            'DELETE FROM hub_feed_item WHERE member = ? AND type = ? AND value = ?',
            [c.member, c.type, c.value],
            m,
          );
        } else {
          await this.q(
            `INSERT INTO hub_feed_item (member, type, value, hash) VALUES (?,?,?,?)
             ON CONFLICT (member, type, value) DO UPDATE SET hash = excluded.hash`,
            [c.member, c.type, c.value, c.hash],
            m,
          );
        }
      }
      for (const f of p.feedMessages) {
        await m.insert(HubFeedMessageRow, {
          member: f.member,
          seq: padSeq(f.seq),
          payload: f.payload,
          status: 'pending',
          createdAt: p.at,
          sentAt: null,
        });
      }
      for (const k of p.processed) {
        await this.q(
          'DELETE FROM hub_dirty_key WHERE type = ? AND value = ?',
          [k.type, k.value],
          m,
        );
      }
      await audit?.(m);
    });
  }

  // ---- feed relay -------------------------------------------------------------------------------

  async pendingFeedMessages(limit: number): Promise<PendingFeedMessage[]> {
    const rows = await this.ds.getRepository(HubFeedMessageRow).find({
      where: { status: 'pending' },
      order: { member: 'ASC', seq: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({ member: r.member, seq: BigInt(r.seq), payload: r.payload }));
  }

  async markFeedSent(member: string, seq: bigint, at: string): Promise<void> {
    await this.ds
      .getRepository(HubFeedMessageRow)
      .update({ member, seq: padSeq(seq) }, { status: 'sent', sentAt: at });
  }

  // ---- queries ----------------------------------------------------------------------------------

  /** Aggregates in (type, value) order after `after`, filtered. */
  async searchAggregates(
    f: AggregateFilter,
    after: IndicatorKeyValue | undefined,
    limit: number,
  ): Promise<Aggregate[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.type) {
      where.push('type = ?');
      params.push(f.type);
    }
    if (f.valuePrefix) {
      where.push(`value LIKE ? ESCAPE '\\'`);
      params.push(likePrefix(f.valuePrefix));
    }
    if (f.country) {
      where.push('countries LIKE ?');
      params.push(`%,${f.country},%`);
    }
    if (f.category) {
      where.push('categories LIKE ?');
      params.push(`%,${f.category},%`);
    }
    if (f.minSources !== undefined) {
      where.push('source_count >= ?');
      params.push(f.minSources);
    }
    if (after) {
      where.push('(type > ? OR (type = ? AND value > ?))');
      params.push(after.type, after.type, after.value);
    }
    params.push(limit);
    const rows = await this.q<{ aggregate_json: string }>(
      `SELECT aggregate_json FROM hub_aggregate ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY type, value LIMIT ?`,
      params,
    );
    return rows.map((r) => JSON.parse(r.aggregate_json) as Aggregate);
  }

  async aggregatesByKeys(keys: readonly IndicatorKeyValue[]): Promise<Aggregate[]> {
    const out: Aggregate[] = [];
    for (let i = 0; i < keys.length; i += 200) {
      const part = keys.slice(i, i + 200);
      const rows = await this.q<{ aggregate_json: string }>(
        `SELECT aggregate_json FROM hub_aggregate WHERE ${part
          .map(() => '(type = ? AND value = ?)')
          .join(' OR ')}`,
        part.flatMap((k) => [k.type, k.value]),
      );
      for (const r of rows) out.push(JSON.parse(r.aggregate_json) as Aggregate);
    }
    return out;
  }

  /** Every aggregate reported from two or more countries. */
  async crossBorderAggregates(): Promise<Aggregate[]> {
    const rows = await this.q<{ aggregate_json: string }>(
      'SELECT aggregate_json FROM hub_aggregate WHERE country_count >= 2 ORDER BY type, value',
    );
    return rows.map((r) => JSON.parse(r.aggregate_json) as Aggregate);
  }

  /** Value and first sighting of every domain aggregate (the successor rules compare names). */
  async domainNames(): Promise<{ value: string; firstSeen: string }[]> {
    const rows = await this.q<{ value: string; first_seen: string }>(
      `SELECT value, first_seen FROM hub_aggregate WHERE type = 'domain'`,
    );
    return rows.map((r) => ({ value: r.value, firstSeen: r.first_seen }));
  }

  /** Current texts of live records that state relations. */
  async liveRelationRecords(now: string): Promise<string[]> {
    const rows = await this.q<{ record_text: string }>(
      `SELECT record_text FROM hub_record
       WHERE has_relations = 1 AND status = 'active' AND valid_until > ?`,
      [now],
    );
    return rows.map((r) => r.record_text);
  }

  /** Current texts of the given records (origin, id). */
  async recordTexts(ids: readonly { origin: string; id: string }[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 200) {
      const part = ids.slice(i, i + 200);
      const rows = await this.q<{ record_text: string }>(
        `SELECT record_text FROM hub_record WHERE ${part
          .map(() => '(origin = ? AND record_id = ?)')
          .join(' OR ')}`,
        part.flatMap((k) => [k.origin, k.id]),
      );
      for (const r of rows) out.push(r.record_text);
    }
    return out;
  }

  /** One accepted version with its proof (the latest when `version` is absent). */
  async recordVersion(
    origin: string,
    id: string,
    version: number | undefined,
  ): Promise<{ recordText: string; proofJson: string; version: number } | null> {
    const rows = await this.q<{ record_text: string; proof_json: string; version: number }>(
      `SELECT record_text, proof_json, version FROM hub_record_version
       WHERE origin = ? AND record_id = ? ${version === undefined ? '' : 'AND version = ?'}
       ORDER BY version DESC LIMIT 1`,
      version === undefined ? [origin, id] : [origin, id, version],
    );
    const r = rows[0];
    return r
      ? { recordText: r.record_text, proofJson: r.proof_json, version: Number(r.version) }
      : null;
  }

  async countAggregates(): Promise<number> {
    const rows = await this.q<{ n: string | number }>('SELECT COUNT(*) AS n FROM hub_aggregate');
    return Number(rows[0]?.n ?? 0);
  }
}
