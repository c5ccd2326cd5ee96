import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Initial schema of a national node, for SQLite and PostgreSQL. */
export class Initial1764300000000 implements MigrationInterface {
  name = 'Initial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const serial = pg ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const statements = [
      `CREATE TABLE indicator (
        origin varchar(16) NOT NULL, record_id varchar(36) NOT NULL, version integer NOT NULL,
        status varchar(16) NOT NULL, type varchar(24) NOT NULL, value varchar(2048) NOT NULL,
        tlp varchar(16) NOT NULL, categories varchar(128) NOT NULL, valid_until varchar(24) NOT NULL,
        record_text text NOT NULL, local_json text, received_from varchar(16),
        updated_at varchar(24) NOT NULL, PRIMARY KEY (origin, record_id))`,
      `CREATE INDEX ix_indicator_type_value ON indicator (type, value)`,
      `CREATE INDEX ix_indicator_updated ON indicator (updated_at)`,
      `CREATE TABLE indicator_version (
        origin varchar(16) NOT NULL, record_id varchar(36) NOT NULL, version integer NOT NULL,
        record_text text NOT NULL, proof_json text, received_from varchar(16),
        recorded_at varchar(24) NOT NULL, actor varchar(64),
        PRIMARY KEY (origin, record_id, version))`,
      `CREATE TABLE outbox_item (
        id ${serial}, addressee varchar(16) NOT NULL, record_id varchar(36) NOT NULL,
        version integer NOT NULL, agreement_id varchar(64) NOT NULL, record_text text NOT NULL,
        bundle_seq varchar(20), created_at varchar(24) NOT NULL)`,
      `CREATE INDEX ix_outbox_item_pending ON outbox_item (addressee, bundle_seq)`,
      `CREATE INDEX ix_outbox_item_record ON outbox_item (record_id)`,
      `CREATE TABLE outbox_bundle (
        addressee varchar(16) NOT NULL, seq varchar(20) NOT NULL, msg_id varchar(80) NOT NULL,
        payload text NOT NULL, root varchar(64) NOT NULL, count integer NOT NULL,
        status varchar(16) NOT NULL, created_at varchar(24) NOT NULL, sent_at varchar(24),
        receipt_json text, PRIMARY KEY (addressee, seq))`,
      `CREATE INDEX ix_outbox_bundle_status ON outbox_bundle (status)`,
      `CREATE TABLE inbound_bundle (
        origin varchar(16) NOT NULL, seq varchar(20) NOT NULL, root varchar(64) NOT NULL,
        count integer NOT NULL, accepted integer NOT NULL, kid varchar(64) NOT NULL,
        received_at varchar(24) NOT NULL, PRIMARY KEY (origin, seq))`,
      `CREATE TABLE sequence_gap (
        id ${serial}, origin varchar(16) NOT NULL, from_seq varchar(20) NOT NULL,
        to_seq varchar(20) NOT NULL, detected_at varchar(24) NOT NULL)`,
      `CREATE TABLE dead_letter (
        id ${serial}, subject varchar(255) NOT NULL, origin varchar(16), code varchar(32) NOT NULL,
        detail text NOT NULL, size integer NOT NULL, data text NOT NULL,
        received_at varchar(24) NOT NULL)`,
      `CREATE TABLE node_state (key varchar(64) PRIMARY KEY, value text NOT NULL)`,
    ];
    for (const s of statements) await q.query(s);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'node_state',
      'dead_letter',
      'sequence_gap',
      'inbound_bundle',
      'outbox_bundle',
      'outbox_item',
      'indicator_version',
      'indicator',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
