import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { toB64u, toRfc3339Ms, type SigningKey } from '../../protocol/src/index.js';
import { encodeFrontier, signStatement } from './checkpoint.js';
import {
  canonicalEntryText,
  checkEvent,
  toEntry,
  type AuditEntry,
  type AuditEvent,
} from './entry.js';
import { fastLeafHashText } from './hash.js';
import { AuditError } from './errors.js';
import type { ExportManifestFile } from './export-verify.js';
import type { AuditRow, EntryQuery, SqlAuditStore, StoredCheckpoint } from './sql-store.js';
import {
  Frontier,
  MapReader,
  consistencyPath,
  inclusionPath,
  nodesNeeded,
  treeRoot,
  type NodeReader,
  type TreeNode,
} from './tree.js';
import type { ConsistencyClaim } from './witness.js';

/**
 * What a store's transaction method calls last, inside its transaction, with its EntityManager:
 * the operation's audit entries are written there, so they commit or roll back with it.
 */
export type AuditHook = (m: EntityManager) => Promise<void>;

/** What an audit entry accepts as `partner` (libs/audit entry.ts checks the same). */
const PARTNER = /^[a-z][a-z0-9-]{0,31}$/;

/** The events of an operation, or a function that reads what it needs in the transaction. */
export type AuditEvents =
  readonly AuditEvent[] | ((m: EntityManager) => AuditEvent[] | Promise<AuditEvent[]>);

/** Who asks, for the log of the auditor's own reads. */
export interface AuditReader {
  actor: string;
}

/** What the owner of a log publishes to the witness for each checkpoint. */
export interface CheckpointMessage {
  checkpoint: string;
  proofs: ConsistencyClaim[];
}

/** The size a checkpoint message of our own signs (its payload, read without verifying). */
export function checkpointMessageSize(msg: CheckpointMessage): number {
  const payload = Buffer.from(msg.checkpoint.split('.')[1] ?? '', 'base64url').toString('utf8');
  return (JSON.parse(payload) as { size: number }).size;
}

/** What a log needs from its owner (read when used: a node learns its id after start-up). */
export interface AuditLogOwner {
  /** The member id, or `hub`. */
  readonly logId: string;
  /** The federation signing key checkpoints and export manifests are signed with. */
  readonly signingKey: SigningKey;
  /** The signed directory exports carry. */
  readonly directoryJws: string;
  readonly retentionDays: number;
  readonly logger: { log(m: string): void; error(m: string): void };
}

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const DAY_MS = 24 * 3600 * 1000;

function rowOf(entry: AuditEntry, entryJson: string): AuditRow {
  return {
    seq: entry.seq,
    at: entry.at,
    actor: entry.actor,
    op: entry.op,
    partner: entry.partner ?? null,
    agreement: entry.agreement ?? null,
    records: `,${(entry.records ?? []).join(',')},`,
    entryJson,
  };
}

/**
 * A tamper-evident log over a {@link SqlAuditStore} (docs/audit.md): appending (batched, or inside
 * an operation's transaction with {@link within}), proofs, signed checkpoints, export and
 * retention. The node's AuditService and the hub's HubAuditService extend it.
 *
 * One writer per database: the right edge of the tree is kept in memory, and a lock orders every
 * write of entries (taken before any transaction starts, so a writer never waits for the lock
 * while holding a connection another writer waits for).
 */
export class AuditLog {
  private frontier = new Frontier();
  private start = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    protected readonly store: SqlAuditStore,
    protected readonly owner: AuditLogOwner,
  ) {}

  /** Load the right edge of the tree and the retention start. */
  async load(): Promise<void> {
    const size = await this.store.treeSize();
    const nodes = await this.store.nodes(Frontier.nodesFor(size));
    this.frontier = Frontier.fromReader(new MapReader(nodes), size);
    const retention = await this.store.getState('retention');
    this.start = retention ? (JSON.parse(retention) as { start: number }).start : 0;
  }

  /**
   * The entry of a whole message refused (bad signature, replay, misaddressed...), with its
   * code. `origin` comes from the subject, so it is named as partner only when it is a member id.
   */
  rejectedMessageEvents(origin: string | null, code: string, now: Date): AuditEvent[] {
    const partner = origin && PARTNER.test(origin) ? origin : undefined;
    return [
      {
        at: toRfc3339Ms(now),
        actor: partner ?? 'unknown',
        op: 'rejection',
        ...(partner ? { partner } : {}),
        reason: /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : 'INVALID',
      },
    ];
  }

  get logId(): string {
    return this.owner.logId;
  }

  /** Current tree size (committed entries). */
  get size(): number {
    return this.frontier.size;
  }

  private lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => held);
    return before.then(() => release);
  }

  private build(events: readonly AuditEvent[]): {
    rows: AuditRow[];
    nodes: TreeNode[];
    next: Frontier;
  } {
    const next = this.frontier.clone();
    const rows: AuditRow[] = [];
    const nodes: TreeNode[] = [];
    for (const e of events) {
      const entry = toEntry(this.logId, next.size, e);
      // RFC 8785 of an entry whose event passed checkEvent (every append checks it first).
      const text = canonicalEntryText(entry);
      nodes.push(...next.append(fastLeafHashText(text)));
      rows.push(rowOf(entry, text));
    }
    return { rows, nodes, next };
  }

  // ---- appending -------------------------------------------------------------------------

  /**
   * Append one event on its own (reads, the auditor's calls); resolves when it is committed.
   * Callers of the same moment share one transaction.
   * @throws AuditError `INVALID_ENTRY`
   */
  append(event: AuditEvent): Promise<void> {
    checkEvent(event as unknown as Record<string, unknown>);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /**
   * Run an operation whose store method writes its audit entries in its own transaction: `run`
   * gets the {@link AuditHook} to pass to that method, which calls it last inside its transaction
   * (or not at all, when the operation turned out to change nothing). The entries commit or roll
   * back with the operation.
   */
  async within<T>(events: AuditEvents, run: (hook: AuditHook) => Promise<T>): Promise<T> {
    const release = await this.lock();
    let next: Frontier | undefined;
    try {
      const hook: AuditHook = async (m) => {
        if (next) throw new AuditError('INVALID_ENTRY', 'an audit hook is called once');
        const es = typeof events === 'function' ? await events(m) : events;
        for (const e of es) checkEvent(e as unknown as Record<string, unknown>);
        if (es.length === 0) return;
        const b = this.build(es);
        await this.store.append(b.rows, b.nodes, m);
        next = b.next;
      };
      let result: T;
      try {
        result = await run(hook);
      } catch (e) {
        // Rolled back, or failed after the commit: the stored tree is the truth.
        if (next) await this.load().catch(() => undefined);
        throw e;
      }
      if (next) this.frontier = next;
      return result;
    } finally {
      release();
    }
  }

  /** Wait until everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    // Let callers of the same tick join the batch.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 2000);
        const release = await this.lock();
        try {
          const b = this.build(batch.map((p) => p.event));
          await this.store.append(b.rows, b.nodes);
          this.frontier = b.next;
          for (const p of batch) p.resolve();
        } catch (e) {
          this.owner.logger.error(
            `audit append failed: ${e instanceof Error ? e.message : String(e)}`,
          );
          for (const p of batch) p.reject(e);
          await this.load().catch(() => undefined);
        } finally {
          release();
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  // ---- the auditor's reads ------------------------------------------------------------------

  protected async audited(
    reader: AuditReader,
    route: string,
    detail: Record<string, string | number | boolean> = {},
  ): Promise<void> {
    await this.append({
      at: toRfc3339Ms(new Date()),
      actor: reader.actor,
      op: 'audit',
      purpose: 'audit',
      detail: { route, ...detail },
    });
  }

  async entries(q: EntryQuery, reader: AuditReader): Promise<AuditEntry[]> {
    const filters = Object.entries(q)
      .filter(([k, v]) => v !== undefined && k !== 'limit')
      .map(([k]) => k)
      .join(',');
    await this.audited(reader, 'entries', { filters });
    const rows = await this.store.query(q);
    return rows.map((r) => JSON.parse(r) as AuditEntry);
  }

  protected async reader(compute: (r: NodeReader) => unknown): Promise<NodeReader> {
    return new MapReader(await this.store.nodes(nodesNeeded(compute)));
  }

  private checkSize(size: number | undefined): number {
    const s = size ?? this.size;
    if (s > this.size || s < 1) {
      throw new AuditError('INVALID_PROOF_REQUEST', `size ${s} is not in [1, ${this.size}]`);
    }
    return s;
  }

  async inclusion(seq: number, size: number | undefined, reader: AuditReader) {
    await this.flush();
    const n = this.checkSize(size);
    await this.audited(reader, 'proofs/inclusion', { seq, size: n });
    const compute = (r: NodeReader) => ({
      path: inclusionPath(r, seq, n),
      root: treeRoot(r, n),
      leaf: r.node(0, seq),
    });
    const p = compute(await this.reader(compute));
    const entry = await this.store.entryAt(seq);
    return {
      seq,
      size: n,
      root: toB64u(p.root),
      leafHash: toB64u(p.leaf),
      path: p.path.map(toB64u),
      entry: entry ? (JSON.parse(entry) as AuditEntry) : null,
    };
  }

  async consistency(from: number, to: number | undefined, reader: AuditReader) {
    await this.flush();
    const n = this.checkSize(to);
    await this.audited(reader, 'proofs/consistency', { from, to: n });
    const compute = (r: NodeReader) => ({
      path: consistencyPath(r, from, n),
      oldRoot: treeRoot(r, from),
      newRoot: treeRoot(r, n),
    });
    const p = compute(await this.reader(compute));
    return {
      from,
      to: n,
      oldRoot: toB64u(p.oldRoot),
      newRoot: toB64u(p.newRoot),
      path: p.path.map(toB64u),
    };
  }

  async checkpointList(reader: AuditReader): Promise<StoredCheckpoint[]> {
    await this.audited(reader, 'checkpoints');
    return this.store.checkpoints();
  }

  // ---- checkpoints --------------------------------------------------------------------------

  /**
   * Sign a checkpoint of everything committed, unless nothing changed since the last one. Returns
   * the message for a witness with consistency proofs from the last few checkpoint sizes (the
   * witness picks the one it last saw).
   */
  async checkpoint(now = new Date()): Promise<CheckpointMessage | undefined> {
    await this.flush();
    // Size and root from one frontier, before any await: entries committed while the store
    // answers below replace `this.frontier`, whose root would then be a larger tree's.
    const frontier = this.frontier;
    const size = frontier.size;
    const root = toB64u(frontier.root());
    const recent = await this.store.checkpoints(8, true);
    if (size === 0 || recent[0]?.size === size) return undefined;
    const at = toRfc3339Ms(now);
    const jws = await signStatement(
      { v: 1, type: 'checkpoint', log: this.logId, size, root, at },
      this.owner.signingKey,
    );
    await this.store.addCheckpoint({ size, root, at, jws, cosignature: null });
    const froms = recent.map((c) => c.size).filter((s) => s < size);
    const compute = (r: NodeReader) =>
      froms.map((from) => ({ from, path: consistencyPath(r, from, size) }));
    const claims = compute(await this.reader(compute));
    return {
      checkpoint: jws,
      proofs: claims.map((c) => ({ from: c.from, path: c.path.map(toB64u) })),
    };
  }

  /** The last checkpoint's message again (re-publication after a broker outage). */
  async lastCheckpointMessage(): Promise<CheckpointMessage | undefined> {
    const [last] = await this.store.checkpoints(1, true);
    return last ? { checkpoint: last.jws, proofs: [] } : undefined;
  }

  // ---- export ---------------------------------------------------------------------------------

  /** The retained positions [start, size). */
  range(size?: number): { start: number; size: number } {
    const n = size ?? this.size;
    if (n > this.size || n < this.start) {
      throw new AuditError(
        'INVALID_PROOF_REQUEST',
        `size ${n} is not in [${this.start}, ${this.size}]`,
      );
    }
    return { start: this.start, size: n };
  }

  /** The export's lines: each retained entry's canonical JSON and a newline. */
  async *exportLines(size: number): AsyncGenerator<string> {
    const { start } = this.range(size);
    // Rows are exported as stored, in position order: a tampered row is for the verifier to find.
    for await (const page of this.store.range(start, size)) {
      for (const row of page) yield `${row.json}\n`;
    }
  }

  /** Sign a manifest for the export of [start, size): the file's SHA-256 and the tree root. */
  async exportManifest(size: number | undefined, reader: AuditReader): Promise<ExportManifestFile> {
    await this.flush();
    const r = this.range(size);
    await this.audited(reader, 'export', { size: r.size });
    const sha = createHash('sha256');
    for await (const line of this.exportLines(r.size)) sha.update(line);
    const compute = (nr: NodeReader) => ({
      root: treeRoot(nr, r.size),
      prefix: Frontier.fromReader(nr, r.start).hashes,
    });
    const t = compute(await this.reader(compute));
    const manifest = await signStatement(
      {
        v: 1,
        type: 'audit-export',
        log: this.logId,
        start: r.start,
        size: r.size,
        root: toB64u(t.root),
        sha256: sha.digest('base64url'),
        prefix: encodeFrontier(t.prefix),
        exportedAt: toRfc3339Ms(new Date()),
        exportedBy: reader.actor,
      },
      this.owner.signingKey,
    );
    const cps = (await this.store.checkpoints()).filter((c) => c.size <= r.size);
    return {
      manifest,
      checkpoints: cps.map((c) => c.jws),
      cosignatures: [
        ...cps.flatMap((c) => (c.cosignature ? [c.cosignature] : [])),
        ...(await this.store.moreCosignatures(r.size)),
      ],
      directory: this.owner.directoryJws,
    };
  }

  // ---- retention ------------------------------------------------------------------------------

  /**
   * Delete entries older than the retention period, up to the newest checkpoint they are all
   * before: the tree's node hashes and every checkpoint stay, so proofs and verification of what
   * is retained still work (the export carries the right edge at the new start).
   */
  async prune(now = new Date()): Promise<{ start: number; deleted: number }> {
    await this.flush();
    const days = this.owner.retentionDays;
    const cutoff = toRfc3339Ms(new Date(now.getTime() - days * DAY_MS));
    const lastOld = await this.store.lastSeqAtOrBefore(cutoff);
    const candidates = (await this.store.checkpoints()).filter((c) => c.size <= lastOld + 1);
    const target = candidates[candidates.length - 1];
    if (!target || target.size <= this.start) return { start: this.start, deleted: 0 };
    const nodes = await this.store.nodes(Frontier.nodesFor(target.size));
    const prefix = Frontier.fromReader(new MapReader(nodes), target.size);
    const deleted = await this.store.prune(
      target.size,
      JSON.stringify({
        start: target.size,
        prefix: encodeFrontier(prefix.hashes),
        checkpointAt: target.at,
      }),
    );
    this.start = target.size;
    await this.append({
      at: toRfc3339Ms(now),
      actor: 'system',
      op: 'erasure',
      reason: 'log-retention',
      detail: { before: target.size, deleted, retentionDays: days },
    });
    this.owner.logger.log(`pruned ${deleted} audit entries before position ${target.size}`);
    return { start: target.size, deleted };
  }
}
