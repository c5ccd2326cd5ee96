import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  MERKLE_HASH_LENGTH,
  inclusionProof,
  toB64u,
  type IndicatorRecord,
  type LocalFields,
} from '../../../../libs/protocol/src/index.js';
import type { AuditHook } from '../../../../libs/audit/src/index.js';
import {
  deadLetterRow,
  insertRows,
  newestPerRecord,
  type DeadLetterFields,
  type RowColumn,
} from '../../../../libs/persistence/src/index.js';
import {
  DeadLetterRow,
  InboundBundleRow,
  IndicatorRow,
  IndicatorVersionRow,
  NodeStateRow,
  OutboxBundleRow,
  SequenceGapRow,
} from './entities.js';

export const NODE_DATA_SOURCE = Symbol('NODE_DATA_SOURCE');

/** A version of an indicator as the services see it. */
export interface StoredVersion {
  origin: string;
  recordId: string;
  version: number;
  recordText: string;
  proofJson: string | null;
  receivedFrom: string | null;
  recordedAt: string;
  actor: string | null;
}

export interface StoredIndicator {
  origin: string;
  recordId: string;
  version: number;
  recordText: string;
  local: LocalFields | null;
  receivedFrom: string | null;
  updatedAt: string;
}

export interface OutboxProjection {
  addressee: string;
  agreementId: string;
  recordText: string;
}

export interface Disclosure {
  addressee: string;
  version: number;
  agreementId: string;
  bundleSeq: string | null;
  status: 'queued' | 'pending' | 'sent' | 'acknowledged';
  sentAt: string | null;
}

export interface ReceivedRecord {
  record: IndicatorRecord;
  text: string;
  proofJson: string;
}

export interface IndicatorFilter {
  type?: string;
  value?: string;
  origin?: string;
  category?: string;
  updatedSince?: string;
  updatedUntil?: string;
  status?: string;
}

/** A bundle stored by the relay whose publish was not acknowledged yet. */
export interface UnsentBundle {
  addressee: string;
  seq: bigint;
  msgId: string;
  /** Merkle root of its records (base64url), as signed. */
  root: string;
  count: number;
  /** Also the bundle header's `issuedAt`. */
  createdAt: string;
}

export interface PendingItem {
  id: number;
  recordText: string;
}

/** A new version of an own indicator, as {@link NodeStore.saveOwnVersions} stores it. */
export interface OwnVersion {
  record: IndicatorRecord;
  recordText: string;
  local: LocalFields;
  actor: string;
  now: string;
  outbox: OutboxProjection[];
}

/** What NodeStore uses of better-sqlite3's connection (the driver under TypeORM on SQLite). */
interface SqliteHandle {
  readonly inTransaction: boolean;
  prepare(sql: string): { run(...params: unknown[]): unknown };
}

/**
 * Own version 1 keeps its text once, in `indicator`, while it is the current version: its
 * `indicator_version` row holds '' (never a record text). The next version's write first copies
 * the text into that row, with this statement (ADR 0058). The copy fails (NOT NULL) rather than
 * write nothing if `indicator` no longer holds version 1.
 */
const FILL_FIRST_VERSION_TEXT = `UPDATE indicator_version SET record_text = (SELECT i.record_text
    FROM indicator i WHERE i.origin = ? AND i.record_id = ? AND i.version = 1)
  WHERE origin = ? AND record_id = ? AND version = 1 AND record_text = ''`;

/** What an own version's `indicator_version` row stores as its text. */
function ownVersionText(p: OwnVersion): string {
  return p.record.version === 1 ? '' : p.recordText;
}

/** Own rows per multi-row statement on SQLite (ADR 0064). */
const OWN_ROWS_PER_STATEMENT = 25;
const VERSION_PARAMS = 6;
const CURRENT_PARAMS = 12;

/** INSERT of `n` own `indicator_version` rows ({@link VERSION_PARAMS} parameters each). */
function versionInsert(n: number): string {
  return `INSERT INTO indicator_version (origin, record_id, version, record_text, proof_json,
      received_from, recorded_at, actor) VALUES ${Array(n).fill('(?,?,?,?,NULL,NULL,?,?)').join(',')}
    ON CONFLICT (origin, record_id, version) DO NOTHING`;
}

/** Upsert of `n` own `indicator` rows ({@link CURRENT_PARAMS} parameters each). */
function currentUpsert(n: number): string {
  return `INSERT INTO indicator (origin, record_id, version, status, type, value, tlp, categories,
      valid_until, record_text, local_json, received_from, updated_at)
    VALUES ${Array(n).fill('(?,?,?,?,?,?,?,?,?,?,?,NULL,?)').join(',')}
    ON CONFLICT (origin, record_id) DO UPDATE SET version = excluded.version,
      status = excluded.status, type = excluded.type, value = excluded.value,
      tlp = excluded.tlp, categories = excluded.categories, valid_until = excluded.valid_until,
      record_text = excluded.record_text,
      local_json = COALESCE(excluded.local_json, indicator.local_json),
      received_from = excluded.received_from, updated_at = excluded.updated_at
    WHERE excluded.version > indicator.version`;
}

const INDICATOR_COLUMNS: readonly RowColumn[] = [
  ['origin', 'text'],
  ['record_id', 'text'],
  ['version', 'integer'],
  ['status', 'text'],
  ['type', 'text'],
  ['value', 'text'],
  ['tlp', 'text'],
  ['categories', 'text'],
  ['valid_until', 'text'],
  ['record_text', 'text'],
  ['local_json', 'text'],
  ['received_from', 'text'],
  ['updated_at', 'text'],
];

const VERSION_COLUMNS: readonly RowColumn[] = [
  ['origin', 'text'],
  ['record_id', 'text'],
  ['version', 'integer'],
  ['record_text', 'text'],
  ['proof_json', 'text'],
  ['received_from', 'text'],
  ['recorded_at', 'text'],
  ['actor', 'text'],
];

const OUTBOX_COLUMNS: readonly RowColumn[] = [
  ['addressee', 'text'],
  ['record_id', 'text'],
  ['version', 'integer'],
  ['agreement_id', 'text'],
  ['record_text', 'text'],
  ['created_at', 'text'],
];

function catList(categories: readonly string[]): string {
  return `,${categories.join(',')},`;
}

/**
 * The node's repository: the only code that touches TypeORM. Each method is one atomic unit of
 * work, so a service never holds a transaction across an await on the network.
 */
@Injectable()
export class NodeStore {
  private readonly pg: boolean;
  /** Bundle numbers already used per addressee, learned from the outbox streams (recovery). */
  private readonly seqFloors = new Map<string, bigint>();
  /** SQLite statements of saveOwnVersions, prepared on first use. */
  private ownStatements?: Record<
    'fill' | 'version' | 'versions' | 'current' | 'currents' | 'outbox',
    ReturnType<SqliteHandle['prepare']>
  >;

  constructor(@Inject(NODE_DATA_SOURCE) private readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  /** `?` placeholders become `$n` on PostgreSQL. */
  private sql(text: string): string {
    if (!this.pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  private async exec(m: EntityManager, text: string, params: unknown[]): Promise<unknown> {
    return m.query(this.sql(text), params);
  }

  /** Upsert the current version only when it is newer than what is stored. */
  private async upsertCurrent(
    m: EntityManager,
    rows: {
      record: IndicatorRecord;
      text: string;
      local: LocalFields | null;
      receivedFrom: string | null;
      at: string;
    }[],
  ): Promise<void> {
    await insertRows(
      m,
      this.pg,
      'indicator',
      INDICATOR_COLUMNS,
      newestPerRecord(rows).map((r) => [
        r.record.origin,
        r.record.id,
        r.record.version,
        r.record.status,
        r.record.type,
        r.record.value,
        r.record.tlp,
        catList(r.record.categories),
        r.record.validUntil,
        r.text,
        r.local ? JSON.stringify(r.local) : null,
        r.receivedFrom,
        r.at,
      ]),
      `ON CONFLICT (origin, record_id) DO UPDATE SET version = excluded.version,
         status = excluded.status, type = excluded.type, value = excluded.value,
         tlp = excluded.tlp, categories = excluded.categories, valid_until = excluded.valid_until,
         record_text = excluded.record_text,
         local_json = COALESCE(excluded.local_json, indicator.local_json),
         received_from = excluded.received_from, updated_at = excluded.updated_at
       WHERE excluded.version > indicator.version`,
      400,
    );
  }

  private async insertVersions(
    m: EntityManager,
    rows: {
      origin: string;
      recordId: string;
      version: number;
      text: string;
      proofJson: string | null;
      receivedFrom: string | null;
      at: string;
      actor: string | null;
    }[],
  ): Promise<void> {
    await insertRows(
      m,
      this.pg,
      'indicator_version',
      VERSION_COLUMNS,
      rows.map((r) => [
        r.origin,
        r.recordId,
        r.version,
        r.text,
        r.proofJson,
        r.receivedFrom,
        r.at,
        r.actor,
      ]),
      'ON CONFLICT (origin, record_id, version) DO NOTHING',
    );
  }

  /** Store a new version of an own indicator and its outbox projections in one transaction. */
  async saveOwnVersion(p: OwnVersion, audit?: AuditHook): Promise<void> {
    await this.saveOwnVersions([p], audit);
  }

  /**
   * Bulk form of {@link saveOwnVersion}: one transaction for many records. On SQLite the rows go
   * through statements prepared once on better-sqlite3's connection (the one TypeORM's
   * transaction holds), one row per call, without a turn of the event loop: thousands of rows
   * cost no multi-row SQL text and parameter arrays to build and collect (ADR 0048). PostgreSQL
   * gets each table's rows in one statement, as one JSON parameter (insertRows, ADR 0059): a round
   * trip per row would dominate there.
   */
  async saveOwnVersions(rows: Iterable<OwnVersion>, audit?: AuditHook): Promise<void> {
    await this.ds.transaction(async (m) => {
      if (!this.pg) {
        this.writeOwnVersionsSqlite(rows);
        await audit?.(m);
        return;
      }
      const items = Array.isArray(rows) ? (rows as OwnVersion[]) : [...rows];
      // Later versions copy their version 1's text from `indicator` before any row is written:
      // a version 1 in this same batch is not there yet, so its row keeps its own text.
      const superseded = new Set(
        items.filter((p) => p.record.version > 1).map((p) => `${p.record.origin}/${p.record.id}`),
      );
      for (const p of items) {
        if (p.record.version > 1) {
          await this.exec(m, FILL_FIRST_VERSION_TEXT, [
            p.record.origin,
            p.record.id,
            p.record.origin,
            p.record.id,
          ]);
        }
      }
      await this.insertVersions(
        m,
        items.map((p) => ({
          origin: p.record.origin,
          recordId: p.record.id,
          version: p.record.version,
          text:
            p.record.version === 1 && superseded.has(`${p.record.origin}/${p.record.id}`)
              ? p.recordText
              : ownVersionText(p),
          proofJson: null,
          receivedFrom: null,
          at: p.now,
          actor: p.actor,
        })),
      );
      await this.upsertCurrent(
        m,
        items.map((p) => ({
          record: p.record,
          text: p.recordText,
          local: p.local,
          receivedFrom: null,
          at: p.now,
        })),
      );
      const outbox = items.flatMap((p) =>
        p.outbox.map((o) => ({
          addressee: o.addressee,
          recordId: p.record.id,
          version: p.record.version,
          agreementId: o.agreementId,
          recordText: o.recordText,
          bundleSeq: null,
          createdAt: p.now,
        })),
      );
      await this.insertOutboxItems(m, outbox);
      await audit?.(m);
    });
  }

  /**
   * The SQLite side of {@link saveOwnVersions}: the same rows and conflict rules, synchronously.
   * Rows go {@link OWN_ROWS_PER_STATEMENT} at a time through multi-row statements, the rest one
   * by one (ADR 0064); a later version first writes every row before it, since it copies the
   * text of version 1 from the `indicator` row.
   */
  private writeOwnVersionsSqlite(items: Iterable<OwnVersion>): void {
    const db = (this.ds.driver as unknown as { databaseConnection: SqliteHandle })
      .databaseConnection;
    // TypeORM's transaction runs on this same connection; never write outside of it.
    if (!db.inTransaction) throw new Error('saveOwnVersions: no open SQLite transaction');
    const k = OWN_ROWS_PER_STATEMENT;
    const s = (this.ownStatements ??= {
      fill: db.prepare(FILL_FIRST_VERSION_TEXT),
      version: db.prepare(versionInsert(1)),
      versions: db.prepare(versionInsert(k)),
      current: db.prepare(currentUpsert(1)),
      currents: db.prepare(currentUpsert(k)),
      outbox: db.prepare(
        `INSERT INTO outbox_item (addressee, record_id, version, agreement_id, record_text,
           created_at) VALUES (?,?,?,?,?,?)`,
      ),
    });
    // Parameters of the rows not written yet, reused from one group of k to the next.
    const versions: unknown[] = new Array<unknown>(k * VERSION_PARAMS);
    const currents: unknown[] = new Array<unknown>(k * CURRENT_PARAMS);
    let pending = 0;
    const flush = () => {
      for (let i = 0; i < pending; i++) {
        s.version.run(versions.slice(i * VERSION_PARAMS, (i + 1) * VERSION_PARAMS));
        s.current.run(currents.slice(i * CURRENT_PARAMS, (i + 1) * CURRENT_PARAMS));
      }
      pending = 0;
    };
    for (const p of items) {
      const r = p.record;
      if (r.version > 1) {
        flush();
        s.fill.run(r.origin, r.id, r.origin, r.id);
      }
      let v = pending * VERSION_PARAMS;
      versions[v++] = r.origin;
      versions[v++] = r.id;
      versions[v++] = r.version;
      versions[v++] = ownVersionText(p);
      versions[v++] = p.now;
      versions[v] = p.actor;
      let c = pending * CURRENT_PARAMS;
      currents[c++] = r.origin;
      currents[c++] = r.id;
      currents[c++] = r.version;
      currents[c++] = r.status;
      currents[c++] = r.type;
      currents[c++] = r.value;
      currents[c++] = r.tlp;
      currents[c++] = catList(r.categories);
      currents[c++] = r.validUntil;
      currents[c++] = p.recordText;
      currents[c++] = JSON.stringify(p.local);
      currents[c] = p.now;
      if (++pending === k) {
        s.versions.run(versions);
        s.currents.run(currents);
        pending = 0;
      }
      for (const o of p.outbox) {
        s.outbox.run(o.addressee, r.id, r.version, o.agreementId, o.recordText, p.now);
      }
    }
    flush();
  }

  /** Multi-row inserts through the driver (the query builder cost more than the insert itself). */
  private async insertOutboxItems(
    m: EntityManager,
    rows: {
      addressee: string;
      recordId: string;
      version: number;
      agreementId: string;
      recordText: string;
      createdAt: string;
    }[],
  ): Promise<void> {
    await insertRows(
      m,
      this.pg,
      'outbox_item',
      OUTBOX_COLUMNS,
      rows.map((r) => [
        r.addressee,
        r.recordId,
        r.version,
        r.agreementId,
        r.recordText,
        r.createdAt,
      ]),
    );
  }

  async getCurrent(origin: string, recordId: string): Promise<StoredIndicator | null> {
    const row = await this.ds.getRepository(IndicatorRow).findOneBy({ origin, recordId });
    return row ? toStored(row) : null;
  }

  async history(origin: string, recordId: string): Promise<StoredVersion[]> {
    const rows = await this.ds
      .getRepository(IndicatorVersionRow)
      .find({ where: { origin, recordId }, order: { version: 'ASC' } });
    const out: StoredVersion[] = [];
    for (const r of rows) {
      out.push({
        origin: r.origin,
        recordId: r.recordId,
        version: r.version,
        recordText: r.recordText === '' ? await this.currentFirstText(r) : r.recordText,
        proofJson: await this.fullProof(r.proofJson, r.receivedFrom),
        receivedFrom: r.receivedFrom,
        recordedAt: r.recordedAt,
        actor: r.actor,
      });
    }
    return out;
  }

  /** The text of an own version 1 stored once, in `indicator` (ADR 0058). */
  private async currentFirstText(v: IndicatorVersionRow): Promise<string> {
    const current = await this.getCurrent(v.origin, v.recordId);
    if (v.version !== 1 || current?.version !== 1) {
      throw new Error(
        `indicator_version ${v.origin}/${v.recordId}@${v.version} has no text and is not the current version 1`,
      );
    }
    return current.recordText;
  }

  /**
   * A received version's proof as the API gives it (`RecordProof`: header, index, treeSize,
   * path). Stored compactly as `{"bundle": seq, "index": i}`, the bundle's header and leaf hashes
   * living once in `inbound_bundle` (ADR 0049); proofs stored whole by earlier releases pass
   * through unchanged.
   */
  private async fullProof(stored: string | null, from: string | null): Promise<string | null> {
    if (stored === null || from === null || !stored.startsWith('{"bundle":')) return stored;
    const { bundle } = JSON.parse(stored) as { bundle: string };
    const b = await this.ds
      .getRepository(InboundBundleRow)
      .findOneBy({ origin: from, seq: padSeq(BigInt(bundle)) });
    return expandStoredProof(stored, b);
  }

  /** Which partners each version of an own record was disclosed to, and how far it got. */
  async disclosures(recordId: string): Promise<Disclosure[]> {
    const rows: {
      addressee: string;
      version: number;
      agreement_id: string;
      bundle_seq: string | null;
      status: string | null;
      sent_at: string | null;
    }[] = (await this.exec(
      this.ds.manager,
      `SELECT i.addressee, i.version, i.agreement_id, i.bundle_seq, b.status, b.sent_at
         FROM outbox_item i LEFT JOIN outbox_bundle b
           ON b.addressee = i.addressee AND b.seq = i.bundle_seq
        WHERE i.record_id = ? ORDER BY i.version, i.addressee`,
      [recordId],
    )) as never;
    return rows.map((r) => ({
      addressee: r.addressee,
      version: Number(r.version),
      agreementId: r.agreement_id,
      bundleSeq: r.bundle_seq === null ? null : String(Number(r.bundle_seq)),
      status: (r.status ?? 'queued') as Disclosure['status'],
      sentAt: r.sent_at,
    }));
  }

  /** Every partner that was queued any version of this record (for retractions). */
  async previousRecipients(
    recordId: string,
  ): Promise<{ addressee: string; agreementId: string }[]> {
    const rows: { addressee: string; agreement_id: string }[] = (await this.exec(
      this.ds.manager,
      `SELECT addressee, MAX(agreement_id) AS agreement_id FROM outbox_item
        WHERE record_id = ? GROUP BY addressee`,
      [recordId],
    )) as never;
    return rows.map((r) => ({ addressee: r.addressee, agreementId: r.agreement_id }));
  }

  /** The projection last queued for each partner that was queued any version of this record. */
  async lastProjections(recordId: string): Promise<Map<string, string>> {
    const rows: { addressee: string; record_text: string }[] = (await this.exec(
      this.ds.manager,
      'SELECT addressee, record_text FROM outbox_item WHERE record_id = ? ORDER BY version, id',
      [recordId],
    )) as never;
    return new Map(rows.map((r) => [r.addressee, r.record_text]));
  }

  async search(
    f: IndicatorFilter,
    page: { offset: number; limit: number },
  ): Promise<{ total: number; items: StoredIndicator[] }> {
    const qb = this.ds.getRepository(IndicatorRow).createQueryBuilder('i');
    if (f.type) qb.andWhere('i.type = :type', { type: f.type });
    if (f.value) qb.andWhere('i.value = :value', { value: f.value });
    if (f.origin) qb.andWhere('i.origin = :origin', { origin: f.origin });
    if (f.status) qb.andWhere('i.status = :status', { status: f.status });
    if (f.category) qb.andWhere('i.categories LIKE :cat', { cat: `%,${f.category},%` });
    if (f.updatedSince) qb.andWhere('i.updated_at >= :since', { since: f.updatedSince });
    if (f.updatedUntil) qb.andWhere('i.updated_at < :until', { until: f.updatedUntil });
    qb.orderBy('i.updated_at', 'DESC')
      .addOrderBy('i.origin', 'ASC')
      .addOrderBy('i.record_id', 'ASC')
      .skip(page.offset)
      .take(page.limit);
    const [rows, total] = await qb.getManyAndCount();
    return { total, items: rows.map(toStored) };
  }

  // ---- relay -------------------------------------------------------------------------------

  async pendingAddressees(): Promise<string[]> {
    const rows: { addressee: string }[] = (await this.exec(
      this.ds.manager,
      'SELECT DISTINCT addressee FROM outbox_item WHERE bundle_seq IS NULL',
      [],
    )) as never;
    return rows.map((r) => r.addressee);
  }

  async pendingItems(addressee: string, limit: number): Promise<PendingItem[]> {
    const rows: { id: number | string; record_text: string }[] = (await this.exec(
      this.ds.manager,
      `SELECT id, record_text FROM outbox_item WHERE addressee = ? AND bundle_seq IS NULL
        ORDER BY id LIMIT ?`,
      [addressee, limit],
    )) as never;
    return rows.map((r) => ({ id: Number(r.id), recordText: r.record_text }));
  }

  async lastBundleSeq(addressee: string): Promise<bigint> {
    const rows: { seq: string | null }[] = (await this.exec(
      this.ds.manager,
      'SELECT MAX(seq) AS seq FROM outbox_bundle WHERE addressee = ?',
      [addressee],
    )) as never;
    const s = rows[0]?.seq;
    const stored = s ? BigInt(s) : 0n;
    const floor = this.seqFloors.get(addressee) ?? 0n;
    return stored > floor ? stored : floor;
  }

  /**
   * After a restore from backup, bundle numbers already used (found in the outbox stream) must not
   * be used again: {@link lastBundleSeq} never returns less than the floor set here.
   */
  raiseBundleSeqFloor(addressee: string, seq: bigint): void {
    if (seq > (this.seqFloors.get(addressee) ?? 0n)) this.seqFloors.set(addressee, seq);
  }

  /** Marks pending bundles up to `seq` sent (they are already in the outbox stream); returns how many. */
  async markPublishedUpTo(addressee: string, seq: bigint, at: string): Promise<number> {
    const rows: { n: string | number }[] = (await this.exec(
      this.ds.manager,
      `SELECT COUNT(*) AS n FROM outbox_bundle WHERE addressee = ? AND seq <= ? AND status = 'pending'`,
      [addressee, padSeq(seq)],
    )) as never;
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) {
      await this.exec(
        this.ds.manager,
        `UPDATE outbox_bundle SET status = 'sent', sent_at = ?
          WHERE addressee = ? AND seq <= ? AND status = 'pending'`,
        [at, addressee, padSeq(seq)],
      );
    }
    return n;
  }

  /** Persist a signed bundle and attach its items, atomically, before it is published. */
  async saveBundle(
    b: {
      addressee: string;
      seq: bigint;
      msgId: string;
      root: string;
      count: number;
      createdAt: string;
    },
    itemIds: number[],
    audit?: AuditHook,
  ): Promise<void> {
    const seq = padSeq(b.seq);
    await this.ds.transaction(async (m) => {
      await this.exec(
        m,
        `INSERT INTO outbox_bundle (addressee, seq, msg_id, root, count, status, created_at)
         VALUES (?,?,?,?,?,'pending',?)`,
        [b.addressee, seq, b.msgId, b.root, b.count, b.createdAt],
      );
      for (let i = 0; i < itemIds.length; i += 500) {
        const ids = itemIds.slice(i, i + 500);
        await this.exec(
          m,
          `UPDATE outbox_item SET bundle_seq = ? WHERE id IN (${ids.map(() => '?').join(',')})`,
          [seq, ...ids],
        );
      }
      await audit?.(m);
    });
  }

  /** Bundles stored but not yet acknowledged by JetStream, oldest first (to be re-sent). */
  async unsentBundles(limit: number): Promise<UnsentBundle[]> {
    const rows = await this.ds.getRepository(OutboxBundleRow).find({
      where: { status: 'pending' },
      order: { addressee: 'ASC', seq: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({
      addressee: r.addressee,
      seq: BigInt(r.seq),
      msgId: r.msgId,
      root: r.root,
      count: r.count,
      createdAt: r.createdAt,
    }));
  }

  /** The record texts of a stored bundle, in leaf order (outbox order), to rebuild it. */
  async bundleTexts(addressee: string, seq: bigint): Promise<string[]> {
    const rows: { record_text: string }[] = (await this.exec(
      this.ds.manager,
      'SELECT record_text FROM outbox_item WHERE addressee = ? AND bundle_seq = ? ORDER BY id',
      [addressee, padSeq(seq)],
    )) as never;
    return rows.map((r) => r.record_text);
  }

  /** The JetStream ack arrived. */
  async markSent(addressee: string, seq: bigint, at: string): Promise<void> {
    await this.ds.transaction((m) =>
      this.exec(
        m,
        `UPDATE outbox_bundle SET status = 'sent', sent_at = ?
          WHERE addressee = ? AND seq = ? AND status = 'pending'`,
        [at, addressee, padSeq(seq)],
      ),
    );
  }

  /** The partner's receipt for a bundle; `audit` runs in the same transaction when it matched. */
  async markAcknowledged(
    addressee: string,
    seq: bigint,
    receiptJson: string,
    audit?: AuditHook,
  ): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const r = await m
        .getRepository(OutboxBundleRow)
        .update({ addressee, seq: padSeq(seq) }, { status: 'acknowledged', receiptJson });
      const ok = (r.affected ?? 0) > 0;
      if (ok) await audit?.(m);
      return ok;
    });
  }

  async outboxStats(): Promise<{
    queuedItems: number;
    pendingBundles: number;
    sentBundles: number;
    acknowledgedBundles: number;
  }> {
    const q = async (sql: string): Promise<number> => {
      const rows: { n: string | number }[] = (await this.exec(this.ds.manager, sql, [])) as never;
      return Number(rows[0]?.n ?? 0);
    };
    return {
      queuedItems: await q('SELECT COUNT(*) AS n FROM outbox_item WHERE bundle_seq IS NULL'),
      pendingBundles: await q("SELECT COUNT(*) AS n FROM outbox_bundle WHERE status = 'pending'"),
      sentBundles: await q("SELECT COUNT(*) AS n FROM outbox_bundle WHERE status = 'sent'"),
      acknowledgedBundles: await q(
        "SELECT COUNT(*) AS n FROM outbox_bundle WHERE status = 'acknowledged'",
      ),
    };
  }

  // ---- receiving ---------------------------------------------------------------------------

  async findInboundBundle(origin: string, seq: bigint): Promise<{ root: string } | null> {
    const row = await this.ds
      .getRepository(InboundBundleRow)
      .findOneBy({ origin, seq: padSeq(seq) });
    return row ? { root: row.root } : null;
  }

  async lastInboundSeq(origin: string): Promise<bigint> {
    const rows: { seq: string | null }[] = (await this.exec(
      this.ds.manager,
      'SELECT MAX(seq) AS seq FROM inbound_bundle WHERE origin = ?',
      [origin],
    )) as never;
    const s = rows[0]?.seq;
    return s ? BigInt(s) : 0n;
  }

  /** Store the accepted records of one bundle, its sequence entry and any gap, atomically. */
  async storeReceivedBundle(
    p: {
      origin: string;
      seq: bigint;
      root: string;
      count: number;
      kid: string;
      /** The bundle's signed header (compact JWS); the records' compact proofs refer to it. */
      header?: string;
      /** The bundle's leaf hashes in order, from which any record's audit path is rebuilt. */
      leafHashes?: readonly Uint8Array[];
      receivedAt: string;
      records: ReceivedRecord[];
      gap: { from: bigint; to: bigint } | null;
    },
    audit?: AuditHook,
  ): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.insert(InboundBundleRow, {
        origin: p.origin,
        seq: padSeq(p.seq),
        root: p.root,
        count: p.count,
        accepted: p.records.length,
        kid: p.kid,
        receivedAt: p.receivedAt,
        header: p.header ?? null,
        leaves: p.leafHashes ? Buffer.concat(p.leafHashes).toString('base64url') : null,
      });
      if (p.gap) {
        await m.insert(SequenceGapRow, {
          origin: p.origin,
          fromSeq: String(p.gap.from),
          toSeq: String(p.gap.to),
          detectedAt: p.receivedAt,
        });
      } else {
        await this.fillGap(m, p.origin, p.seq);
      }
      await this.insertVersions(
        m,
        p.records.map((r) => ({
          origin: r.record.origin,
          recordId: r.record.id,
          version: r.record.version,
          text: r.text,
          proofJson: r.proofJson,
          receivedFrom: p.origin,
          at: p.receivedAt,
          actor: null,
        })),
      );
      await this.upsertCurrent(
        m,
        p.records.map((r) => ({
          record: r.record,
          text: r.text,
          local: null,
          receivedFrom: p.origin,
          at: p.receivedAt,
        })),
      );
      await audit?.(m);
    });
  }

  /**
   * A late bundle (redelivered, or overtaken by a later one) arrived: remove its number from the
   * recorded gap that holds it, shrinking or splitting the gap, so only what is still missing is
   * reported. Gaps are few per origin; they are compared as numbers (stored unpadded).
   */
  private async fillGap(m: EntityManager, origin: string, seq: bigint): Promise<void> {
    const gaps = await m.getRepository(SequenceGapRow).findBy({ origin });
    const gap = gaps.find((g) => BigInt(g.fromSeq) <= seq && seq <= BigInt(g.toSeq));
    if (!gap) return;
    const from = BigInt(gap.fromSeq);
    const to = BigInt(gap.toSeq);
    const repo = m.getRepository(SequenceGapRow);
    if (from === seq && to === seq) {
      await repo.delete({ id: gap.id });
    } else if (from === seq) {
      await repo.update({ id: gap.id }, { fromSeq: String(seq + 1n) });
    } else if (to === seq) {
      await repo.update({ id: gap.id }, { toSeq: String(seq - 1n) });
    } else {
      await repo.update({ id: gap.id }, { toSeq: String(seq - 1n) });
      await repo.insert({
        origin,
        fromSeq: String(seq + 1n),
        toSeq: String(to),
        detectedAt: gap.detectedAt,
      });
    }
  }

  /** Keep a refused message; `audit` (its rejection entry) runs in the same transaction. */
  async addDeadLetter(d: DeadLetterFields, audit?: AuditHook): Promise<void> {
    // Through transaction() in both cases: SQLite runs them one at a time (ADR 0052).
    await this.ds.transaction(async (m) => {
      await m.getRepository(DeadLetterRow).insert(deadLetterRow(d));
      await audit?.(m);
    });
  }

  async deadLetters(page: { offset: number; limit: number }): Promise<{
    total: number;
    items: {
      id: number;
      subject: string;
      origin: string | null;
      code: string;
      detail: string;
      size: number;
      receivedAt: string;
    }[];
  }> {
    const [rows, total] = await this.ds.getRepository(DeadLetterRow).findAndCount({
      select: {
        id: true,
        subject: true,
        origin: true,
        code: true,
        detail: true,
        size: true,
        receivedAt: true,
      },
      order: { id: 'DESC' },
      skip: page.offset,
      take: page.limit,
    });
    return {
      total,
      items: rows.map((r) => ({
        id: r.id,
        subject: r.subject,
        origin: r.origin,
        code: r.code,
        detail: r.detail,
        size: r.size,
        receivedAt: r.receivedAt,
      })),
    };
  }

  async sequenceGaps(): Promise<
    { origin: string; from: string; to: string; detectedAt: string }[]
  > {
    const rows = await this.ds.getRepository(SequenceGapRow).find({ order: { id: 'ASC' } });
    return rows.map((r) => ({
      origin: r.origin,
      from: r.fromSeq,
      to: r.toSeq,
      detectedAt: r.detectedAt,
    }));
  }

  async getState(key: string): Promise<string | null> {
    const row = await this.ds.getRepository(NodeStateRow).findOneBy({ key });
    return row?.value ?? null;
  }

  async setState(key: string, value: string): Promise<void> {
    // Writes go through transaction(), which SQLite runs one at a time (libs/persistence).
    await this.ds.transaction((m) => m.getRepository(NodeStateRow).upsert({ key, value }, ['key']));
  }

  // ---- expiry ----------------------------------------------------------------------------------

  /**
   * Active records (current versions) past their `validUntil` that the expiry sweep has not named
   * yet: those that expired in (since, now], and those stored since `since` already expired.
   */
  async expiredSince(
    since: string,
    now: string,
    m: EntityManager = this.ds.manager,
  ): Promise<{ origin: string; id: string; version: number }[]> {
    const rows = (await this.exec(
      m,
      `SELECT origin, record_id, version FROM indicator
        WHERE status = 'active' AND valid_until <= ? AND (valid_until > ? OR updated_at > ?)
        ORDER BY valid_until, origin, record_id`,
      [now, since, since],
    )) as { origin: string; record_id: string; version: number | string }[];
    return rows.map((r) => ({ origin: r.origin, id: r.record_id, version: Number(r.version) }));
  }

  /** Move the expiry sweep's mark to `now`; `audit` (its erasure entries) in the same transaction. */
  async markExpirySwept(key: string, now: string, audit?: AuditHook): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.getRepository(NodeStateRow).upsert({ key, value: now }, ['key']);
      await audit?.(m);
    });
  }

  async countIndicators(origin?: string): Promise<number> {
    return this.ds.getRepository(IndicatorRow).countBy(origin ? { origin } : {});
  }

  /** Creation time of the oldest outbox entry not yet acknowledged by its recipient (metrics). */
  async oldestUnacknowledgedAt(): Promise<string | null> {
    const rows: { t: string | null }[] = (await this.exec(
      this.ds.manager,
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(created_at) AS t FROM outbox_item WHERE bundle_seq IS NULL
         UNION ALL
         SELECT MIN(created_at) AS t FROM outbox_bundle WHERE status <> 'acknowledged'
       ) oldest`,
      [],
    )) as never;
    return rows[0]?.t ?? null;
  }

  /** The signed receipts (compact JWS) of the newest bundles `addressee` acknowledged, newest first. */
  async recentReceipts(addressee: string, limit: number): Promise<string[]> {
    const rows: { receipt_json: string }[] = (await this.exec(
      this.ds.manager,
      `SELECT receipt_json FROM outbox_bundle
        WHERE addressee = ? AND status = 'acknowledged' AND receipt_json IS NOT NULL
        ORDER BY seq DESC LIMIT ?`,
      [addressee, limit],
    )) as never;
    return rows.map((r) => r.receipt_json);
  }

  // ---- interop (imports, exports, TAXII) -------------------------------------------------

  /** Which of `values` (normalized) this origin already holds as current indicators of `type`. */
  async existingValues(
    origin: string,
    type: string,
    values: readonly string[],
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < values.length; i += 500) {
      const part = values.slice(i, i + 500);
      // By (type, value) first, so the planner takes ix_indicator_type_value rather than the
      // primary key's origin prefix (which scans every own indicator).
      const rows: { origin: string; value: string }[] = (await this.exec(
        this.ds.manager,
        `SELECT origin, value FROM indicator WHERE type = ? AND value IN (${part.map(() => '?').join(',')})`,
        [type, ...part],
      )) as never;
      for (const r of rows) if (r.origin === origin) found.add(r.value);
    }
    return found;
  }

  /**
   * Current indicators in (updated_at, origin, record_id) order after a keyset position: pages
   * that stay stable while new versions arrive (they sort after every earlier one).
   */
  async pageByUpdate(q: {
    after?: { updatedAt: string; origin: string; recordId: string };
    addedAfter?: string;
    until?: string;
    types?: string[];
    origin?: string;
    limit: number;
  }): Promise<StoredIndicator[]> {
    const qb = this.ds.getRepository(IndicatorRow).createQueryBuilder('i');
    if (q.after) {
      qb.andWhere(
        '(i.updated_at > :u OR (i.updated_at = :u AND (i.origin > :o OR (i.origin = :o AND i.record_id > :r))))',
        { u: q.after.updatedAt, o: q.after.origin, r: q.after.recordId },
      );
    }
    if (q.addedAfter) qb.andWhere('i.updated_at > :aa', { aa: q.addedAfter });
    if (q.until) qb.andWhere('i.updated_at <= :until', { until: q.until });
    if (q.types && q.types.length > 0) qb.andWhere('i.type IN (:...types)', { types: q.types });
    if (q.origin) qb.andWhere('i.origin = :origin', { origin: q.origin });
    qb.orderBy('i.updated_at', 'ASC')
      .addOrderBy('i.origin', 'ASC')
      .addOrderBy('i.record_id', 'ASC')
      .take(q.limit);
    return (await qb.getMany()).map(toStored);
  }
}

/** Sequence numbers are stored zero-padded so that text order is numeric order. */
export function padSeq(seq: bigint): string {
  return seq.toString().padStart(20, '0');
}

function toStored(r: IndicatorRow): StoredIndicator {
  return {
    origin: r.origin,
    recordId: r.recordId,
    version: r.version,
    recordText: r.recordText,
    local: r.localJson ? (JSON.parse(r.localJson) as LocalFields) : null,
    receivedFrom: r.receivedFrom,
    updatedAt: r.updatedAt,
  };
}

/**
 * The whole proof (`{header, index, treeSize, path}`) of a compactly stored one
 * (`{"bundle": seq, "index": i}`), from its bundle's header and leaf hashes; `null` when the
 * bundle row lacks them. Used by {@link NodeStore.history} and migration 0005's `down()`.
 */
export function expandStoredProof(
  stored: string,
  bundle: { header: string | null; leaves: string | null } | null,
): string | null {
  const { index } = JSON.parse(stored) as { index: number };
  if (!bundle?.header || !bundle.leaves) return null;
  const all = Buffer.from(bundle.leaves, 'base64url');
  const leaves: Uint8Array[] = [];
  for (let o = 0; o + MERKLE_HASH_LENGTH <= all.length; o += MERKLE_HASH_LENGTH) {
    leaves.push(all.subarray(o, o + MERKLE_HASH_LENGTH));
  }
  const path = inclusionProof(leaves, index).map(toB64u);
  return JSON.stringify({ header: bundle.header, index, treeSize: leaves.length, path });
}
