import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Members' cosignatures of the hub's own audit-log checkpoints (ADR 0061): one per checkpoint size
 * and witnessing member. A node's log has a single witness (the hub), kept in
 * `audit_checkpoint.cosignature`; the hub's log has one per member.
 */
export class HubLogCosignatures1764600000000 implements MigrationInterface {
  name = 'HubLogCosignatures1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE audit_cosignature (
      size bigint NOT NULL, witness varchar(32) NOT NULL, jws text NOT NULL,
      witnessed_at varchar(24) NOT NULL, PRIMARY KEY (size, witness))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_cosignature');
  }
}
