import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tamper-evident audit log (docs/audit.md): entries, tree node hashes, checkpoints. */
export class Audit1764400000000 implements MigrationInterface {
  name = 'Audit1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      // seq is the entry's position, its Merkle leaf index; entry_json the exact hashed bytes.
      `CREATE TABLE audit_entry (
        seq bigint PRIMARY KEY, at varchar(24) NOT NULL, actor varchar(128) NOT NULL,
        op varchar(16) NOT NULL, partner varchar(32), agreement varchar(64),
        records text NOT NULL, entry_json text NOT NULL)`,
      `CREATE INDEX ix_audit_entry_at ON audit_entry (at)`,
      `CREATE INDEX ix_audit_entry_op ON audit_entry (op, at)`,
      `CREATE INDEX ix_audit_entry_actor ON audit_entry (actor, at)`,
      `CREATE INDEX ix_audit_entry_partner ON audit_entry (partner, at)`,
      // Complete-subtree hashes (level 0: leaves): proofs read O(log n) rows, never rehash.
      `CREATE TABLE audit_node (
        level integer NOT NULL, idx bigint NOT NULL, hash varchar(43) NOT NULL,
        PRIMARY KEY (level, idx))`,
      `CREATE TABLE audit_checkpoint (
        size bigint PRIMARY KEY, root varchar(43) NOT NULL, at varchar(24) NOT NULL,
        jws text NOT NULL, cosignature text)`,
      `CREATE TABLE audit_state (key varchar(32) PRIMARY KEY, value text NOT NULL)`,
    ];
    for (const s of statements) await q.query(s);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_state', 'audit_checkpoint', 'audit_node', 'audit_entry']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
