import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { HubModule } from './app.module.js';
import { loadHubConfig } from './config/hub.config.js';

async function bootstrap(): Promise<void> {
  const config = loadHubConfig();
  const app = await NestFactory.create(HubModule);
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  console.log(`hub listening on http://${config.http.host}:${config.http.port}`);
}

bootstrap().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
