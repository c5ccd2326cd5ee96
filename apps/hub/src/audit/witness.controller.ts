import { Controller, Get, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { isAuditError, isCheckpointMessage } from '../../../../libs/audit/src/index.js';
import { Roles } from '../../../../libs/auth/src/index.js';
import { isProtocolError } from '../../../../libs/protocol/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { HubAuditService } from './hub-audit.service.js';
import { WitnessService } from './witness.service.js';

/**
 * NATS door of `fed.v1.<member>.hub.checkpoints`: a member's checkpoint for the hub to witness
 * (a JSON object), or the member's cosignature of one of the hub's own checkpoints (a compact
 * JWS, ADR 0061).
 */
@Controller()
export class WitnessInboundController {
  private readonly log = new Logger('witness');
  constructor(
    private readonly witness: WitnessService,
    private readonly audit: HubAuditService,
  ) {}

  @EventPattern('checkpoints')
  async checkpoint(@Payload() msg: InboundMessage): Promise<void> {
    const checkpoint = isCheckpointMessage(msg.data);
    try {
      if (checkpoint) await this.witness.witness(msg.origin, msg.data);
      else await this.audit.cosigned(msg.origin, Buffer.from(msg.data).toString('utf8'));
    } catch (e) {
      // A malformed or badly signed message is dropped (acked) and logged, never retried.
      if (!isAuditError(e) && !isProtocolError(e)) throw e;
      const what = checkpoint ? 'checkpoint' : 'cosignature';
      this.log.warn(`${what} from ${msg.origin} refused: ${e.code} ${e.message}`);
    }
  }
}

/** What the witness saw: the head per member log and its recent decisions (auditors). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit/witness')
export class WitnessController {
  constructor(private readonly witness: WitnessService) {}

  @Get()
  @Roles('auditor', 'hub-operator')
  @ApiOperation({
    summary:
      "Last countersigned checkpoint per member log, recent decisions, and members' cosignatures of the hub's own log",
  })
  async state(): Promise<unknown> {
    return this.witness.state();
  }
}
