import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { SqlAuditStore } from '../../../../libs/audit/src/index.js';
import { NODE_DATA_SOURCE } from '../persistence/node.store.js';

export type { AuditRow, EntryQuery, StoredCheckpoint } from '../../../../libs/audit/src/index.js';

/** The node's audit log repository (libs/audit SqlAuditStore) and what only a node has. */
@Injectable()
export class AuditStore extends SqlAuditStore {
  constructor(@Inject(NODE_DATA_SOURCE) ds: DataSource) {
    super(ds);
  }

  /** The items of one outbox bundle, for its disclosure entry. */
  async bundleItems(
    addressee: string,
    seqText: string,
    m?: EntityManager,
  ): Promise<{ recordId: string; version: number; agreement: string }[]> {
    const rows = await this.q<{
      record_id: string;
      version: number | string;
      agreement_id: string;
    }>(
      `SELECT record_id, version, agreement_id FROM outbox_item
        WHERE addressee = ? AND bundle_seq = ? ORDER BY id`,
      [addressee, seqText],
      m,
    );
    return rows.map((r) => ({
      recordId: r.record_id,
      version: Number(r.version),
      agreement: r.agreement_id,
    }));
  }
}
