import { createHash } from 'node:crypto';
import {
  aggregateToStixObjects,
  fedintelDefinitions,
  handlingMarkingDefinition,
  memberIdentity,
  networkToStixObjects,
  tlpMarkingDefinition,
  type StixObject,
} from '../../../../libs/interop/src/index.js';
import { TLP_LEVELS, compareTlp, type Tlp } from '../../../../libs/protocol/src/index.js';
import {
  queryEntries,
  type TaxiiCollection,
  type TaxiiEntry,
  type TaxiiQuery,
  type TaxiiSource,
} from '../../../../libs/taxii/src/index.js';
import type { Aggregate, Network } from '../../../../libs/correlation/src/index.js';
import type { HubTaxiiCollection, HubTaxiiConfig } from './hub-taxii.config.js';

/** What the source reads from the hub (HubStore and CorrelationService, narrowed). */
export interface HubTaxiiData {
  aggregates(): Promise<Aggregate[]>;
  networks(): Promise<Network[]>;
}

const DEFINITIONS_ADDED = '2026-01-01T00:00:00.000Z';

/**
 * The hub's aggregates and operator networks as TAXII collections. The hub stores no "changed at"
 * per aggregate, so the source keeps a journal: each object's content hash and the time it was
 * first served in that form. A changed aggregate gets a later date_added (and `modified`), so a
 * client paging or polling with added_after sees it again, after what it has seen. The journal is
 * in memory: after a hub restart every object is announced once more (ADR 0034).
 *
 * Never served: TLP:RED, H2/H3 (the hub redistributes only H0/H1, ADR 0009), anything above the
 * collection's TLP ceiling; a network only if every member is servable in that collection.
 */
export class HubTaxiiSource implements TaxiiSource {
  private readonly journal = new Map<string, { hash: string; stamp: string }>();
  private last = 0;

  constructor(
    private readonly config: HubTaxiiConfig,
    private readonly data: HubTaxiiData,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  collections(): readonly TaxiiCollection[] {
    return this.config.collections.map((c) => ({
      id: c.id,
      title: c.title,
      ...(c.description ? { description: c.description } : {}),
      writable: false,
    }));
  }

  admits(c: HubTaxiiCollection, a: Aggregate): boolean {
    if (a.tlp === 'RED' || compareTlp(a.tlp, c.maxTlp) > 0) return false;
    if (a.handling.code === 'H2' || a.handling.code === 'H3') return false;
    if (c.types && !c.types.includes(a.type)) return false;
    return a.confidence >= c.minConfidence && a.countries.length >= c.minCountries;
  }

  /** A strictly increasing RFC 3339 ms time for each new or changed object. */
  private stamp(): string {
    this.last = Math.max(this.clock().getTime(), this.last + 1);
    return new Date(this.last).toISOString();
  }

  /** The objects of one key, dated by the journal (re-dated when their content changed). */
  private dated(key: string, build: (modified: string) => StixObject[]): StixObject[] {
    const hash = createHash('sha256')
      .update(JSON.stringify(build('')))
      .digest('hex');
    let j = this.journal.get(key);
    if (!j || j.hash !== hash) {
      j = { hash, stamp: this.stamp() };
      this.journal.set(key, j);
    }
    return build(j.stamp);
  }

  private definitions(): TaxiiEntry[] {
    const objects: StixObject[] = [
      ...fedintelDefinitions(),
      memberIdentity('hub'),
      ...TLP_LEVELS.filter((t) => t !== 'RED').map((t) => tlpMarkingDefinition(t) as StixObject),
      handlingMarkingDefinition({ code: 'H1' }) as StixObject,
    ];
    return objects.map((o, i) => ({
      id: o.id,
      version: o.modified ?? o.created ?? DEFINITIONS_ADDED,
      dateAdded: DEFINITIONS_ADDED,
      cursor: `0|${String(i).padStart(4, '0')}`,
      object: o,
    }));
  }

  async entries(collectionId: string, q: TaxiiQuery): Promise<TaxiiEntry[]> {
    const c = this.config.collections.find((x) => x.id === collectionId);
    if (!c) return [];
    const aggregates = await this.data.aggregates();
    const servable = aggregates.filter((a) => this.admits(c, a));
    const out: TaxiiEntry[] = this.definitions();
    const push = (key: string, objects: StixObject[]) => {
      objects.forEach((o, i) => {
        if (o.type === 'marking-definition') return; // served once, with the definitions
        const stamp = o.modified ?? DEFINITIONS_ADDED;
        out.push({
          id: o.id,
          version: stamp,
          dateAdded: stamp,
          cursor: `1|${stamp}|${key}|${String(i).padStart(4, '0')}`,
          object: o,
        });
      });
    };
    if (c.kind === 'aggregates') {
      for (const a of servable) {
        const key = `${a.type}|${a.value}`;
        push(
          key,
          this.dated(`${c.id}|a|${key}`, (m) => aggregateToStixObjects(a, m)),
        );
      }
    } else {
      const tlpByKey = new Map<string, Tlp>(servable.map((a) => [`${a.type}|${a.value}`, a.tlp]));
      for (const n of await this.data.networks()) {
        if (!n.members.every((m) => tlpByKey.has(`${m.type}|${m.value}`))) continue;
        const tlpOf = (type: string, value: string): Tlp =>
          tlpByKey.get(`${type}|${value}`) ?? 'RED';
        push(
          n.id,
          this.dated(`${c.id}|n|${n.id}`, (m) => networkToStixObjects(n, m, tlpOf)),
        );
      }
    }
    return queryEntries(out, q);
  }
}
