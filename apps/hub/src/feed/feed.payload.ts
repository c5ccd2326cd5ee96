import type { Aggregate } from '../../../../libs/correlation/src/index.js';

/**
 * The signed payload of a hub feed message (`fedintel-feed+jws`, RFC 8785 canonical JSON),
 * encrypted to its one member. `seq` counts per member from "1"; `upserts` are the member's view
 * of changed aggregates, `removals` the aggregates that left its view (every source retracted,
 * expired or no longer allowed onward to it).
 */
export interface FeedPayload {
  v: 1;
  from: 'hub';
  to: string;
  seq: string;
  issuedAt: string;
  upserts: Aggregate[];
  removals: { type: string; value: string }[];
}
