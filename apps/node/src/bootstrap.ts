import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { JetStreamServer, inboxStreamName } from './inbound-transport.js';
import type { NodeConfig } from './config/node.config.js';
import { NodeModule } from './node.module.js';
import { NodeStore } from './persistence/node.store.js';
import { INBOX_DURABLE } from './observability/metrics.service.js';
import { RESTORE_PENDING, RecoveryService } from './recovery/recovery.service.js';
import { JsonLogger } from './observability/json-logger.js';
import { requestIdFrom, withCorrelation } from './observability/correlation.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toRfc3339Ms } from '../../../libs/protocol/src/index.js';

/** Largest accepted HTTP body: a bulk request of a few thousand indicators. */
export const MAX_BODY = '2mb';

/**
 * Build and start a node: HTTP API, OpenAPI at /api/docs, and the JetStream consumer of its inbox.
 * Used by main.ts, the demo runner and the tests (one code path).
 */
export async function startNode(
  config: NodeConfig,
  opts: { listen?: boolean; logger?: false | ('error' | 'warn' | 'log')[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(NodeModule.forRoot(config), {
    logger: opts.logger ?? new JsonLogger({ member: config.memberId, level: config.logLevel }),
    bodyParser: false,
    abortOnError: false,
  });
  // Every request gets an id (the caller's X-Request-Id when well-formed), echoed in the response
  // and attached to every log line written while serving it.
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', requestId);
    withCorrelation({ requestId }, next);
  });
  app.useBodyParser('json', { limit: MAX_BODY });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
    }),
  );
  const doc = new DocumentBuilder()
    .setTitle(`FedIntel node ${config.memberId}`)
    .setDescription('National node REST API v1: indicators, sharing provenance, operations')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, SwaggerModule.createDocument(app, doc));
  const store = app.get(NodeStore);
  // After `fedctl restore`, read the inbox again from its start (known bundles are duplicates).
  const replayFrom = (await store.getState(RESTORE_PENDING)) ? new Date(0) : undefined;
  app.connectMicroservice(
    {
      strategy: new JetStreamServer({
        servers: config.nats.url,
        user: config.nats.user,
        pass: config.nats.password,
        name: `fedintel-node-${config.memberId}-inbox`,
        stream: inboxStreamName(config.memberId),
        durable: INBOX_DURABLE,
        replayFrom,
        maxDeliver: 10,
        backoffMs: [200, 1000, 5000],
        onDeadLetter: async (m, reason) => {
          await store.addDeadLetter({
            subject: m.subject,
            origin: m.origin || null,
            code: (reason as { code?: string }).code ?? 'TRANSPORT',
            detail: reason instanceof Error ? reason.message : String(reason),
            data: m.data,
            receivedAt: toRfc3339Ms(new Date()),
          });
        },
      }),
    },
    { inheritAppConfig: true },
  );
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  if (replayFrom) await app.get(RecoveryService).restoreDone();
  if (opts.listen !== false) await app.listen(config.http.port, config.http.host);
  else await app.init();
  return app;
}
