import { Module } from '@nestjs/common';
import { WitnessController, WitnessInboundController } from './witness.controller.js';
import { WitnessService } from './witness.service.js';
import { WitnessStore } from './witness.store.js';

/**
 * The hub's audit part: the checkpoint witness. Imported by HubModule; uses its exported
 * FederationContext, database and publisher.
 */
@Module({
  controllers: [WitnessInboundController, WitnessController],
  providers: [WitnessStore, WitnessService],
  exports: [WitnessService],
})
export class HubAuditModule {}
