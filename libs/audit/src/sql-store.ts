import type { DataSource, EntityManager } from 'typeorm';
import { fromB64u, toB64u } from '../../protocol/src/index.js';
import type { TreeNode } from './tree.js';

/** A row of the log as the service appends it. */
export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  op: string;
  partner: string | null;
  agreement: string | null;
  /** `,ref,ref,` so that `LIKE '%<record id>%'` finds a record. */
  records: string;
  entryJson: string;
}

export interface StoredCheckpoint {
  size: number;
  root: string;
  at: string;
  jws: string;
  cosignature: string | null;
}

export interface EntryQuery {
  since?: string;
  until?: string;
  actor?: string;
  op?: string;
  record?: string;
  partner?: string;
  agreement?: string;
  afterSeq?: number;
  limit: number;
}

/**
 * The tables of a log (the node's migration 0003 and the hub's 0002 create them): entries, the
 * hashes of every complete subtree (level 0: the leaves), signed checkpoints and retention state.
 */
export const AUDIT_LOG_TABLES: readonly string[] = [
  // seq is the entry's position, its Merkle leaf index; entry_json the exact hashed bytes.
  `CREATE TABLE audit_entry (
    seq bigint PRIMARY KEY, at varchar(24) NOT NULL, actor varchar(128) NOT NULL,
    op varchar(16) NOT NULL, partner varchar(32), agreement varchar(64),
    records text NOT NULL, entry_json text NOT NULL)`,
  `CREATE INDEX ix_audit_entry_at ON audit_entry (at)`,
  `CREATE INDEX ix_audit_entry_op ON audit_entry (op, at)`,
  `CREATE INDEX ix_audit_entry_actor ON audit_entry (actor, at)`,
  `CREATE INDEX ix_audit_entry_partner ON audit_entry (partner, at)`,
  `CREATE TABLE audit_node (
    level integer NOT NULL, idx bigint NOT NULL, hash varchar(43) NOT NULL,
    PRIMARY KEY (level, idx))`,
  `CREATE TABLE audit_checkpoint (
    size bigint PRIMARY KEY, root varchar(43) NOT NULL, at varchar(24) NOT NULL,
    jws text NOT NULL, cosignature text)`,
  `CREATE TABLE audit_state (key varchar(32) PRIMARY KEY, value text NOT NULL)`,
];

/**
 * A log's repository over the {@link AUDIT_LOG_TABLES}: raw SQL on both drivers (SQLite and
 * PostgreSQL), the only audit code that touches the database. The node and the hub each extend
 * it as their injectable store. Appends are multi-row inserts with the tree nodes they complete,
 * in their own transaction or in the caller's (the operation's) transaction.
 */
export class SqlAuditStore {
  private readonly pg: boolean;

  constructor(protected readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  /** The manager outside any transaction. */
  get manager(): EntityManager {
    return this.ds.manager;
  }

  protected sql(text: string): string {
    if (!this.pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  protected async q<T>(text: string, params: unknown[] = [], m?: EntityManager): Promise<T[]> {
    return (m ?? this.ds.manager).query<T[]>(this.sql(text), params);
  }

  /**
   * Append entries and the tree nodes they complete, atomically: in `m`'s transaction when given
   * (the operation's own), else in a transaction of their own.
   */
  async append(rows: readonly AuditRow[], nodes: readonly TreeNode[], m?: EntityManager) {
    if (m) await this.insert(rows, nodes, m);
    else await this.ds.transaction((t) => this.insert(rows, nodes, t));
  }

  private async insert(rows: readonly AuditRow[], nodes: readonly TreeNode[], m: EntityManager) {
    {
      for (let i = 0; i < rows.length; i += 200) {
        const part = rows.slice(i, i + 200);
        const params: unknown[] = [];
        for (const r of part) {
          params.push(r.seq, r.at, r.actor, r.op, r.partner, r.agreement, r.records, r.entryJson);
        }
        await this.q(
          `INSERT INTO audit_entry (seq, at, actor, op, partner, agreement, records, entry_json)
           VALUES ${part.map(() => '(?,?,?,?,?,?,?,?)').join(',')}`,
          params,
          m,
        );
      }
      for (let i = 0; i < nodes.length; i += 300) {
        const part = nodes.slice(i, i + 300);
        const params: unknown[] = [];
        for (const n of part) params.push(n.level, n.index, toB64u(n.hash));
        await this.q(
          `INSERT INTO audit_node (level, idx, hash) VALUES ${part.map(() => '(?,?,?)').join(',')}`,
          params,
          m,
        );
      }
    }
  }

  /** Number of leaves in the tree (entries ever appended, pruned ones included). */
  async treeSize(): Promise<number> {
    const rows = await this.q<{ n: string | number | null }>(
      'SELECT MAX(idx) AS n FROM audit_node WHERE level = 0',
    );
    const n = rows[0]?.n;
    return n === null || n === undefined ? 0 : Number(n) + 1;
  }

  async nodes(coords: readonly { level: number; index: number }[]): Promise<TreeNode[]> {
    const out: TreeNode[] = [];
    for (let i = 0; i < coords.length; i += 100) {
      const part = coords.slice(i, i + 100);
      if (part.length === 0) continue;
      const params: unknown[] = [];
      for (const c of part) params.push(c.level, c.index);
      const rows = await this.q<{ level: number; idx: string | number; hash: string }>(
        `SELECT level, idx, hash FROM audit_node WHERE ${part.map(() => '(level = ? AND idx = ?)').join(' OR ')}`,
        params,
      );
      for (const r of rows) {
        out.push({ level: Number(r.level), index: Number(r.idx), hash: fromB64u(r.hash) });
      }
    }
    return out;
  }

  async query(f: EntryQuery): Promise<string[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, v: unknown): void => {
      where.push(clause);
      params.push(v);
    };
    if (f.since) add('at >= ?', f.since);
    if (f.until) add('at < ?', f.until);
    if (f.actor) add('actor = ?', f.actor);
    if (f.op) add('op = ?', f.op);
    if (f.partner) add('partner = ?', f.partner);
    if (f.agreement) add('agreement = ?', f.agreement);
    if (f.record) add('records LIKE ?', `%/${f.record}@%`);
    if (f.afterSeq !== undefined) add('seq > ?', f.afterSeq);
    params.push(f.limit);
    const rows = await this.q<{ entry_json: string }>(
      `SELECT entry_json FROM audit_entry ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq LIMIT ?`,
      params,
    );
    return rows.map((r) => r.entry_json);
  }

  /** Entry texts of positions [from, to), in order, in pages. */
  async *range(
    from: number,
    to: number,
    page = 5000,
  ): AsyncGenerator<{ seq: number; json: string }[]> {
    for (let lo = from; lo < to; lo += page) {
      const rows = await this.q<{ seq: string | number; entry_json: string }>(
        'SELECT seq, entry_json FROM audit_entry WHERE seq >= ? AND seq < ? ORDER BY seq',
        [lo, Math.min(lo + page, to)],
      );
      yield rows.map((r) => ({ seq: Number(r.seq), json: r.entry_json }));
    }
  }

  async entryAt(seq: number): Promise<string | null> {
    const rows = await this.q<{ entry_json: string }>(
      'SELECT entry_json FROM audit_entry WHERE seq = ?',
      [seq],
    );
    return rows[0]?.entry_json ?? null;
  }

  async addCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.q(
      'INSERT INTO audit_checkpoint (size, root, at, jws, cosignature) VALUES (?,?,?,?,?)',
      [c.size, c.root, c.at, c.jws, c.cosignature],
    );
  }

  /**
   * Cosignatures kept outside `audit_checkpoint.cosignature`, for checkpoints up to `size`: none
   * for a node's log (its one witness's goes in that column); the hub's store returns its
   * members' (ADR 0061).
   */
  moreCosignatures(_size: number): Promise<string[]> {
    return Promise.resolve([]);
  }

  async setCosignature(size: number, jws: string): Promise<void> {
    await this.q('UPDATE audit_checkpoint SET cosignature = ? WHERE size = ?', [jws, size]);
  }

  /** The checkpoint signed at exactly `size`, if any. */
  async checkpointAt(size: number): Promise<StoredCheckpoint | undefined> {
    return (await this.checkpointRows('WHERE size = ?', [size]))[0];
  }

  async checkpoints(limit = 100000, newestFirst = false): Promise<StoredCheckpoint[]> {
    return this.checkpointRows(`ORDER BY size ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`, [limit]);
  }

  private async checkpointRows(tail: string, params: unknown[]): Promise<StoredCheckpoint[]> {
    const rows = await this.q<Omit<StoredCheckpoint, 'size'> & { size: string | number }>(
      `SELECT size, root, at, jws, cosignature FROM audit_checkpoint ${tail}`,
      params,
    );
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  async getState(key: string): Promise<string | null> {
    const rows = await this.q<{ value: string }>('SELECT value FROM audit_state WHERE key = ?', [
      key,
    ]);
    return rows[0]?.value ?? null;
  }

  /** Record the new retention start and delete the entries before it, atomically. */
  async prune(start: number, stateJson: string): Promise<number> {
    return this.ds.transaction(async (m) => {
      await this.q('DELETE FROM audit_state WHERE key = ?', ['retention'], m);
      await this.q(
        'INSERT INTO audit_state (key, value) VALUES (?, ?)',
        ['retention', stateJson],
        m,
      );
      const before = await this.q<{ n: string | number }>(
        'SELECT COUNT(*) AS n FROM audit_entry WHERE seq < ?',
        [start],
        m,
      );
      await this.q('DELETE FROM audit_entry WHERE seq < ?', [start], m);
      return Number(before[0]?.n ?? 0);
    });
  }

  /** Position of the last entry at or before `cutoff` (by time), or -1. */
  async lastSeqAtOrBefore(cutoff: string): Promise<number> {
    const rows = await this.q<{ n: string | number | null }>(
      'SELECT MAX(seq) AS n FROM audit_entry WHERE at < ?',
      [cutoff],
    );
    const n = rows[0]?.n;
    return n === null || n === undefined ? -1 : Number(n);
  }
}
