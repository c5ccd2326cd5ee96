// Public door of libs/backup: consistent backups of a node's database and restores that the node
// recovers from without losing or duplicating records (docs/operations.md).
export * from './backup.js';
