import type { DataSource } from 'typeorm';
import {
  parseStrictJson,
  toRfc3339Ms,
  type KeyResolver,
  type SigningKey,
} from '../../protocol/src/index.js';
import { openCheckpoint, signStatement } from './checkpoint.js';
import { AuditError } from './errors.js';
import {
  judgeCheckpoint,
  type ConsistencyClaim,
  type WitnessedHead,
  type WitnessVerdict,
} from './witness.js';

/** A witness decision, kept for auditors (accepted and refused checkpoints alike). */
export interface WitnessEvent {
  log: string;
  size: number;
  root: string;
  verdict: 'cosigned' | 'refused';
  code: string | null;
  reason: string | null;
  at: string;
}

const B64U_HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * On a `checkpoints` subject a witness and a log owner exchange two kinds of message: the owner's
 * checkpoint message (a JSON object) and the witness's cosignature (a compact JWS, which never
 * starts with `{`). True for the first kind.
 */
export function isCheckpointMessage(data: Uint8Array): boolean {
  for (const b of data) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b;
  }
  return false;
}

/** Parse `{checkpoint, proofs}` as a log owner publishes it. @throws AuditError `INVALID_CHECKPOINT` */
export function parseCheckpointMessage(data: Uint8Array): {
  checkpoint: string;
  proofs: ConsistencyClaim[];
} {
  let v: Record<string, unknown>;
  try {
    v = parseStrictJson(data, { maxBytes: 256 * 1024 }) as Record<string, unknown>;
  } catch (e) {
    throw new AuditError(
      'INVALID_CHECKPOINT',
      `not a checkpoint message: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const ok =
    typeof v === 'object' &&
    v !== null &&
    typeof v.checkpoint === 'string' &&
    Array.isArray(v.proofs) &&
    v.proofs.length <= 64 &&
    (v.proofs as unknown[]).every((p) => {
      const c = p as Record<string, unknown>;
      return (
        typeof c?.from === 'number' &&
        Number.isSafeInteger(c.from) &&
        Array.isArray(c.path) &&
        c.path.length <= 128 &&
        (c.path as unknown[]).every((h) => typeof h === 'string' && B64U_HASH.test(h))
      );
    });
  if (!ok)
    throw new AuditError('INVALID_CHECKPOINT', 'not a checkpoint message {checkpoint, proofs}');
  return v as unknown as { checkpoint: string; proofs: ConsistencyClaim[] };
}

/**
 * A witness's memory: the last checkpoint it accepted per log, and every decision. Raw SQL on the
 * owner's database (the hub's and the node's alike); `ensureTables` creates the two tables when
 * missing (ADR 0023).
 */
export class SqlWitnessStore {
  private readonly pg: boolean;

  constructor(private readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  private sql(text: string): string {
    if (!this.pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  private q<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.ds.query<T[]>(this.sql(text), params);
  }

  async ensureTables(): Promise<void> {
    const serial = this.pg ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    await this.q(`CREATE TABLE IF NOT EXISTS audit_witness_head (
      log varchar(32) PRIMARY KEY, size bigint NOT NULL, root varchar(43) NOT NULL,
      at varchar(24) NOT NULL, checkpoint text NOT NULL)`);
    await this.q(`CREATE TABLE IF NOT EXISTS audit_witness_event (
      id ${serial}, log varchar(32) NOT NULL, size bigint NOT NULL, root varchar(43) NOT NULL,
      verdict varchar(16) NOT NULL, code varchar(32), reason text, at varchar(24) NOT NULL)`);
  }

  async head(log: string): Promise<WitnessedHead | undefined> {
    const rows = await this.q<{ size: string | number; root: string; at: string }>(
      'SELECT size, root, at FROM audit_witness_head WHERE log = ?',
      [log],
    );
    const r = rows[0];
    return r ? { size: Number(r.size), root: r.root, at: r.at } : undefined;
  }

  /** Move the head forward and record the decision, atomically. */
  async accept(
    log: string,
    head: WitnessedHead,
    checkpoint: string,
    e: WitnessEvent,
  ): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.query(this.sql('DELETE FROM audit_witness_head WHERE log = ?'), [log]);
      await m.query(
        this.sql(
          'INSERT INTO audit_witness_head (log, size, root, at, checkpoint) VALUES (?,?,?,?,?)',
        ),
        [log, head.size, head.root, head.at, checkpoint],
      );
      await m.query(
        this.sql(
          'INSERT INTO audit_witness_event (log, size, root, verdict, code, reason, at) VALUES (?,?,?,?,?,?,?)',
        ),
        [e.log, e.size, e.root, e.verdict, e.code, e.reason, e.at],
      );
    });
  }

  async refuse(e: WitnessEvent): Promise<void> {
    await this.q(
      'INSERT INTO audit_witness_event (log, size, root, verdict, code, reason, at) VALUES (?,?,?,?,?,?,?)',
      [e.log, e.size, e.root, e.verdict, e.code, e.reason, e.at],
    );
  }

  /** How many checkpoints of `log` this witness refused (rollbacks, forks, unproven jumps). */
  async refusals(log: string): Promise<number> {
    const rows = await this.q<{ n: string | number }>(
      "SELECT COUNT(*) AS n FROM audit_witness_event WHERE log = ? AND verdict = 'refused'",
      [log],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async events(limit: number): Promise<WitnessEvent[]> {
    const rows = await this.q<WitnessEvent & { size: string | number }>(
      'SELECT log, size, root, verdict, code, reason, at FROM audit_witness_event ORDER BY id DESC LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  /**
   * The last accepted checkpoint per log, with its signed text: what an auditor compares with the
   * log owner's export to find a log shown differently to different witnesses (ADR 0062).
   */
  async heads(): Promise<(WitnessedHead & { log: string; checkpoint: string })[]> {
    const rows = await this.q<{
      log: string;
      size: string | number;
      root: string;
      at: string;
      checkpoint: string;
    }>('SELECT log, size, root, at, checkpoint FROM audit_witness_head ORDER BY log');
    return rows.map((r) => ({
      log: r.log,
      size: Number(r.size),
      root: r.root,
      at: r.at,
      checkpoint: r.checkpoint,
    }));
  }
}

/**
 * Witness one checkpoint message of `log` (docs/audit.md, "Witness"): verify its signature with
 * the log owner's key, judge it against the last one accepted (libs/audit `judgeCheckpoint`),
 * record the decision, and sign a cosignature when it is accepted. The hub witnesses members'
 * logs this way, and every member the hub's (ADR 0061).
 *
 * @throws AuditError for a malformed message, a bad signature or a checkpoint of another log (the
 *   caller drops it; nothing is recorded)
 */
export async function witnessCheckpoint(p: {
  /** Who witnesses: `hub`, or a member id. */
  witness: string;
  /** Whose log the message must be. */
  log: string;
  data: Uint8Array;
  /** The log owner's signing keys. */
  resolveLogKey: KeyResolver;
  store: SqlWitnessStore;
  signingKey: SigningKey;
  now: Date;
}): Promise<{ verdict: WitnessVerdict; cosignature?: string }> {
  const msg = parseCheckpointMessage(p.data);
  const cp = await openCheckpoint(msg.checkpoint, p.resolveLogKey);
  if (cp.log !== p.log) {
    throw new AuditError('INVALID_CHECKPOINT', `checkpoint of ${cp.log} sent by ${p.log}`);
  }
  const verdict = judgeCheckpoint(await p.store.head(p.log), cp, msg.proofs);
  const at = toRfc3339Ms(p.now);
  const base = { log: p.log, size: cp.size, root: cp.root, at };
  if (!verdict.ok) {
    await p.store.refuse({
      ...base,
      verdict: 'refused',
      code: verdict.code,
      reason: verdict.reason,
    });
    return { verdict };
  }
  await p.store.accept(p.log, verdict.head, msg.checkpoint, {
    ...base,
    verdict: 'cosigned',
    code: null,
    reason: null,
  });
  const cosignature = await signStatement(
    {
      v: 1,
      type: 'cosignature',
      witness: p.witness,
      log: p.log,
      size: cp.size,
      root: cp.root,
      at: cp.at,
      witnessedAt: at,
    },
    p.signingKey,
  );
  return { verdict, cosignature };
}
