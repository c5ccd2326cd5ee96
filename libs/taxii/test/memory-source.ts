import {
  queryEntries,
  type TaxiiAddOutcome,
  type TaxiiCollection,
  type TaxiiEntry,
  type TaxiiQuery,
  type TaxiiSource,
} from '../src/index.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** An in-memory TAXII source for tests: date_added is a strictly increasing fake clock. */
export class MemorySource implements TaxiiSource {
  private readonly entriesById = new Map<string, TaxiiEntry[]>();
  private clock = Date.parse('2026-11-28T00:00:00.000Z');

  constructor(private readonly cols: TaxiiCollection[]) {
    for (const c of cols) this.entriesById.set(c.id, []);
  }

  collections(): readonly TaxiiCollection[] {
    return this.cols;
  }

  put(collectionId: string, object: Record<string, unknown>): TaxiiEntry {
    const dateAdded = new Date((this.clock += 1000)).toISOString();
    const version = str(object.modified) ?? str(object.created) ?? dateAdded;
    const id = String(object.id);
    const e: TaxiiEntry = {
      id,
      version,
      dateAdded,
      cursor: `${dateAdded}|${id}|${version}`,
      object,
    };
    this.entriesById.get(collectionId)!.push(e);
    return e;
  }

  entries(collectionId: string, q: TaxiiQuery): Promise<TaxiiEntry[]> {
    return Promise.resolve(queryEntries(this.entriesById.get(collectionId) ?? [], q));
  }

  add(collectionId: string, objects: Record<string, unknown>[]): Promise<TaxiiAddOutcome[]> {
    return Promise.resolve(
      objects.map((o) => {
        const version = str(o.modified) ?? str(o.created) ?? '';
        if (o.type !== 'indicator') {
          return { id: String(o.id), version, ok: false, message: 'only indicators' };
        }
        this.put(collectionId, o);
        return { id: String(o.id), version, ok: true };
      }),
    );
  }
}
