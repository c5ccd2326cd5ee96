// Public door of libs/federation: what a node or the hub knows about the federation (identity,
// private keys, the verified directory in force) and how it follows new directory versions and
// rotated key files without a restart.
export * from './federation.context.js';
export * from './federation-files.js';
export * from './receipts.js';
export * from './inbound.js';
