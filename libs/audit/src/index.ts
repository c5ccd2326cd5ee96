// Public door of libs/audit: the tamper-evident log model, shared by the node, the hub and fedctl.
export * from './errors.js';
export * from './entry.js';
export * from './tree.js';
export * from './checkpoint.js';
export * from './witness.js';
export * from './witnessing.js';
export * from './verify.js';
export * from './reconcile.js';
export * from './export-verify.js';
export * from './sql-store.js';
export * from './audit-log.js';
export * from './purpose.decorator.js';
export * from './audit.dto.js';
export * from './audit.controller.js';
