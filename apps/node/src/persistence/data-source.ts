import { DataSource } from 'typeorm';
import type { NodeConfig } from '../config/node.config.js';
import { NODE_ENTITIES } from './entities.js';
import { Initial1764300000000 } from './migrations/0001-initial.js';
import { OutboxPendingIndex1764350000000 } from './migrations/0002-outbox-pending-index.js';
import { Audit1764400000000 } from './migrations/0003-audit.js';
import { Feed1764450000000 } from './migrations/0004-feed.js';

/**
 * Build the node's DataSource. Migrations, never `synchronize`: the schema of a node holding
 * real cases changes only through reviewed migrations.
 */
export function createNodeDataSource(db: NodeConfig['database']): DataSource {
  const common = {
    entities: NODE_ENTITIES,
    migrations: [
      Initial1764300000000,
      OutboxPendingIndex1764350000000,
      Audit1764400000000,
      Feed1764450000000,
    ],
    migrationsRun: false,
    synchronize: false,
    logging: false,
  };
  if (db.kind === 'sqlite') {
    return new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: db.path,
      // WAL lets the API read while the receiver writes; NORMAL is durable at checkpoints in WAL.
      prepareDatabase: (conn: { pragma(s: string): unknown }) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        conn.pragma('busy_timeout = 5000');
        // 64 MiB of page cache instead of 2: UUID-keyed inserts touch pages all over the indexes,
        // and with the default cache every bundle re-read them from the OS (docs/benchmarks.md).
        conn.pragma('cache_size = -65536');
      },
    });
  }
  return new DataSource({
    ...common,
    type: 'postgres',
    url: db.url,
    schema: db.schema,
    // The migrations and the store's raw SQL name tables unqualified: without this search_path
    // they would land in (and read from) `public`, not the node's own schema.
    extra: db.schema ? { max: 10, options: `-c search_path="${db.schema}"` } : { max: 10 },
  });
}

/** Initialize, create the PostgreSQL schema when one is configured, and run pending migrations. */
export async function openNodeDatabase(db: NodeConfig['database']): Promise<DataSource> {
  if (db.kind === 'postgres' && db.schema) {
    const bootstrap = new DataSource({ type: 'postgres', url: db.url });
    await bootstrap.initialize();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
    } finally {
      await bootstrap.destroy();
    }
  }
  const ds = createNodeDataSource(db);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'all' });
  return ds;
}
