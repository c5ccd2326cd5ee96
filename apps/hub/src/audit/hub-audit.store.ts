import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { SqlAuditStore } from '../../../../libs/audit/src/index.js';
import { HUB_DATA_SOURCE } from '../persistence/hub.store.js';

/** A member's cosignature of one of the hub's checkpoints, as listed to auditors. */
export interface HubLogCosignature {
  size: number;
  witness: string;
  witnessedAt: string;
}

/**
 * The hub's audit log repository: libs/audit's SqlAuditStore over the hub's database, with the
 * members' cosignatures of its checkpoints (`audit_cosignature`, ADR 0061).
 */
@Injectable()
export class HubAuditStore extends SqlAuditStore {
  constructor(@Inject(HUB_DATA_SOURCE) ds: DataSource) {
    super(ds);
  }

  /** Keep a member's cosignature (a second copy of the same one changes nothing). */
  async addMemberCosignature(
    size: number,
    witness: string,
    jws: string,
    witnessedAt: string,
  ): Promise<void> {
    await this.q(
      `INSERT INTO audit_cosignature (size, witness, jws, witnessed_at) VALUES (?,?,?,?)
       ON CONFLICT (size, witness) DO NOTHING`,
      [size, witness, jws, witnessedAt],
    );
  }

  override async moreCosignatures(size: number): Promise<string[]> {
    const rows = await this.q<{ jws: string }>(
      'SELECT jws FROM audit_cosignature WHERE size <= ? ORDER BY size, witness',
      [size],
    );
    return rows.map((r) => r.jws);
  }

  /** The newest cosignatures, newest checkpoint first. */
  /** Per member, the largest size of the hub's log it countersigned (members that never did: absent). */
  async cosignedUpTo(): Promise<Map<string, number>> {
    const rows = await this.q<{ witness: string; size: string | number }>(
      'SELECT witness, MAX(size) AS size FROM audit_cosignature GROUP BY witness',
    );
    return new Map(rows.map((r) => [r.witness, Number(r.size)]));
  }

  async memberCosignatures(limit: number): Promise<HubLogCosignature[]> {
    const rows = await this.q<{ size: string | number; witness: string; witnessed_at: string }>(
      'SELECT size, witness, witnessed_at FROM audit_cosignature ORDER BY size DESC, witness LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({
      size: Number(r.size),
      witness: r.witness,
      witnessedAt: r.witnessed_at,
    }));
  }
}
