import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';

/** How often the checkpointer copies committed WAL frames into the database file. */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * WAL pages after which the application's own connection checkpoints anyway (SQLite's automatic
 * checkpoint, 1000 by default): a backstop should the checkpointer fall behind or stop.
 */
export const BACKSTOP_PAGES = 10_000;
/** SQLite's own default, restored when the checkpointer stops. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

// The worker's code, run with `eval` so that it needs no file of its own next to the compiled
// module (tests load the TypeScript sources, which a worker could not): a second connection to
// the same database file that runs PASSIVE checkpoints, which never wait for or block the
// application's readers and writer (https://sqlite.org/c3ref/wal_checkpoint_v2.html).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -1024');
} catch (e) {
  parentPort.postMessage({ fatal: String((e && e.message) || e) });
  process.exit(1);
}
let failures = 0;
const pass = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (e) {
    failures++;
    parentPort.postMessage({ error: String((e && e.message) || e), failures });
  }
};
const timer = setInterval(pass, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  pass();
  db.close();
  parentPort.postMessage({ stopped: true });
});
parentPort.postMessage({ ready: true });
`;

/** What the owner of a checkpointer is told (the node and the hub log it). */
export interface CheckpointerEvents {
  error(message: string): void;
}

/** A running checkpointer: {@link stop} before the application's connection closes. */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

interface SqliteConnection {
  pragma(s: string): unknown;
}

/**
 * Moves SQLite's WAL checkpoints off the application's thread (ADR 0056). With WAL and
 * `synchronous = NORMAL`, a commit only appends to the WAL; every ~4 MB of WAL the committing
 * connection copied the pages back into the database file and waited for two fsyncs, on the
 * request's thread, inside the request (~6 µs per imported row). Here a worker thread with its own
 * connection runs a PASSIVE checkpoint every {@link CHECKPOINT_INTERVAL_MS}, and the application's
 * connection keeps an automatic checkpoint only as a backstop ({@link BACKSTOP_PAGES}). The window
 * of commits a power failure can undo is the time since the last checkpoint, as before (now at
 * most ~0.1 s under steady writes, rather than "the last ~4 MB").
 *
 * Should the worker fail to start or stop on its own, the connection goes back to SQLite's default
 * automatic checkpoint: nothing depends on the worker but speed.
 */
export async function startWalCheckpointer(
  ds: DataSource,
  path: string,
  events: CheckpointerEvents = { error: () => undefined },
  intervalMs = CHECKPOINT_INTERVAL_MS,
): Promise<WalCheckpointer> {
  const conn = (ds.driver as unknown as { databaseConnection: SqliteConnection })
    .databaseConnection;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, path, intervalMs },
  });
  // Never the reason a process stays alive.
  worker.unref();
  let stopped = false;
  let started = false;
  const restoreDefault = () => {
    if (!started || !ds.isInitialized) return;
    try {
      conn.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the connection is closing: nothing to restore
    }
  };
  const done = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      if (!stopped && started) {
        events.error('WAL checkpointer exited; the connection checkpoints itself again');
        restoreDefault();
      }
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { ready?: boolean; fatal?: string }) => {
      if (m.ready) {
        worker.off('error', onError);
        worker.off('message', onMessage);
        resolve();
      } else if (m.fatal !== undefined) {
        onError(new Error(`cannot open ${path} for checkpoints: ${m.fatal}`));
      }
    };
    const onError = (e: unknown) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
  started = true;
  worker.on('message', (m: { error?: string; failures?: number }) => {
    if (m.error !== undefined) events.error(`WAL checkpoint failed (${m.failures}×): ${m.error}`);
  });
  worker.on('error', (e) => events.error(`WAL checkpointer: ${e.message}`));
  conn.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  return {
    async stop() {
      if (stopped) return done;
      stopped = true;
      restoreDefault();
      const acknowledged = new Promise<void>((resolve) => {
        worker.on('message', (m: { stopped?: boolean }) => {
          if (m.stopped) resolve();
        });
      });
      worker.postMessage('stop');
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
      // The worker's last pass is done (or it is gone, or it hangs): end it either way.
      await Promise.race([acknowledged, done, timeout]);
      await worker.terminate();
    },
  };
}
