import { Module } from '@nestjs/common';
import { AuditController, AuditLog } from '../../../../libs/audit/src/index.js';
import { HubAuditService } from './hub-audit.service.js';
import { HubAuditStore } from './hub-audit.store.js';
import { WitnessController, WitnessInboundController } from './witness.controller.js';
import { WitnessService } from './witness.service.js';
import { WitnessStore } from './witness.store.js';
import { HubMetricsController } from '../health/metrics.controller.js';
import { HubMetricsService } from '../health/hub-metrics.service.js';

/**
 * The hub's audit part: its own tamper-evident log with the auditor API (the same routes as a
 * node's, libs/audit AuditController), the checkpoint witness, and the Prometheus metrics of both
 * (`GET /metrics`). Imported by HubModule; uses
 * its exported FederationContext, database and publisher.
 */
@Module({
  controllers: [WitnessInboundController, WitnessController, AuditController, HubMetricsController],
  providers: [
    HubMetricsService,
    WitnessStore,
    WitnessService,
    HubAuditStore,
    HubAuditService,
    { provide: AuditLog, useExisting: HubAuditService },
  ],
  exports: [WitnessService, HubAuditService],
})
export class HubAuditModule {}
