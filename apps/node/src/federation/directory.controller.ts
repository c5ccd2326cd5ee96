import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { DirectoryService } from './directory.service.js';

/** NATS door of directory distribution: new signed versions relayed by the hub. */
@Controller()
export class DirectoryController {
  constructor(private readonly directory: DirectoryService) {}

  @EventPattern('directory')
  async directoryVersion(@Payload() msg: InboundMessage): Promise<void> {
    await this.directory.receive(msg);
  }
}
