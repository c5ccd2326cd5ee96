import type { EntityManager } from 'typeorm';

/** A column of {@link insertRows}: its name and its PostgreSQL type. */
export type RowColumn = readonly [name: string, pgType: 'text' | 'integer' | 'bigint'];

/**
 * Inserts many rows in as few statements as the database allows:
 * - PostgreSQL: one `INSERT ... SELECT ... FROM json_to_recordset($1::json)` whatever the
 *   number of rows, the rows sent as one JSON parameter (ADR 0059). Measured on 1,000-row
 *   transactions of version rows with real record texts: 15.6–17 µs per row against 19.5–23.6
 *   with multi-row `VALUES` of 500 rows, and less CPU in the node (5.7–6.4 against 7.5–11 µs).
 *   Array parameters (`unnest`) cost more than either: the driver escapes every quote of every
 *   text in JavaScript (20–23 µs of the node's CPU per row);
 * - SQLite: multi-row `VALUES` in chunks of `chunk` rows (a chunk stays under SQLite's limit of
 *   32,766 parameters).
 *
 * Cells are strings, numbers or null. `suffix` follows the rows (`ON CONFLICT ...`). Table and
 * column names are the caller's constants, never input.
 */
export async function insertRows(
  m: EntityManager,
  pg: boolean,
  table: string,
  columns: readonly RowColumn[],
  rows: readonly (readonly unknown[])[],
  suffix = '',
  chunk = 500,
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  if (pg) {
    const json = JSON.stringify(
      rows.map((r) => {
        const o: Record<string, unknown> = {};
        for (let j = 0; j < columns.length; j++) o[columns[j]![0]] = r[j];
        return o;
      }),
    );
    const defs = columns.map(([name, type]) => `${name} ${type}`).join(', ');
    await m.query(
      `INSERT INTO ${table} (${names}) SELECT ${names} FROM json_to_recordset($1::json) AS x(${defs}) ${suffix}`,
      [json],
    );
    return;
  }
  const one = `(${columns.map(() => '?').join(',')})`;
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    await m.query(
      `INSERT INTO ${table} (${names}) VALUES ${part.map(() => one).join(',')} ${suffix}`,
      part.flat(),
    );
  }
}

/**
 * The newest version of each record among `rows`, in their order: a bundle can carry several
 * versions of one record (updated twice before the relay ran), and PostgreSQL's
 * `ON CONFLICT DO UPDATE` refuses to touch one row twice in a statement (for
 * {@link insertRows}' upserts of current rows).
 */
export function newestPerRecord<
  T extends { record: { origin: string; id: string; version: number } },
>(rows: readonly T[]): T[] {
  const newest = new Map<string, T>();
  for (const r of rows) {
    const key = `${r.record.origin}/${r.record.id}`;
    const had = newest.get(key);
    if (had === undefined || r.record.version > had.record.version) newest.set(key, r);
  }
  return newest.size === rows.length ? [...rows] : [...newest.values()];
}
