import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_LOG_TABLES } from '../../../../../libs/audit/src/index.js';

/** The hub's own tamper-evident log (docs/audit.md): the same tables as a node's. */
export class HubAudit1764500000000 implements MigrationInterface {
  name = 'HubAudit1764500000000';

  async up(q: QueryRunner): Promise<void> {
    for (const s of AUDIT_LOG_TABLES) await q.query(s);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_state', 'audit_checkpoint', 'audit_node', 'audit_entry']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
