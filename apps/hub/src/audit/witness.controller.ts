import { Controller, Get, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { isAuditError } from '../../../../libs/audit/src/index.js';
import { Roles } from '../../../../libs/auth/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { WitnessService } from './witness.service.js';

/** NATS door of the witness: members' checkpoints on `fed.v1.<member>.hub.checkpoints`. */
@Controller()
export class WitnessInboundController {
  private readonly log = new Logger('witness');
  constructor(private readonly witness: WitnessService) {}

  @EventPattern('checkpoints')
  async checkpoint(@Payload() msg: InboundMessage): Promise<void> {
    try {
      await this.witness.witness(msg.origin, msg.data);
    } catch (e) {
      // A malformed or badly signed checkpoint is dropped (acked) and logged, never retried.
      if (!isAuditError(e)) throw e;
      this.log.warn(`checkpoint from ${msg.origin} refused: ${e.code} ${e.message}`);
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
  @ApiOperation({ summary: 'Last countersigned checkpoint per member log, and recent decisions' })
  async state(): Promise<unknown> {
    return this.witness.state();
  }
}
