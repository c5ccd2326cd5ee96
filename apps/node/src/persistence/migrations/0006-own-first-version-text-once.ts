import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Own version 1 keeps its record text once, in `indicator`, while it is current; its
 * `indicator_version` row holds '' until the next version copies the text there (ADR 0058).
 *
 * Nothing to change on the way up: rows written by earlier releases hold their text, which stays
 * valid. On the way down, every '' is filled from `indicator`, since earlier releases read the
 * text of a version from its row only.
 */
export class OwnFirstVersionTextOnce1764550000000 implements MigrationInterface {
  name = 'OwnFirstVersionTextOnce1764550000000';

  async up(): Promise<void> {
    // Intentionally empty (see above).
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE indicator_version SET record_text = (SELECT i.record_text FROM indicator i
        WHERE i.origin = indicator_version.origin AND i.record_id = indicator_version.record_id
          AND i.version = indicator_version.version)
      WHERE record_text = ''`);
  }
}
