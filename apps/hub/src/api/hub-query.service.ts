import { Injectable } from '@nestjs/common';
import {
  crossBorderStats,
  type Aggregate,
  type Network,
  type StatDimension,
  type StatRow,
  type SuccessorFlag,
} from '../../../../libs/correlation/src/index.js';
import type { RecordProof } from '../../../../libs/protocol/src/index.js';
import { AggregationService } from '../aggregation/aggregation.service.js';
import { CorrelationService } from '../correlation/correlation.service.js';
import { HubStore, type AggregateFilter, type DeadLetter } from '../persistence/hub.store.js';
import { decodeCursor, encodeCursor, pageOf, type Page } from './cursor.js';
import { HubError } from './hub.errors.js';

/** A cited record as stored: its exact signed text and what proves it alone. */
export interface CitedRecord {
  origin: string;
  id: string;
  version: number;
  /** Canonical JSON of the record, exactly the bytes its origin signed (leaf of the bundle). */
  recordText: string;
  /** Signed bundle header (compact JWS) + RFC 9162 inclusion proof of the record. */
  proof: RecordProof;
}

/**
 * The hub operator's read use cases. Every read first applies the current time (expired
 * contributions are swept out), so an answer never includes a record that stopped contributing.
 */
@Injectable()
export class HubQueryService {
  constructor(
    private readonly store: HubStore,
    private readonly aggregation: AggregationService,
    private readonly correlation: CorrelationService,
  ) {}

  private async fresh(): Promise<void> {
    await this.aggregation.sweep();
  }

  async searchAggregates(
    filter: AggregateFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<Aggregate>> {
    await this.fresh();
    const after = decodeCursor(cursor, 2);
    const rows = await this.store.searchAggregates(
      filter,
      after ? { type: after[0] ?? '', value: after[1] ?? '' } : undefined,
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.type, last.value]) : null,
    };
  }

  async aggregate(type: string, value: string): Promise<Aggregate> {
    await this.fresh();
    const [a] = await this.store.aggregatesByKeys([{ type, value }]);
    if (!a) throw new HubError('NOT_FOUND', `no aggregate ${type}:${value}`);
    return a;
  }

  async networks(
    country: string | undefined,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<Network>> {
    await this.fresh();
    const after = decodeCursor(cursor, 1);
    const { networks } = await this.correlation.current();
    const matching = country ? networks.filter((n) => n.countries.includes(country)) : networks;
    return pageOf(matching, (n) => [n.id], after, limit);
  }

  async network(id: string): Promise<Network> {
    await this.fresh();
    const n = (await this.correlation.current()).networks.find((x) => x.id === id);
    if (!n) throw new HubError('NOT_FOUND', `no network ${id}`);
    return n;
  }

  async successors(cursor: string | undefined, limit: number): Promise<Page<SuccessorFlag>> {
    await this.fresh();
    const after = decodeCursor(cursor, 2);
    const { successors } = await this.correlation.current();
    return pageOf(successors, (s) => [s.domain, s.predecessor], after, limit);
  }

  async stats(
    dimension: StatDimension,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<StatRow>> {
    await this.fresh();
    const after = decodeCursor(cursor, 1);
    const rows = crossBorderStats(await this.store.crossBorderAggregates(), dimension);
    return pageOf(rows, (r) => [r.key], after, limit);
  }

  /** What ingest refused, with the reason, in arrival order. */
  async deadLetters(cursor: string | undefined, limit: number): Promise<Page<DeadLetter>> {
    const after = decodeCursor(cursor, 1);
    const afterId = after ? Number(after[0]) : 0;
    if (!Number.isSafeInteger(afterId) || afterId < 0) {
      throw new HubError('BAD_CURSOR', 'cursor is not valid');
    }
    const rows = await this.store.deadLetters(afterId, limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([String(last.id)]) : null,
    };
  }

  async record(origin: string, id: string, version: number | undefined): Promise<CitedRecord> {
    const r = await this.store.recordVersion(origin, id, version);
    if (!r) {
      throw new HubError(
        'NOT_FOUND',
        `no record ${origin}/${id}${version === undefined ? '' : ` v${version}`}`,
      );
    }
    return {
      origin,
      id,
      version: r.version,
      recordText: r.recordText,
      proof: JSON.parse(r.proofJson) as RecordProof,
    };
  }
}
