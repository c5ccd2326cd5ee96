import {
  fedintelDefinitions,
  handlingMarkingDefinition,
  memberIdentityId,
  recordToStixObjects,
  tlpMarkingDefinition,
  type StixObject,
} from '../../../../libs/interop/src/index.js';
import {
  TLP_LEVELS,
  compareTlp,
  parseStrictJson,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../../../../libs/protocol/src/index.js';
import type {
  TaxiiAddOutcome,
  TaxiiCollection,
  TaxiiEntry,
  TaxiiQuery,
  TaxiiSource,
} from '../../../../libs/taxii/src/index.js';
import { recordRef } from '../../../../libs/audit/src/index.js';
import type { FederationContext } from '../federation/federation.context.js';
import type { NodeStore, StoredIndicator } from '../persistence/node.store.js';
import type { InteropService } from './interop.service.js';
import type { NodeTaxiiCollection, NodeTaxiiConfig } from './taxii.config.js';

/** date_added of the objects every collection starts with (identities, markings, definitions). */
const DEFINITIONS_ADDED = '2026-01-01T00:00:00.000Z';
const SCAN_BATCH = 500;

type Key = { updatedAt: string; origin: string; recordId: string };

/**
 * The node's indicators as TAXII collections. A record is served only when the collection's
 * filter admits it AND it may leave the node at all: never a record held for review (scope = this
 * node only), never a partner's record under H2/H3 (no onward dissemination without permission),
 * never TLP:RED (ADR 0034).
 */
export class NodeTaxiiSource implements TaxiiSource {
  private readonly cols: TaxiiCollection[];

  constructor(
    private readonly config: NodeTaxiiConfig,
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    private readonly interop: InteropService,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.cols = config.collections.map((c) => ({
      id: c.id,
      title: c.title,
      ...(c.description ? { description: c.description } : {}),
      writable: c.writable,
    }));
  }

  collections(): readonly TaxiiCollection[] {
    return this.cols;
  }

  private filter(id: string): NodeTaxiiCollection {
    const c = this.config.collections.find((x) => x.id === id);
    if (!c) throw new Error(`no collection ${id}`);
    return c;
  }

  /** Whether a record may be served in collection `c`. */
  admits(c: NodeTaxiiCollection, r: IndicatorRecord): boolean {
    const me = this.federation.memberId;
    if (r.tlp === 'RED' || compareTlp(r.tlp, c.maxTlp) > 0) return false;
    if (c.types && !c.types.includes(r.type)) return false;
    if (r.confidence < c.minConfidence || r.accuracy > c.maxAccuracy) return false;
    if (r.origin !== me) {
      if (c.origins === 'own') return false;
      if (r.handling.code === 'H2' || r.handling.code === 'H3') return false;
    } else if (r.scope.addressees.length === 1 && r.scope.addressees[0] === me) {
      return false; // held for review
    }
    return true;
  }

  private definitions(): TaxiiEntry[] {
    const members = this.federation.directory.members.map((m) => m.id);
    const objects: StixObject[] = [
      ...fedintelDefinitions(),
      ...members.map((m) => ({
        type: 'identity',
        spec_version: '2.1',
        id: memberIdentityId(m),
        created: DEFINITIONS_ADDED,
        modified: DEFINITIONS_ADDED,
        name: `FedIntel member ${m}`,
        identity_class: 'organization',
      })),
      ...TLP_LEVELS.filter((t) => t !== 'RED').map((t) => tlpMarkingDefinition(t) as StixObject),
      handlingMarkingDefinition({ code: 'H1' }) as StixObject,
      handlingMarkingDefinition({ code: 'H2' }) as StixObject,
    ];
    return objects.map((o, i) => ({
      id: o.id,
      version: o.modified ?? o.created ?? DEFINITIONS_ADDED,
      dateAdded: DEFINITIONS_ADDED,
      cursor: `0|${String(i).padStart(4, '0')}`,
      object: o,
    }));
  }

  private expand(s: StoredIndicator): TaxiiEntry[] {
    const r = parseStrictJson(s.recordText) as IndicatorRecord;
    const out: TaxiiEntry[] = [];
    recordToStixObjects(r).forEach((o, i) => {
      // Identities and the TLP/H1/H2 markings are served once, at the start of the collection.
      if (o.type === 'identity') return;
      if (o.type === 'marking-definition' && !(typeof o.name === 'string' && o.name.includes('H3')))
        return;
      out.push({
        id: o.id,
        version: o.modified ?? s.updatedAt,
        dateAdded: s.updatedAt,
        cursor: `1|${s.updatedAt}|${s.origin}|${s.recordId}|${String(i).padStart(4, '0')}`,
        object: o,
        record: recordRef(s.origin, s.recordId, s.version),
      });
    });
    return out;
  }

  private matches(e: TaxiiEntry, q: TaxiiQuery): boolean {
    if (q.types && !q.types.includes(String(e.object.type))) return false;
    if (q.ids && !q.ids.includes(e.id)) return false;
    if (Array.isArray(q.versions) && !q.versions.includes(e.version)) return false;
    if (q.addedAfter && !(e.dateAdded > q.addedAfter)) return false;
    return true;
  }

  async entries(collectionId: string, q: TaxiiQuery): Promise<TaxiiEntry[]> {
    const c = this.filter(collectionId);
    const want = q.limit + 1;
    const out: TaxiiEntry[] = [];
    const push = (list: TaxiiEntry[], afterCursor?: string) => {
      for (const e of list) {
        if (out.length >= want) return;
        if (afterCursor !== undefined && !(e.cursor > afterCursor)) continue;
        if (this.matches(e, q)) out.push(e);
      }
    };
    let key: Key | undefined;
    const after = q.after;
    if (after === undefined || after.startsWith('0|')) {
      push(this.definitions(), after);
    } else {
      const [, updatedAt = '', origin = '', recordId = ''] = after.split('|');
      key = { updatedAt, origin, recordId };
      // The rest of the record the previous page stopped in, if it has not changed since.
      const cur = await this.store.getCurrent(origin, recordId);
      if (cur && cur.updatedAt === updatedAt) {
        const r = parseStrictJson(cur.recordText) as IndicatorRecord;
        if (this.admits(c, r)) push(this.expand(cur), after);
      }
    }
    // Only what is older than the settle window: a transaction that started earlier but commits
    // later cannot then land behind a client's cursor.
    const until = toRfc3339Ms(new Date(this.clock().getTime() - this.config.settleMs));
    while (out.length < want) {
      const page = await this.store.pageByUpdate({
        after: key,
        ...(q.addedAfter ? { addedAfter: q.addedAfter } : {}),
        until,
        ...(c.types ? { types: c.types } : {}),
        ...(c.origins === 'own' ? { origin: this.federation.memberId } : {}),
        limit: SCAN_BATCH,
      });
      for (const s of page) {
        const r = parseStrictJson(s.recordText) as IndicatorRecord;
        if (this.admits(c, r)) push(this.expand(s));
        if (out.length >= want) break;
      }
      const last = page[page.length - 1];
      if (!last || page.length < SCAN_BATCH) break;
      key = { updatedAt: last.updatedAt, origin: last.origin, recordId: last.recordId };
    }
    return out;
  }

  async add(
    collectionId: string,
    objects: Record<string, unknown>[],
    account: string,
  ): Promise<TaxiiAddOutcome[]> {
    this.filter(collectionId);
    const res = await this.interop.importStix(
      { type: 'bundle', id: `bundle--taxii-${account}`, objects },
      undefined,
      `taxii:${account}`,
      false,
    );
    const byRef = new Map(res.items.map((i) => [i.ref, i]));
    const report = new Map((res.mapping?.report ?? []).map((e) => [e.ref, e]));
    return objects.map((o) => {
      const id = String(o.id);
      const version =
        typeof o.modified === 'string'
          ? o.modified
          : typeof o.created === 'string'
            ? o.created
            : '';
      const stored = byRef.get(id);
      const mapped = report.get(id);
      if (stored) {
        return stored.outcome === 'invalid'
          ? { id, version, ok: false, message: stored.detail ?? stored.code ?? 'invalid' }
          : { id, version, ok: true };
      }
      if (mapped && (mapped.code === 'CONTEXT' || mapped.code === 'COVERED')) {
        return { id, version, ok: true };
      }
      return { id, version, ok: false, message: mapped?.detail ?? 'not imported' };
    });
  }
}
