import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

// Storage types of the hub. They never leave HubStore: services see domain types, controllers DTOs.
// Timestamps are RFC 3339 UTC strings with milliseconds: they sort lexicographically on both drivers.

/** Current version of every record the hub accepted (one row per origin and record id). */
@Entity('hub_record')
export class HubRecordRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 36 }) recordId!: string;
  @Column({ type: 'integer' }) version!: number;
  @Column({ type: 'varchar', length: 16 }) status!: string;
  @Column({ type: 'varchar', length: 24 }) type!: string;
  @Column({ type: 'varchar', length: 2048 }) value!: string;
  @Column({ name: 'valid_until', type: 'varchar', length: 24 }) validUntil!: string;
  /** 1 when the record states relations (the correlation graph reads only those and their targets). */
  @Column({ name: 'has_relations', type: 'integer' }) hasRelations!: number;
  /** Canonical JSON of the record: exactly the signed bytes. */
  @Column({ name: 'record_text', type: 'text' }) recordText!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
}

/** Every accepted version with what verifies it alone: signed bundle header + inclusion proof. */
@Entity('hub_record_version')
export class HubRecordVersionRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 36 }) recordId!: string;
  @PrimaryColumn({ type: 'integer' }) version!: number;
  @Column({ name: 'record_text', type: 'text' }) recordText!: string;
  @Column({ name: 'proof_json', type: 'text' }) proofJson!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
}

/** Bundles accepted from members: idempotency and sequence tracking per origin. */
@Entity('hub_inbound_bundle')
export class HubInboundBundleRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ type: 'varchar', length: 20 }) seq!: string;
  @Column({ type: 'varchar', length: 64 }) root!: string;
  @Column({ type: 'integer' }) count!: number;
  @Column({ type: 'integer' }) accepted!: number;
  @Column({ type: 'varchar', length: 64 }) kid!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
}

@Entity('hub_sequence_gap')
export class HubSequenceGapRow {
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 16 }) origin!: string;
  @Column({ name: 'from_seq', type: 'varchar', length: 20 }) fromSeq!: string;
  @Column({ name: 'to_seq', type: 'varchar', length: 20 }) toSeq!: string;
  @Column({ name: 'detected_at', type: 'varchar', length: 24 }) detectedAt!: string;
}

@Entity('hub_dead_letter')
export class HubDeadLetterRow {
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 255 }) subject!: string;
  @Column({ type: 'varchar', length: 16, nullable: true }) origin!: string | null;
  @Column({ type: 'varchar', length: 32 }) code!: string;
  @Column({ type: 'text' }) detail!: string;
  @Column({ type: 'integer' }) size!: number;
  @Column({ type: 'text' }) data!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
}

/**
 * Keys (type|value) whose aggregate and feed views must be recomputed: written with the records.
 * `stamp` grows on every mark, so a pass deletes only the marks it has seen (a record stored
 * while the pass runs keeps its key dirty for the next pass).
 */
@Entity('hub_dirty_key')
export class HubDirtyKeyRow {
  @PrimaryColumn({ type: 'varchar', length: 24 }) type!: string;
  @PrimaryColumn({ type: 'varchar', length: 2048 }) value!: string;
  @Column({ type: 'integer' }) stamp!: number;
}

/** The materialized aggregate of one (type, value), recomputed from hub_record by the pure rules. */
@Entity('hub_aggregate')
export class HubAggregateRow {
  @PrimaryColumn({ type: 'varchar', length: 24 }) type!: string;
  @PrimaryColumn({ type: 'varchar', length: 2048 }) value!: string;
  @Column({ name: 'source_count', type: 'integer' }) sourceCount!: number;
  @Column({ name: 'country_count', type: 'integer' }) countryCount!: number;
  /** `,KR,VN,` so that `LIKE '%,KR,%'` finds one. */
  @Column({ type: 'varchar', length: 512 }) countries!: string;
  @Column({ type: 'varchar', length: 128 }) categories!: string;
  @Column({ type: 'integer' }) confidence!: number;
  @Column({ name: 'first_seen', type: 'varchar', length: 24 }) firstSeen!: string;
  @Column({ name: 'last_seen', type: 'varchar', length: 24 }) lastSeen!: string;
  @Column({ name: 'next_expiry', type: 'varchar', length: 24 }) nextExpiry!: string;
  /** The full aggregate (libs/correlation `Aggregate`) as JSON. */
  @Column({ name: 'aggregate_json', type: 'text' }) aggregateJson!: string;
}

/** What each member's feed currently holds, per key (to send only changes and removals). */
@Entity('hub_feed_item')
export class HubFeedItemRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) member!: string;
  @PrimaryColumn({ type: 'varchar', length: 24 }) type!: string;
  @PrimaryColumn({ type: 'varchar', length: 2048 }) value!: string;
  @Column({ type: 'varchar', length: 64 }) hash!: string;
}

/** Signed, encrypted feed messages, stored before publishing (a retry re-sends the same bytes). */
@Entity('hub_feed_message')
export class HubFeedMessageRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) member!: string;
  /** Zero-padded decimal so that it sorts. */
  @PrimaryColumn({ type: 'varchar', length: 20 }) seq!: string;
  @Column({ type: 'text' }) payload!: string;
  @Column({ type: 'varchar', length: 16 }) status!: string;
  @Column({ name: 'created_at', type: 'varchar', length: 24 }) createdAt!: string;
  @Column({ name: 'sent_at', type: 'varchar', length: 24, nullable: true }) sentAt!: string | null;
}

export const HUB_ENTITIES = [
  HubRecordRow,
  HubRecordVersionRow,
  HubInboundBundleRow,
  HubSequenceGapRow,
  HubDeadLetterRow,
  HubDirtyKeyRow,
  HubAggregateRow,
  HubFeedItemRow,
  HubFeedMessageRow,
];
