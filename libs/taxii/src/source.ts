/** The TAXII 2.1 media type, exactly as clients send and expect it. */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

/** A collection as the host defines it (who may see it is decided by accounts). */
export interface TaxiiCollection {
  /** A UUID (TAXII 2.1 §5.2: collection ids are identifiers, here UUIDs). */
  id: string;
  title: string;
  description?: string;
  /** True when objects may be POSTed (still only by accounts allowed to write it). */
  writable: boolean;
}

/** One version of one STIX object in a collection. */
export interface TaxiiEntry {
  /** STIX id. */
  id: string;
  /** `modified`, else `created`, else the date added (TAXII 2.1 §3.4.1 for objects without). */
  version: string;
  /** When the server added this version (RFC 3339 UTC ms); monotonic per collection. */
  dateAdded: string;
  /** Opaque, totally ordered position of this entry in the collection (for `next`). */
  cursor: string;
  object: Record<string, unknown>;
  /**
   * The FedIntel record version this object was derived from (`origin/id@version`), when it comes
   * from one: named in the audit entry of the read, never sent.
   */
  record?: string;
}

/** Filters of a GET on objects, manifest, an object or its versions (TAXII 2.1 §3.4). */
export interface TaxiiQuery {
  /** Only entries after this position (from a previous page). */
  after?: string;
  /** date_added strictly after this time. */
  addedAfter?: string;
  types?: string[];
  ids?: string[];
  /** `last` (default), `first`, `all`, or specific versions. */
  versions: 'last' | 'first' | 'all' | string[];
  /** At most this many entries (the source may return one more to say there are more). */
  limit: number;
}

/** Result of POSTing one object to a writable collection. */
export interface TaxiiAddOutcome {
  id: string;
  version: string;
  ok: boolean;
  message?: string;
}

/**
 * What a host (the node, the hub) provides: its collections and their entries. The source
 * decides which entries exist; the TAXII module decides who may see which collection.
 */
export interface TaxiiSource {
  collections(): readonly TaxiiCollection[];
  /** Entries in cursor order matching `q`, at most `q.limit + 1`. */
  entries(collectionId: string, q: TaxiiQuery): Promise<TaxiiEntry[]>;
  /** Adds objects to a writable collection (called only for writable collections). */
  add?(
    collectionId: string,
    objects: Record<string, unknown>[],
    account: string,
  ): Promise<TaxiiAddOutcome[]>;
}

/** Applies a {@link TaxiiQuery} to entries held in memory (sorted by cursor here). */
export function queryEntries(all: readonly TaxiiEntry[], q: TaxiiQuery): TaxiiEntry[] {
  let list = [...all].sort((a, b) => (a.cursor < b.cursor ? -1 : a.cursor > b.cursor ? 1 : 0));
  if (q.types) list = list.filter((e) => q.types!.includes(String(e.object.type)));
  if (q.ids) list = list.filter((e) => q.ids!.includes(e.id));
  if (q.versions !== 'all') {
    const byId = new Map<string, TaxiiEntry[]>();
    for (const e of list) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    const keep = new Set<TaxiiEntry>();
    for (const versions of byId.values()) {
      const sorted = versions.sort((a, b) => (a.version < b.version ? -1 : 1));
      if (q.versions === 'last') keep.add(sorted[sorted.length - 1]!);
      else if (q.versions === 'first') keep.add(sorted[0]!);
      else for (const v of sorted) if (q.versions.includes(v.version)) keep.add(v);
    }
    list = list.filter((e) => keep.has(e));
  }
  if (q.addedAfter) list = list.filter((e) => e.dateAdded > q.addedAfter!);
  if (q.after) list = list.filter((e) => e.cursor > q.after!);
  return list.slice(0, q.limit + 1);
}
