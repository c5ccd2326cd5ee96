import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS_OPERATION, Public, serveMetrics } from '../../../../libs/auth/src/index.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub.config.js';
import { HubMetricsService } from './hub-metrics.service.js';

/** The hub's Prometheus door (the same rule as a node's: a bearer token when one is set). */
@ApiTags('health')
@Controller()
export class HubMetricsController {
  constructor(
    private readonly metrics: HubMetricsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  @Get('metrics')
  @Public()
  @ApiOperation(METRICS_OPERATION)
  scrape(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return serveMetrics(req, res, this.config.metricsToken, () => this.metrics.scrape());
  }
}
