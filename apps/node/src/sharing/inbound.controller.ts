import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { MetricsService } from '../observability/metrics.service.js';
import { withCorrelation } from '../observability/correlation.js';
import { InboundService } from './inbound.service.js';

/** NATS door of the receiving use cases (JetStream transport, libs/transport). */
@Controller()
export class InboundController {
  constructor(
    private readonly inbound: InboundService,
    private readonly metrics: MetricsService,
  ) {}

  @EventPattern('records')
  async records(@Payload() msg: InboundMessage): Promise<void> {
    await withCorrelation({ messageId: `${msg.subject}#${msg.seq}` }, async () => {
      const t = process.hrtime.bigint();
      const o = await this.inbound.receiveBundle(msg);
      this.metrics.observeInbound({ kind: 'records', ...o, seconds: elapsed(t) });
    });
  }

  @EventPattern('receipts')
  async receipts(@Payload() msg: InboundMessage): Promise<void> {
    await withCorrelation({ messageId: `${msg.subject}#${msg.seq}` }, async () => {
      const t = process.hrtime.bigint();
      const o = await this.inbound.receiveReceipt(msg);
      this.metrics.observeInbound({ kind: 'receipts', ...o, seconds: elapsed(t) });
    });
  }
}

/** Seconds since `t` (a `process.hrtime.bigint()` reading). */
export function elapsed(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e9;
}
