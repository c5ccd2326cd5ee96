import { Controller, Get, Inject, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS_OPERATION, Public, serveMetrics } from '../../../../libs/auth/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { MetricsService } from './metrics.service.js';
import { ReadinessService, type Readiness } from './readiness.service.js';

/** Operations doors: Prometheus metrics, liveness and readiness probes. */
@ApiTags('operations')
@Controller()
export class ObservabilityController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly readiness: ReadinessService,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
  ) {}

  @Get('metrics')
  @Public()
  @ApiOperation(METRICS_OPERATION)
  scrape(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return serveMetrics(req, res, this.config.metricsToken, () => this.metrics.scrape());
  }

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: database and NATS leaf reachable (503 otherwise)' })
  @ApiOkResponse({ description: '{ status: "ready", checks: { database, nats } }' })
  async ready(): Promise<Readiness> {
    const r = await this.readiness.check();
    if (r.status !== 'ready') throw new ServiceUnavailableException(r);
    return r;
  }
}
