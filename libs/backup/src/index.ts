// Public door of libs/backup: consistent backups of a node's database and restores that the node
// recovers from without losing or duplicating records, and the rewrite of an old SQLite file with
// the current page size (docs/operations.md).
export * from './backup.js';
export * from './repack.js';
