import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { HUB, inboxStreamName } from '../../../libs/broker/src/index.js';
import { toRfc3339Ms } from '../../../libs/protocol/src/index.js';
import { JetStreamServer } from '../../../libs/transport/src/index.js';
import type { Clock, HubConfig } from './config/hub.config.js';
import { HubModule } from './hub.module.js';
import { HubStore } from './persistence/hub.store.js';

/**
 * Build and start the hub: operator API (OpenAPI at /docs), and the JetStream consumer of
 * HUB_INBOX. Used by main.ts, the demo runner, the bench and the tests (one code path).
 */
export async function startHub(
  config: HubConfig,
  opts: {
    listen?: boolean;
    logger?: false | ('error' | 'warn' | 'log')[];
    clock?: Clock;
  } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(HubModule.forRoot(config, { clock: opts.clock }), {
    logger: opts.logger ?? ['error', 'warn', 'log'],
    abortOnError: false,
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
    }),
  );
  const doc = new DocumentBuilder()
    .setTitle('FedIntel hub (Interpol)')
    .setDescription(
      'Hub operator REST API v1: aggregated indicators, operator networks, successor flags, cross-border statistics, cited records',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, doc));
  const store = app.get(HubStore);
  app.connectMicroservice(
    {
      strategy: new JetStreamServer({
        servers: config.nats.url,
        user: config.nats.user,
        pass: config.nats.password,
        name: 'fedintel-hub-inbox',
        stream: inboxStreamName(HUB),
        durable: 'hub',
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
  if (opts.listen !== false) await app.listen(config.http.port, config.http.host);
  else await app.init();
  return app;
}
