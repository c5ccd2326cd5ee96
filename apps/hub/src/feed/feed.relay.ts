import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUB, subjectFor } from '../../../../libs/broker/src/index.js';
import { toRfc3339Ms } from '../../../../libs/protocol/src/index.js';
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../ingest/publisher.js';
import { HubStore } from '../persistence/hub.store.js';

/**
 * Publishes stored feed messages in sequence order per member on `fed.v1.hub.<member>.feed`
 * (stream HUB_OUT_<MEMBER>), under `Nats-Msg-Id` `feed.hub.<member>.<seq>` so that a retry after a
 * lost ack is deduplicated; a message is marked sent only on the JetStream ack.
 */
@Injectable()
export class FeedRelay {
  private readonly log = new Logger(FeedRelay.name);
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: HubStore,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
    @Inject(HUB_CLOCK) private readonly clock: Clock,
  ) {}

  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    for (;;) {
      const pending = await this.store.pendingFeedMessages(100);
      if (pending.length === 0) return;
      const blocked = new Set<string>();
      for (const m of pending) {
        if (blocked.has(m.member)) continue;
        try {
          await this.publisher.publish(
            subjectFor(HUB, m.member, 'feed'),
            Buffer.from(m.payload, 'utf8'),
            { msgId: `feed.${HUB}.${m.member}.${m.seq}` },
          );
          await this.store.markFeedSent(m.member, m.seq, toRfc3339Ms(this.clock()));
        } catch (e) {
          // Keep the member's order: nothing after a failed message goes out before it.
          blocked.add(m.member);
          this.log.warn(
            `feed #${m.seq} to ${m.member} not published: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      if (blocked.size > 0) return;
    }
  }
}
