import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { NODE_DATA_SOURCE } from '../persistence/node.store.js';
import { FeedCursorRow, FeedItemRow } from './feed.entities.js';

export interface FeedItem {
  type: string;
  value: string;
  item: unknown;
  seq: bigint;
  updatedAt: string;
}

const pad = (seq: bigint): string => seq.toString().padStart(20, '0');

/** The member side of the hub feed: the only code that touches the feed tables. */
@Injectable()
export class FeedStore {
  constructor(@Inject(NODE_DATA_SOURCE) private readonly ds: DataSource) {}

  async lastSeq(source: string): Promise<bigint> {
    const row = await this.ds.getRepository(FeedCursorRow).findOneBy({ source });
    return row ? BigInt(row.seq) : 0n;
  }

  /** Apply one feed message atomically: upserts, removals and the new cursor. */
  async apply(p: {
    source: string;
    seq: bigint;
    jws: string;
    upserts: { type: string; value: string; item: unknown }[];
    removals: { type: string; value: string }[];
    at: string;
  }): Promise<void> {
    await this.ds.transaction(async (m) => {
      for (const r of p.removals) await m.delete(FeedItemRow, { type: r.type, value: r.value });
      if (p.upserts.length > 0) {
        await m.upsert(
          FeedItemRow,
          p.upserts.map((u) => ({
            type: u.type,
            value: u.value,
            itemJson: JSON.stringify(u.item),
            seq: pad(p.seq),
            updatedAt: p.at,
          })),
          ['type', 'value'],
        );
      }
      await m.upsert(
        FeedCursorRow,
        { source: p.source, seq: pad(p.seq), lastJws: p.jws, updatedAt: p.at },
        ['source'],
      );
    });
  }

  /** Feed items in (type, value) order after `after`. */
  async page(
    filter: { type?: string },
    after: { type: string; value: string } | undefined,
    limit: number,
  ): Promise<FeedItem[]> {
    const qb = this.ds
      .getRepository(FeedItemRow)
      .createQueryBuilder('f')
      .orderBy('f.type', 'ASC')
      .addOrderBy('f.value', 'ASC')
      .limit(limit);
    if (filter.type) qb.andWhere('f.type = :type', { type: filter.type });
    if (after) {
      qb.andWhere('(f.type > :at OR (f.type = :at AND f.value > :av))', {
        at: after.type,
        av: after.value,
      });
    }
    const rows = await qb.getMany();
    return rows.map((r) => ({
      type: r.type,
      value: r.value,
      item: JSON.parse(r.itemJson) as unknown,
      seq: BigInt(r.seq),
      updatedAt: r.updatedAt,
    }));
  }
}
