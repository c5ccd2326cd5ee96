import 'reflect-metadata';
import { startNode } from './bootstrap.js';
import { loadNodeConfig } from './config/node.config.js';

async function main(): Promise<void> {
  const config = loadNodeConfig();
  await startNode(config);
  console.log(
    `node ${config.memberId} listening on http://${config.http.host}:${config.http.port} (docs: /api/docs)`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
