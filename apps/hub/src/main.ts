import 'reflect-metadata';
import { startHub } from './bootstrap.js';
import { loadHubConfig } from './config/hub.config.js';

async function main(): Promise<void> {
  const config = loadHubConfig();
  await startHub(config);
  console.log(`hub listening on http://${config.http.host}:${config.http.port} (OpenAPI at /docs)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
