import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { FEED_ENTITIES } from '../feed/feed.entities.js';

// Storage types. They never leave the repositories: services see domain types, controllers DTOs.
// Timestamps are RFC 3339 UTC strings with milliseconds: they sort lexicographically on both drivers.

/** Current version of every indicator this node knows, its own and received ones. */
@Entity('indicator')
@Index('ix_indicator_type_value', ['type', 'value'])
@Index('ix_indicator_updated', ['updatedAt'])
export class IndicatorRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 36 }) recordId!: string;
  @Column({ type: 'integer' }) version!: number;
  @Column({ type: 'varchar', length: 16 }) status!: string;
  @Column({ type: 'varchar', length: 24 }) type!: string;
  @Column({ type: 'varchar', length: 2048 }) value!: string;
  @Column({ type: 'varchar', length: 16 }) tlp!: string;
  /** Comma-separated, wrapped in commas (`,webtoon,film,`) so `LIKE '%,film,%'` finds one. */
  @Column({ type: 'varchar', length: 128 }) categories!: string;
  @Column({ name: 'valid_until', type: 'varchar', length: 24 }) validUntil!: string;
  /** Canonical JSON of the record: exactly the signed bytes for received records. */
  @Column({ name: 'record_text', type: 'text' }) recordText!: string;
  /** Local-only fields (own indicators): never shared. */
  @Column({ name: 'local_json', type: 'text', nullable: true }) localJson!: string | null;
  /** Member that sent it (received indicators). */
  @Column({ name: 'received_from', type: 'varchar', length: 16, nullable: true })
  receivedFrom!: string | null;
  @Column({ name: 'updated_at', type: 'varchar', length: 24 }) updatedAt!: string;
}

/** Every version ever issued or received, with the proof that lets it be verified alone. */
@Entity('indicator_version')
export class IndicatorVersionRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ name: 'record_id', type: 'varchar', length: 36 }) recordId!: string;
  @PrimaryColumn({ type: 'integer' }) version!: number;
  @Column({ name: 'record_text', type: 'text' }) recordText!: string;
  /** JSON {header, index, treeSize, path} for received versions; null for own versions. */
  @Column({ name: 'proof_json', type: 'text', nullable: true }) proofJson!: string | null;
  @Column({ name: 'received_from', type: 'varchar', length: 16, nullable: true })
  receivedFrom!: string | null;
  @Column({ name: 'recorded_at', type: 'varchar', length: 24 }) recordedAt!: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) actor!: string | null;
}

/** Transactional outbox: one projection per (record version, recipient), written with the record. */
@Entity('outbox_item')
@Index('ix_outbox_item_pending', ['addressee', 'bundleSeq'])
export class OutboxItemRow {
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 16 }) addressee!: string;
  @Column({ name: 'record_id', type: 'varchar', length: 36 }) recordId!: string;
  @Column({ type: 'integer' }) version!: number;
  @Column({ name: 'agreement_id', type: 'varchar', length: 64 }) agreementId!: string;
  @Column({ name: 'record_text', type: 'text' }) recordText!: string;
  /** Null until the relay puts the item into a bundle. Decimal string. */
  @Column({ name: 'bundle_seq', type: 'varchar', length: 20, nullable: true })
  bundleSeq!: string | null;
  @Column({ name: 'created_at', type: 'varchar', length: 24 }) createdAt!: string;
}

/**
 * A bundle, stored before it is published. Its bytes are not kept: a re-send rebuilds it from its
 * outbox items (the same signed bytes, deterministic Ed25519) and encrypts it afresh (ADR 0049).
 */
@Entity('outbox_bundle')
export class OutboxBundleRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) addressee!: string;
  /** Zero-padded decimal so that it sorts. */
  @PrimaryColumn({ type: 'varchar', length: 20 }) seq!: string;
  @Column({ name: 'msg_id', type: 'varchar', length: 80 }) msgId!: string;
  @Column({ type: 'varchar', length: 64 }) root!: string;
  @Column({ type: 'integer' }) count!: number;
  /** pending → sent (broker ack) → acknowledged (signed receipt from the addressee). */
  @Column({ type: 'varchar', length: 16 }) status!: string;
  @Column({ name: 'created_at', type: 'varchar', length: 24 }) createdAt!: string;
  @Column({ name: 'sent_at', type: 'varchar', length: 24, nullable: true }) sentAt!: string | null;
  @Column({ name: 'receipt_json', type: 'text', nullable: true }) receiptJson!: string | null;
}

/** Bundles accepted from partners: idempotency and sequence tracking per origin. */
@Entity('inbound_bundle')
export class InboundBundleRow {
  @PrimaryColumn({ type: 'varchar', length: 16 }) origin!: string;
  @PrimaryColumn({ type: 'varchar', length: 20 }) seq!: string;
  @Column({ type: 'varchar', length: 64 }) root!: string;
  @Column({ type: 'integer' }) count!: number;
  @Column({ type: 'integer' }) accepted!: number;
  @Column({ type: 'varchar', length: 64 }) kid!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
  /** The bundle's signed header (compact JWS), shared by the proofs of its records. */
  @Column({ type: 'text', nullable: true }) header!: string | null;
  /** Its leaf hashes, concatenated, base64url: a record's audit path is rebuilt from them. */
  @Column({ type: 'text', nullable: true }) leaves!: string | null;
}

/** Sequence gaps detected per origin (reported in receipts and to auditors). */
@Entity('sequence_gap')
export class SequenceGapRow {
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 16 }) origin!: string;
  @Column({ name: 'from_seq', type: 'varchar', length: 20 }) fromSeq!: string;
  @Column({ name: 'to_seq', type: 'varchar', length: 20 }) toSeq!: string;
  @Column({ name: 'detected_at', type: 'varchar', length: 24 }) detectedAt!: string;
}

/** Invalid inbound messages or records, kept with the reason, never stored as valid. */
@Entity('dead_letter')
export class DeadLetterRow {
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 255 }) subject!: string;
  @Column({ type: 'varchar', length: 16, nullable: true }) origin!: string | null;
  @Column({ type: 'varchar', length: 32 }) code!: string;
  @Column({ type: 'text' }) detail!: string;
  @Column({ type: 'integer' }) size!: number;
  /** The received bytes (base64), truncated to 1 MiB. */
  @Column({ type: 'text' }) data!: string;
  @Column({ name: 'received_at', type: 'varchar', length: 24 }) receivedAt!: string;
}

/** Small key/value state (the current directory). */
@Entity('node_state')
export class NodeStateRow {
  @PrimaryColumn({ type: 'varchar', length: 64 }) key!: string;
  @Column({ type: 'text' }) value!: string;
}

export const NODE_ENTITIES = [
  IndicatorRow,
  IndicatorVersionRow,
  OutboxItemRow,
  OutboxBundleRow,
  InboundBundleRow,
  SequenceGapRow,
  DeadLetterRow,
  NodeStateRow,
  ...FEED_ENTITIES,
];
