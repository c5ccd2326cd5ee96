import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { WitnessedHead } from '../../../../libs/audit/src/index.js';
import { HUB_DATA_SOURCE } from '../persistence/hub.store.js';

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

/**
 * The witness's memory: the last checkpoint accepted per member log, and every decision. Raw SQL
 * on the hub's database; the two tables are created on first use (ADR 0023: to be folded into the
 * hub's migration list).
 */
@Injectable()
export class WitnessStore implements OnModuleInit {
  private readonly pg: boolean;

  constructor(@Inject(HUB_DATA_SOURCE) private readonly ds: DataSource) {
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

  async onModuleInit(): Promise<void> {
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

  async events(limit: number): Promise<WitnessEvent[]> {
    const rows = await this.q<WitnessEvent & { size: string | number }>(
      'SELECT log, size, root, verdict, code, reason, at FROM audit_witness_event ORDER BY id DESC LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  async heads(): Promise<(WitnessedHead & { log: string })[]> {
    const rows = await this.q<{ log: string; size: string | number; root: string; at: string }>(
      'SELECT log, size, root, at FROM audit_witness_head ORDER BY log',
    );
    return rows.map((r) => ({ log: r.log, size: Number(r.size), root: r.root, at: r.at }));
  }
}
