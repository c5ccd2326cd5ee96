import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { withCorrelation } from '../observability/correlation.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DirectoryService } from './directory.service.js';

/** NATS door of directory distribution: new signed versions relayed by the hub. */
@Controller()
export class DirectoryController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly metrics: MetricsService,
  ) {}

  @EventPattern('directory')
  async directoryVersion(@Payload() msg: InboundMessage): Promise<void> {
    await withCorrelation({ messageId: `${msg.subject}#${msg.seq}` }, async () => {
      const t = process.hrtime.bigint();
      const o = await this.directory.receive(msg);
      this.metrics.observeInbound({
        kind: 'directory',
        status: o.status,
        accepted: 0,
        rejected: 0,
        code: o.code,
        seconds: Number(process.hrtime.bigint() - t) / 1e9,
      });
    });
  }
}
