import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The hub feed as this member sees it: one row per aggregated indicator in its view. */
@Entity('feed_item')
export class FeedItemRow {
  @PrimaryColumn({ type: 'varchar', length: 24 }) type!: string;
  @PrimaryColumn({ type: 'varchar', length: 2048 }) value!: string;
  /** The hub's aggregate (member view) as JSON. */
  @Column({ name: 'item_json', type: 'text' }) itemJson!: string;
  /** Feed message that last set it (decimal string, zero-padded). */
  @Column({ type: 'varchar', length: 20 }) seq!: string;
  @Column({ name: 'updated_at', type: 'varchar', length: 24 }) updatedAt!: string;
}

/** Last feed message applied from each feed source (the hub). */
@Entity('feed_cursor')
export class FeedCursorRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) source!: string;
  @Column({ type: 'varchar', length: 20 }) seq!: string;
  /** The last feed message's compact JWS, kept as the hub's signed statement. */
  @Column({ name: 'last_jws', type: 'text' }) lastJws!: string;
  @Column({ name: 'updated_at', type: 'varchar', length: 24 }) updatedAt!: string;
}

export const FEED_ENTITIES = [FeedItemRow, FeedCursorRow];
