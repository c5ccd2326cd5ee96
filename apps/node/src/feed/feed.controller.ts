import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { FeedService } from './feed.service.js';

/** NATS door of the hub feed (kind `feed` on this member's INBOX). */
@Controller()
export class FeedInboundController {
  constructor(private readonly feed: FeedService) {}

  @EventPattern('feed')
  async feedMessage(@Payload() msg: InboundMessage): Promise<void> {
    await this.feed.receive(msg);
  }
}
