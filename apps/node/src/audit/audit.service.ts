import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  canonicalize,
  toB64u,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../../../../libs/protocol/src/index.js';
import {
  AuditError,
  Frontier,
  MapReader,
  checkEvent,
  consistencyPath,
  encodeFrontier,
  entryLeafHash,
  inclusionPath,
  nodesNeeded,
  openCosignature,
  recordRef,
  signStatement,
  toEntry,
  treeRoot,
  type AuditEntry,
  type AuditEvent,
  type AuditOperation,
  type ConsistencyClaim,
  type ExportManifestFile,
  type NodeReader,
  type TreeNode,
} from '../../../../libs/audit/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { AuditStore, type EntryQuery, type StoredCheckpoint } from './audit.store.js';

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** What the node publishes to the hub's witness for each checkpoint. */
export interface CheckpointMessage {
  checkpoint: string;
  proofs: ConsistencyClaim[];
}

/** Who asks, for the log of the auditor's own reads. */
export interface AuditReader {
  actor: string;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The node's tamper-evident log (docs/audit.md). Appends are queued and written in batches, one
 * transaction per batch with the tree nodes they complete; each caller's promise resolves once its
 * entry is committed. One writer per database: the right edge of the tree is kept in memory.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('audit');
  private frontier = new Frontier();
  private start = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly federation: FederationContext,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private async reload(): Promise<void> {
    const size = await this.store.treeSize();
    const nodes = await this.store.nodes(Frontier.nodesFor(size));
    this.frontier = Frontier.fromReader(new MapReader(nodes), size);
    const retention = await this.store.getState('retention');
    this.start = retention ? (JSON.parse(retention) as { start: number }).start : 0;
  }

  get memberId(): string {
    return this.federation.memberId;
  }

  /** Current tree size (committed entries). */
  get size(): number {
    return this.frontier.size;
  }

  // ---- appending -------------------------------------------------------------------------

  /** Append one event; resolves when it is committed. @throws AuditError `INVALID_ENTRY` */
  append(event: AuditEvent): Promise<void> {
    checkEvent(event as unknown as Record<string, unknown>);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
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
        const next = this.frontier.clone();
        const rows = [];
        const nodes: TreeNode[] = [];
        for (const p of batch) {
          const entry = toEntry(this.memberId, next.size, p.event);
          const json = canonicalize(entry);
          nodes.push(...next.append(entryLeafHash(entry)));
          rows.push({
            seq: entry.seq,
            at: entry.at,
            actor: entry.actor,
            op: entry.op,
            partner: entry.partner ?? null,
            agreement: entry.agreement ?? null,
            records: `,${(entry.records ?? []).join(',')},`,
            entryJson: json,
          });
        }
        try {
          await this.store.append(rows, nodes);
          this.frontier = next;
          for (const p of batch) p.resolve();
        } catch (e) {
          this.log.error(`audit append failed: ${e instanceof Error ? e.message : String(e)}`);
          for (const p of batch) p.reject(e);
          await this.reload().catch(() => undefined);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  // ---- one call per operation (the one-liners in indicators/ and sharing/) -----------------

  /** Collection (v1), alteration (later versions) or erasure (retraction) of own records. */
  async versionsIssued(actor: string, records: readonly IndicatorRecord[], now = new Date()) {
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
    await Promise.all(
      [...groups.values()].map((g) =>
        this.append({
          at,
          actor,
          op: g.op,
          records: g.refs,
          ...(g.reason ? { reason: g.reason } : {}),
        }),
      ),
    );
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

  /** A bundle stored in the outbox for a partner: recipient, agreement(s), bundle digest. */
  async disclosed(addressee: string, seq: bigint, root: string, now = new Date()): Promise<void> {
    // The bundle's items are read back from the outbox (ids, versions, agreements), so the relay
    // hands over nothing but the bundle's identity.
    const items = await this.store.bundleItems(addressee, seq.toString().padStart(20, '0'));
    const agreements = [...new Set(items.map((i) => i.agreement))].sort();
    await this.append({
      at: toRfc3339Ms(now),
      actor: 'system',
      op: 'disclosure',
      partner: addressee,
      ...(agreements.length === 1 ? { agreement: agreements[0] } : {}),
      bundle: { seq: seq.toString(), root },
      records: items.map((i) => recordRef(this.memberId, i.recordId, i.version)),
      detail: { count: items.length, agreements: agreements.join(',') },
    });
  }

  /** A partner's signed receipt for one of our bundles. */
  async acknowledged(
    partner: string,
    seq: string,
    root: string,
    accepted: number,
    rejected: number,
    now = new Date(),
  ): Promise<void> {
    await this.append({
      at: toRfc3339Ms(now),
      actor: partner,
      op: 'disclosure',
      reason: 'acknowledged',
      partner,
      bundle: { seq, root },
      detail: { accepted, rejected },
    });
  }

  /** A bundle received from a partner: what was accepted (receipt) and rejected (with codes). */
  async received(
    origin: string,
    seq: string,
    root: string,
    accepted: readonly IndicatorRecord[],
    rejected: readonly { record: IndicatorRecord; code: string }[],
    now = new Date(),
  ): Promise<void> {
    const at = toRfc3339Ms(now);
    const bundle = { seq, root };
    const work: Promise<void>[] = [
      this.append({
        at,
        actor: origin,
        op: 'receipt',
        partner: origin,
        bundle,
        records: accepted.map((r) => recordRef(r.origin, r.id, r.version)),
        detail: { accepted: accepted.length, rejected: rejected.length },
      }),
    ];
    const byCode = new Map<string, string[]>();
    for (const r of rejected) {
      byCode.set(r.code, [
        ...(byCode.get(r.code) ?? []),
        recordRef(r.record.origin, r.record.id, r.record.version),
      ]);
    }
    for (const [code, refs] of byCode) {
      work.push(
        this.append({
          at,
          actor: origin,
          op: 'rejection',
          partner: origin,
          bundle,
          reason: code,
          records: refs,
        }),
      );
    }
    await Promise.all(work);
  }

  /** A whole message refused (bad signature, replay, misaddressed...), with its code. */
  async rejectedMessage(origin: string | null, code: string, now = new Date()): Promise<void> {
    const partner = origin && /^[a-z][a-z0-9-]{0,31}$/.test(origin) ? origin : undefined;
    await this.append({
      at: toRfc3339Ms(now),
      actor: partner ?? 'unknown',
      op: 'rejection',
      ...(partner ? { partner } : {}),
      reason: /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : 'INVALID',
    });
  }

  // ---- the auditor's reads ------------------------------------------------------------------

  private async audited(
    reader: AuditReader,
    route: string,
    detail: Record<string, string | number | boolean> = {},
  ) {
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

  private async reader(compute: (r: NodeReader) => unknown): Promise<NodeReader> {
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
   * the message for the hub's witness with consistency proofs from the last few checkpoint sizes
   * (the witness picks the one it last saw).
   */
  async checkpoint(now = new Date()): Promise<CheckpointMessage | undefined> {
    await this.flush();
    const size = this.size;
    const recent = await this.store.checkpoints(8, true);
    if (size === 0 || recent[0]?.size === size) return undefined;
    const root = toB64u(this.frontier.root());
    const at = toRfc3339Ms(now);
    const jws = await signStatement(
      { v: 1, type: 'checkpoint', log: this.memberId, size, root, at },
      this.federation.signingKey,
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
        log: this.memberId,
        start: r.start,
        size: r.size,
        root: toB64u(t.root),
        sha256: sha.digest('base64url'),
        prefix: encodeFrontier(t.prefix),
        exportedAt: toRfc3339Ms(new Date()),
        exportedBy: reader.actor,
      },
      this.federation.signingKey,
    );
    const cps = (await this.store.checkpoints()).filter((c) => c.size <= r.size);
    return {
      manifest,
      checkpoints: cps.map((c) => c.jws),
      cosignatures: cps.flatMap((c) => (c.cosignature ? [c.cosignature] : [])),
      directory: this.federation.directoryJws,
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
    const cutoff = toRfc3339Ms(new Date(now.getTime() - this.config.audit.retentionDays * DAY_MS));
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
      detail: { before: target.size, deleted, retentionDays: this.config.audit.retentionDays },
    });
    this.log.log(`pruned ${deleted} audit entries before position ${target.size}`);
    return { start: target.size, deleted };
  }
}
