import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { InboundService } from './inbound.service.js';

/** NATS door of the receiving use cases (JetStream transport, libs/transport). */
@Controller()
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @EventPattern('records')
  async records(@Payload() msg: InboundMessage): Promise<void> {
    await this.inbound.receiveBundle(msg);
  }

  @EventPattern('receipts')
  async receipts(@Payload() msg: InboundMessage): Promise<void> {
    await this.inbound.receiveReceipt(msg);
  }
}
