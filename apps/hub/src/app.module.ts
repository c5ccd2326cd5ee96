import { Module } from '@nestjs/common';
import { HealthController } from './health/health.controller.js';

/** The Interpol hub. Aggregation, correlation and feeds arrive with their issue. */
@Module({ controllers: [HealthController] })
export class HubModule {}
