import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { isAuditError } from '../../../../libs/audit/src/index.js';
import { AuditService } from './audit.service.js';

/** NATS door of the hub witness's cosignatures (`fed.v1.hub.<member>.checkpoints`). */
@Controller()
export class AuditInboundController {
  private readonly log = new Logger('audit');
  constructor(private readonly audit: AuditService) {}

  @EventPattern('checkpoints')
  async cosignature(@Payload() msg: InboundMessage): Promise<void> {
    try {
      await this.audit.cosigned(Buffer.from(msg.data).toString('utf8'));
    } catch (e) {
      // A bad cosignature is dropped (acked) with a warning: it changes nothing in our log.
      if (!isAuditError(e) && !(e as { code?: string }).code) throw e;
      this.log.warn(`cosignature refused: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
