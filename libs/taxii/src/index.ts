// Public door of libs/taxii: a TAXII 2.1 server (docs/interop.md, "TAXII") over a small source
// interface, for the hub and, optionally, the node.
export * from './source.js';
export * from './accounts.js';
export * from './taxii.errors.js';
export * from './taxii.service.js';
export * from './taxii.controller.js';
export * from './taxii.module.js';
export * from './read-log.js';
