import { HubError } from './hub.errors.js';

/**
 * Opaque cursors: base64url of the JSON array of the last item's sort key. Pages are ordered by a
 * unique key, so a page boundary never skips or repeats an item even while the data changes.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** @throws HubError `BAD_CURSOR` when the cursor is not one this API issued with `parts` strings */
export function decodeCursor(cursor: string | undefined, parts: number): string[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === parts && v.every((x) => typeof x === 'string')) {
      return v;
    }
  } catch (cause) {
    throw new HubError('BAD_CURSOR', 'cursor is not valid', { cause });
  }
  throw new HubError('BAD_CURSOR', 'cursor is not valid');
}

/** A page of items and the cursor of the next page (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Page an ordered array after the item whose key equals `after`. */
export function pageOf<T>(
  sorted: readonly T[],
  keyOf: (item: T) => string[],
  after: string[] | undefined,
  limit: number,
): Page<T> {
  let start = 0;
  if (after) {
    start = sorted.findIndex((x) => compareKeys(keyOf(x), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: last && start + limit < sorted.length ? encodeCursor(keyOf(last)) : null,
  };
}
