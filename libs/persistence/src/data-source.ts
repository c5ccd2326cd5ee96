import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';

/** Where an application's database is: as in FEDINTEL_DATABASE_URL (+ FEDINTEL_DATABASE_SCHEMA). */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string | undefined };

/** What an application brings: its entities and its migrations, in order. */
export interface Schema {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
}

/**
 * A DataSource for a node or the hub. Migrations, never `synchronize`: a schema holding real cases
 * changes only through reviewed migrations. One place for the driver settings both apps need.
 */
/**
 * Page size of every SQLite database the apps create (ADR 0060). Four times SQLite's default:
 * a bulk commit writes a quarter as many WAL frames, and every frame is a write(2), which costs
 * more than the bytes in it on the virtual machines agencies run.
 */
export const SQLITE_PAGE_SIZE = 16_384;

export function createDataSource(db: DatabaseConfig, schema: Schema): DataSource {
  const common = {
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  };
  if (db.kind === 'sqlite') {
    return serializeTransactions(
      new DataSource({
        ...common,
        type: 'better-sqlite3',
        database: db.path,
        // WAL lets the API read while the receiver writes; NORMAL is durable at checkpoints in WAL.
        prepareDatabase: (conn: { pragma(s: string): unknown }) => {
          // Takes effect only while the file is still empty: a new database gets 16 KiB pages
          // (ADR 0060); an existing one keeps the size it was created with.
          conn.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('busy_timeout = 5000');
          // 64 MiB of page cache instead of 2: UUID-keyed inserts touch pages all over the indexes,
          // and with the default cache every bundle re-read them from the OS (docs/benchmarks.md).
          conn.pragma('cache_size = -65536');
        },
      }),
    );
  }
  return new DataSource({
    ...common,
    type: 'postgres',
    url: db.url,
    schema: db.schema,
    // The migrations and the stores' raw SQL name tables unqualified: without this search_path
    // they would land in (and read from) `public`, not the application's own schema.
    extra: db.schema ? { max: 10, options: `-c search_path="${db.schema}"` } : { max: 10 },
  });
}

/**
 * Runs the SQLite DataSource's transactions one after another (ADR 0052).
 *
 * TypeORM gives every caller of a better-sqlite3 DataSource the same query runner on the same
 * connection. Two `transaction()` calls in flight at once (the relay saving a bundle while the API
 * stores a bulk request and a PubAck marks a bundle sent) then interleave on that connection: both
 * issue BEGIN ("cannot start a transaction within a transaction"), or one runs as a savepoint inside
 * the other and is rolled back with it. Here each transaction waits for the previous one; a
 * `transaction()` called from inside a running one (same async context) runs at once, as before,
 * so nesting cannot deadlock. PostgreSQL needs none of this: each transaction has its own pooled
 * connection.
 */
export function serializeTransactions(ds: DataSource): DataSource {
  const original = ds.transaction.bind(ds) as (...args: unknown[]) => Promise<unknown>;
  const inside = new AsyncLocalStorage<true>();
  let tail: Promise<unknown> = Promise.resolve();
  const serialized = (...args: unknown[]): Promise<unknown> => {
    if (inside.getStore() === true) return original(...args);
    const run = tail.then(() => inside.run(true, () => original(...args)));
    tail = run.catch(() => undefined);
    return run;
  };
  Object.defineProperty(ds, 'transaction', { value: serialized, writable: true });
  return ds;
}

/**
 * Initialize, create the PostgreSQL schema when one is configured, and run pending migrations. A
 * SQLite file gets its WAL checkpoints from a worker thread (ADR 0056), stopped by `destroy()`;
 * `log` hears when that worker fails (the database then checkpoints as SQLite does by default).
 */
export async function openDatabase(
  db: DatabaseConfig,
  schema: Schema,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<DataSource> {
  if (db.kind === 'postgres' && db.schema) {
    const bootstrap = new DataSource({ type: 'postgres', url: db.url });
    await bootstrap.initialize();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
    } finally {
      await bootstrap.destroy();
    }
  }
  const ds = createDataSource(db, schema);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'all' });
  if (db.kind === 'sqlite' && db.path !== ':memory:' && !db.path.startsWith('file:')) {
    await checkpointOffThread(ds, db.path, log);
  }
  return ds;
}

async function checkpointOffThread(
  ds: DataSource,
  path: string,
  log: (message: string) => void,
): Promise<void> {
  let checkpointer: WalCheckpointer;
  try {
    checkpointer = await startWalCheckpointer(ds, path, { error: log });
  } catch (e) {
    log(`WAL checkpointer not started (${e instanceof Error ? e.message : String(e)})`);
    return;
  }
  const destroy = ds.destroy.bind(ds);
  Object.defineProperty(ds, 'destroy', {
    value: async () => {
      await checkpointer.stop();
      return destroy();
    },
    writable: true,
  });
}
