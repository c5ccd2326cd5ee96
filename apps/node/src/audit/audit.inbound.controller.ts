import { Controller, Get, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { isAuditError, isCheckpointMessage } from '../../../../libs/audit/src/index.js';
import { Roles } from '../../../../libs/auth/src/index.js';
import { isProtocolError } from '../../../../libs/protocol/src/index.js';
import { AuditService } from './audit.service.js';
import { HubWitnessService } from './hub-witness.service.js';

/**
 * NATS door of `fed.v1.hub.<member>.checkpoints`: the hub witness's cosignature of one of our
 * checkpoints (a compact JWS), or a checkpoint of the hub's own log for us to witness (a JSON
 * object, ADR 0061).
 */
@Controller()
export class AuditInboundController {
  private readonly log = new Logger('audit');
  constructor(
    private readonly audit: AuditService,
    private readonly witness: HubWitnessService,
  ) {}

  @EventPattern('checkpoints')
  async checkpoints(@Payload() msg: InboundMessage): Promise<void> {
    const checkpoint = isCheckpointMessage(msg.data);
    try {
      if (checkpoint) await this.witness.witness(msg.data);
      else await this.audit.cosigned(Buffer.from(msg.data).toString('utf8'));
    } catch (e) {
      // A bad message is dropped (acked) with a warning: it changes nothing in our log.
      if (!isAuditError(e) && !isProtocolError(e)) throw e;
      const what = checkpoint ? "hub's checkpoint" : 'cosignature';
      this.log.warn(`${what} refused: ${e.code} ${e.message}`);
    }
  }
}

/** What this node, as a witness of the hub's log, accepted and refused (auditors). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit/witness')
export class NodeWitnessController {
  constructor(private readonly witness: HubWitnessService) {}

  @Get()
  @Roles('auditor')
  @ApiOperation({
    summary: "Last checkpoint of the hub's log this node countersigned, and recent decisions",
  })
  async state(): Promise<unknown> {
    return this.witness.state();
  }
}
