import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { IngestService } from './ingest.service.js';

/** NATS door of hub ingest (JetStream transport on HUB_INBOX, libs/transport). */
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @EventPattern('records')
  async records(@Payload() msg: InboundMessage): Promise<void> {
    await this.ingest.receiveBundle(msg);
  }
}
