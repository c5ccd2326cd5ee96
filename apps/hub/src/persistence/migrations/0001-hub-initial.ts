import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Initial schema of the hub, for SQLite and PostgreSQL. */
export class HubInitial1764400000000 implements MigrationInterface {
  name = 'HubInitial1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const serial = pg ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const statements = [
      `CREATE TABLE hub_record (
        origin varchar(16) NOT NULL, record_id varchar(36) NOT NULL, version integer NOT NULL,
        status varchar(16) NOT NULL, type varchar(24) NOT NULL, value varchar(2048) NOT NULL,
        valid_until varchar(24) NOT NULL, has_relations integer NOT NULL,
        record_text text NOT NULL, received_at varchar(24) NOT NULL,
        PRIMARY KEY (origin, record_id))`,
      `CREATE INDEX ix_hub_record_key ON hub_record (type, value)`,
      `CREATE INDEX ix_hub_record_relations ON hub_record (has_relations)`,
      `CREATE TABLE hub_record_version (
        origin varchar(16) NOT NULL, record_id varchar(36) NOT NULL, version integer NOT NULL,
        record_text text NOT NULL, proof_json text NOT NULL, received_at varchar(24) NOT NULL,
        PRIMARY KEY (origin, record_id, version))`,
      `CREATE TABLE hub_inbound_bundle (
        origin varchar(16) NOT NULL, seq varchar(20) NOT NULL, root varchar(64) NOT NULL,
        count integer NOT NULL, accepted integer NOT NULL, kid varchar(64) NOT NULL,
        received_at varchar(24) NOT NULL, PRIMARY KEY (origin, seq))`,
      `CREATE TABLE hub_sequence_gap (
        id ${serial}, origin varchar(16) NOT NULL, from_seq varchar(20) NOT NULL,
        to_seq varchar(20) NOT NULL, detected_at varchar(24) NOT NULL)`,
      `CREATE TABLE hub_dead_letter (
        id ${serial}, subject varchar(255) NOT NULL, origin varchar(16), code varchar(32) NOT NULL,
        detail text NOT NULL, size integer NOT NULL, data text NOT NULL,
        received_at varchar(24) NOT NULL)`,
      `CREATE TABLE hub_dirty_key (
        type varchar(24) NOT NULL, value varchar(2048) NOT NULL, stamp integer NOT NULL,
        PRIMARY KEY (type, value))`,
      `CREATE TABLE hub_aggregate (
        type varchar(24) NOT NULL, value varchar(2048) NOT NULL, source_count integer NOT NULL,
        country_count integer NOT NULL, countries varchar(512) NOT NULL,
        categories varchar(128) NOT NULL, confidence integer NOT NULL,
        first_seen varchar(24) NOT NULL, last_seen varchar(24) NOT NULL,
        next_expiry varchar(24) NOT NULL, aggregate_json text NOT NULL,
        PRIMARY KEY (type, value))`,
      `CREATE INDEX ix_hub_aggregate_value ON hub_aggregate (value)`,
      `CREATE INDEX ix_hub_aggregate_expiry ON hub_aggregate (next_expiry)`,
      `CREATE INDEX ix_hub_aggregate_cross_border ON hub_aggregate (country_count)`,
      `CREATE TABLE hub_feed_item (
        member varchar(16) NOT NULL, type varchar(24) NOT NULL, value varchar(2048) NOT NULL,
        hash varchar(64) NOT NULL, PRIMARY KEY (member, type, value))`,
      // The pass reads every member's item of a key at once.
      `CREATE INDEX ix_hub_feed_item_key ON hub_feed_item (type, value)`,
      `CREATE TABLE hub_feed_message (
        member varchar(16) NOT NULL, seq varchar(20) NOT NULL, payload text NOT NULL,
        status varchar(16) NOT NULL, created_at varchar(24) NOT NULL, sent_at varchar(24),
        PRIMARY KEY (member, seq))`,
      `CREATE INDEX ix_hub_feed_message_status ON hub_feed_message (status)`,
    ];
    for (const s of statements) await q.query(s);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'hub_feed_message',
      'hub_feed_item',
      'hub_aggregate',
      'hub_dirty_key',
      'hub_dead_letter',
      'hub_sequence_gap',
      'hub_inbound_bundle',
      'hub_record_version',
      'hub_record',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
