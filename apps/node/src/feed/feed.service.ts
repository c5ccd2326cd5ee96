import { Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  decryptFor,
  isProtocolError,
  parseStrictJson,
  toRfc3339Ms,
  verifyCompact,
} from '../../../../libs/protocol/src/index.js';
import { HUB } from '../../../../libs/broker/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { FeedStore, type FeedItem } from './feed.store.js';

/** Largest feed message accepted (bytes). */
export const MAX_FEED_BYTES = 16 * 1024 * 1024;

const SEQ = /^[1-9][0-9]{0,18}$/;
const MAX_ITEMS = 10_000;

interface FeedKey {
  type: string;
  value: string;
}

function malformed(why: string): ProtocolError {
  return new ProtocolError('INVALID_FIELD', `feed: ${why}`, { field: 'feed' });
}

function key(v: unknown, where: string): FeedKey & Record<string, unknown> {
  const o = v as Record<string, unknown> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.type !== 'string' ||
    typeof o.value !== 'string'
  ) {
    throw malformed(`${where} must be objects with string type and value`);
  }
  return o as FeedKey & Record<string, unknown>;
}

/**
 * Receiving the hub's aggregated feed: decrypt with this node's key, verify the hub's signature
 * (`fedintel-feed+jws`) against the directory, check that it is addressed to this member and
 * newer than the last one applied, then apply its upserts and removals atomically. Anything else
 * is dead-lettered with its reason and never applied.
 */
@Injectable()
export class FeedService {
  private readonly log = new Logger(FeedService.name);

  constructor(
    private readonly feed: FeedStore,
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
  ) {}

  async receive(
    msg: InboundMessage,
    now = new Date(),
  ): Promise<'applied' | 'duplicate' | 'dead-lettered'> {
    const me = this.federation.memberId;
    try {
      if (msg.origin !== HUB)
        throw new ProtocolError('MISADDRESSED', `feed from ${msg.origin || '?'}`);
      if (msg.data.length > MAX_FEED_BYTES) {
        throw new ProtocolError('JSON_TOO_LARGE', `feed of ${msg.data.length} bytes`);
      }
      const plain = await decryptFor(
        Buffer.from(msg.data).toString('utf8'),
        this.federation.encryptionKey,
      );
      const jws = Buffer.from(plain).toString('utf8');
      const { payload } = await verifyCompact(
        jws,
        'feed',
        this.federation.receiveResolver(now, HUB),
      );
      const p = parseStrictJson(payload, { maxBytes: MAX_FEED_BYTES }) as Record<string, unknown>;
      if (typeof p !== 'object' || p === null || p.v !== 1 || p.from !== HUB) {
        throw malformed('not a v1 hub feed');
      }
      if (p.to !== me)
        throw new ProtocolError('MISADDRESSED', `feed for ${String(p.to)}, not ${me}`);
      if (typeof p.seq !== 'string' || !SEQ.test(p.seq))
        throw malformed('seq must be a decimal string');
      if (!Array.isArray(p.upserts) || !Array.isArray(p.removals)) {
        throw malformed('upserts and removals must be arrays');
      }
      if (p.upserts.length + p.removals.length > MAX_ITEMS) throw malformed('too many items');
      const upserts = p.upserts.map((u) => key(u, 'upserts'));
      const removals = p.removals.map((r) => key(r, 'removals'));
      const seq = BigInt(p.seq);
      const last = await this.feed.lastSeq(HUB);
      if (seq <= last) {
        if (msg.redelivered) return 'duplicate';
        throw new ProtocolError('REPLAY', `feed #${seq} is not newer than #${last}`);
      }
      // Each item is the full current view of its key: a later message is correct for its keys
      // even when an earlier one is missing; the gap is reported.
      if (seq > last + 1n) this.log.warn(`hub feed gap: #${last + 1n}..#${seq - 1n} missing`);
      await this.feed.apply({
        source: HUB,
        seq,
        jws,
        upserts: upserts.map((u) => ({ type: u.type, value: u.value, item: u })),
        removals: removals.map((r) => ({ type: r.type, value: r.value })),
        at: toRfc3339Ms(now),
      });
      return 'applied';
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      await this.store.addDeadLetter({
        subject: msg.subject,
        origin: msg.origin || null,
        code: e.code,
        detail: e.message,
        data: msg.data,
        receivedAt: toRfc3339Ms(now),
      });
      this.log.warn(`dead-lettered feed ${msg.subject} #${msg.seq}: ${e.code} ${e.message}`);
      return 'dead-lettered';
    }
  }

  page(filter: { type?: string }, after: FeedKey | undefined, limit: number): Promise<FeedItem[]> {
    return this.feed.page(filter, after, limit);
  }
}
