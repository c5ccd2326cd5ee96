import type { MigrationInterface, QueryRunner } from 'typeorm';
import { expandStoredProof } from '../node.store.js';

/**
 * Storage layout for the exchange at speed (ADR 0049):
 * - `outbox_bundle` no longer stores the bundle's encrypted payload (about 1 MB per 1,000 records,
 *   rewritten on every status change and kept forever): a bundle is rebuilt from its outbox items
 *   when it must be re-sent (the signed bytes are deterministic; only the encryption is new).
 * - A received bundle's signed header and leaf hashes are stored once, in `inbound_bundle`; each
 *   received version's proof then holds only its position (`{"bundle": seq, "index": i}`), and
 *   the whole proof is rebuilt on request (25 bytes per record instead of about 880).
 */
export class ExchangeStorage1764500000000 implements MigrationInterface {
  name = 'ExchangeStorage1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox_bundle DROP COLUMN payload');
    await q.query('ALTER TABLE inbound_bundle ADD COLUMN header text');
    await q.query('ALTER TABLE inbound_bundle ADD COLUMN leaves text');
  }

  async down(q: QueryRunner): Promise<void> {
    // The earlier release re-sends a pending bundle from its stored payload, which this release
    // does not keep: let the relay drain first.
    const pending: { n: number | string }[] = (await q.query(
      `SELECT COUNT(*) AS n FROM outbox_bundle WHERE status = 'pending'`,
    )) as never;
    if (Number(pending[0]?.n ?? 0) > 0) {
      throw new Error(
        `${pending[0]?.n} outbox bundles are still pending: start this release until they are sent, then downgrade`,
      );
    }
    await q.query(`ALTER TABLE outbox_bundle ADD COLUMN payload text NOT NULL DEFAULT ''`);
    // Proofs stored in the compact form get their header back, as the earlier release reads them.
    const compact: {
      origin: string;
      record_id: string;
      version: number;
      proof_json: string;
      received_from: string;
    }[] = (await q.query(`SELECT origin, record_id, version, proof_json, received_from
        FROM indicator_version WHERE proof_json LIKE '{"bundle":%'`)) as never;
    for (const row of compact) {
      const { bundle } = JSON.parse(row.proof_json) as { bundle: string };
      const rows: { header: string | null; leaves: string | null }[] = (await q.query(
        `SELECT header, leaves FROM inbound_bundle WHERE origin = ${param(q, 1)} AND seq = ${param(q, 2)}`,
        [row.received_from, bundle.padStart(20, '0')],
      )) as never;
      await q.query(
        `UPDATE indicator_version SET proof_json = ${param(q, 1)}
          WHERE origin = ${param(q, 2)} AND record_id = ${param(q, 3)} AND version = ${param(q, 4)}`,
        [
          expandStoredProof(row.proof_json, rows[0] ?? null),
          row.origin,
          row.record_id,
          row.version,
        ],
      );
    }
    await q.query('ALTER TABLE inbound_bundle DROP COLUMN leaves');
    await q.query('ALTER TABLE inbound_bundle DROP COLUMN header');
    // Sent bundles' payloads are gone for good; an earlier release never reads them either.
  }
}

function param(q: QueryRunner, n: number): string {
  return q.connection.options.type === 'postgres' ? `$${n}` : '?';
}
