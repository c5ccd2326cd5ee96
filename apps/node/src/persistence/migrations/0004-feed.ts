import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The hub feed on a member node (apps/node/src/feed). */
export class Feed1764450000000 implements MigrationInterface {
  name = 'Feed1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE feed_item (
      type varchar(24) NOT NULL, value varchar(2048) NOT NULL, item_json text NOT NULL,
      seq varchar(20) NOT NULL, updated_at varchar(24) NOT NULL, PRIMARY KEY (type, value))`);
    await q.query(`CREATE TABLE feed_cursor (
      source varchar(16) PRIMARY KEY, seq varchar(20) NOT NULL, last_jws text NOT NULL,
      updated_at varchar(24) NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE feed_cursor');
    await q.query('DROP TABLE feed_item');
  }
}
