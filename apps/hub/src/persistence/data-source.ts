import { DataSource } from 'typeorm';
import type { HubConfig } from '../config/hub.config.js';
import { HUB_ENTITIES } from './entities.js';
import { HubInitial1764400000000 } from './migrations/0001-hub-initial.js';

/**
 * Build the hub's DataSource. Migrations, never `synchronize`: the schema of a hub holding
 * real cases changes only through reviewed migrations.
 */
export function createHubDataSource(db: HubConfig['database']): DataSource {
  const common = {
    entities: HUB_ENTITIES,
    migrations: [HubInitial1764400000000],
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
      },
    });
  }
  return new DataSource({
    ...common,
    type: 'postgres',
    url: db.url,
    schema: db.schema,
    // The migrations and the store's raw SQL name tables unqualified: without this search_path
    // they would land in (and read from) `public`, not the hub's own schema.
    extra: db.schema ? { max: 10, options: `-c search_path="${db.schema}"` } : { max: 10 },
  });
}

/** Initialize, create the PostgreSQL schema when one is configured, and run pending migrations. */
export async function openHubDatabase(db: HubConfig['database']): Promise<DataSource> {
  if (db.kind === 'postgres' && db.schema) {
    const bootstrap = new DataSource({ type: 'postgres', url: db.url });
    await bootstrap.initialize();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
    } finally {
      await bootstrap.destroy();
    }
  }
  const ds = createHubDataSource(db);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'all' });
  return ds;
}
