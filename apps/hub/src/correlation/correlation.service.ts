import { Inject, Injectable } from '@nestjs/common';
import {
  aggregateKey,
  correlate,
  isLive,
  oneEditIndex,
  numberedName,
  type Correlation,
  type SourceRecord,
} from '../../../../libs/correlation/src/index.js';
import {
  memberById,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../../../../libs/protocol/src/index.js';
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { HubStore, type IndicatorKeyValue } from '../persistence/hub.store.js';

/**
 * The correlation snapshot: operator networks and successor flags, computed with the pure rules of
 * libs/correlation from what the hub stores, and rebuilt only after an aggregation pass changed
 * something. A rebuild reads only the records that state relations, their targets, the aggregates
 * of both, and the names of domain aggregates (for the successor name rules).
 */
@Injectable()
export class CorrelationService {
  private generation = 0;
  private built: { generation: number; result: Correlation } | undefined;
  private building: Promise<Correlation> | undefined;

  constructor(
    private readonly store: HubStore,
    private readonly federation: FederationContext,
    @Inject(HUB_CLOCK) private readonly clock: Clock,
  ) {}

  /** The stored aggregates changed: the next read rebuilds. */
  invalidate(): void {
    this.generation++;
  }

  async current(): Promise<Correlation> {
    if (this.built?.generation === this.generation) return this.built.result;
    if (this.building) return this.building;
    const generation = this.generation;
    this.building = this.rebuild()
      .then((result) => {
        this.built = { generation, result };
        return result;
      })
      .finally(() => {
        this.building = undefined;
      });
    return this.building;
  }

  private parse(texts: readonly string[]): SourceRecord[] {
    return texts.map((t) => {
      const record = JSON.parse(t) as IndicatorRecord;
      const country =
        memberById(this.federation.directory, record.origin)?.country ??
        record.origin.toUpperCase();
      return { record, country };
    });
  }

  private async rebuild(): Promise<Correlation> {
    const now = this.clock();
    const withRelations = this.parse(await this.store.liveRelationRecords(toRfc3339Ms(now)));
    const targetIds = new Map<string, { origin: string; id: string }>();
    for (const s of withRelations) {
      for (const r of s.record.relations) {
        targetIds.set(`${r.targetOrigin}/${r.target}`, { origin: r.targetOrigin, id: r.target });
      }
    }
    const bySource = new Map<string, SourceRecord>();
    for (const s of [
      ...withRelations,
      ...this.parse(await this.store.recordTexts([...targetIds.values()])),
    ]) {
      if (isLive(s.record, now)) bySource.set(`${s.record.origin}/${s.record.id}`, s);
    }
    const sources = [...bySource.values()];
    const nodeKeys = new Map<string, IndicatorKeyValue>();
    for (const s of sources) {
      nodeKeys.set(aggregateKey(s.record.type, s.record.value), {
        type: s.record.type,
        value: s.record.value,
      });
    }
    const nodes = await this.store.aggregatesByKeys([...nodeKeys.values()]);
    const first = correlate(nodes, sources, now);
    const networkDomains = first.networks.flatMap((n) =>
      n.members.filter((m) => m.type === 'domain').map((m) => m.value),
    );
    if (networkDomains.length === 0) return first;
    const stems = new Set(
      networkDomains.flatMap((d) => {
        const n = numberedName(d);
        return n ? [`${n.stem}|${n.suffix}`] : [];
      }),
    );
    const near = oneEditIndex(networkDomains);
    const candidates = (await this.store.domainNames()).filter((d) => {
      if (nodeKeys.has(aggregateKey('domain', d.value))) return false;
      const n = numberedName(d.value);
      if (n && stems.has(`${n.stem}|${n.suffix}`)) return true;
      return near(d.value).length > 0;
    });
    if (candidates.length === 0) return first;
    const extra = await this.store.aggregatesByKeys(
      candidates.map((c) => ({ type: 'domain', value: c.value })),
    );
    return correlate([...nodes, ...extra], sources, now);
  }
}
