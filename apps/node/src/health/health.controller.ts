import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public, Roles } from '../../../../libs/auth/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly federation: FederationContext,
    private readonly store: NodeStore,
  ) {}

  @Get('health')
  @Public()
  health(): { status: 'ok'; member: string; directoryVersion: number } {
    return {
      status: 'ok',
      member: this.federation.memberId,
      directoryVersion: this.federation.directory.version,
    };
  }

  @Get('api/v1/outbox')
  @Roles('admin', 'auditor', 'supervisor')
  async outbox(): Promise<unknown> {
    return this.store.outboxStats();
  }

  @Get('api/v1/dead-letters')
  @Roles('admin', 'auditor')
  async deadLetters(): Promise<unknown> {
    return this.store.deadLetters({ offset: 0, limit: 200 });
  }

  @Get('api/v1/sequence-gaps')
  @Roles('admin', 'auditor')
  async gaps(): Promise<unknown> {
    return this.store.sequenceGaps();
  }
}
