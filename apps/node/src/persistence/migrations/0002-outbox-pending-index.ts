import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relay reads the oldest queued items of one addressee (`WHERE addressee = ? AND bundle_seq
 * IS NULL ORDER BY id LIMIT n`) once per bundle. With only (addressee, bundle_seq) PostgreSQL
 * sorted every queued row for each bundle (quadratic in a backlog); this partial index holds only
 * queued items, in id order, on SQLite and PostgreSQL alike.
 */
export class OutboxPendingIndex1764350000000 implements MigrationInterface {
  name = 'OutboxPendingIndex1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX ix_outbox_item_queued ON outbox_item (addressee, id) WHERE bundle_seq IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ix_outbox_item_queued');
  }
}
