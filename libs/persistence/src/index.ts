// Public door of libs/persistence: how the node and the hub open their databases (SQLite or
// PostgreSQL in its own schema, migrations only).
export * from './data-source.js';
export * from './wal-checkpointer.js';
export * from './dead-letters.js';
export * from './insert-rows.js';
