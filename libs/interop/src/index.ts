// Public door of libs/interop: pure mappings between FedIntel records and STIX 2.1, MISP, CSV
// and plain lists (docs/interop.md). No Nest, ORM, broker, clock or environment.
export * from './errors.js';
export * from './ids.js';
export * from './markings.js';
export * from './candidate.js';
export * from './stix-export.js';
export * from './stix-import.js';
export * from './misp.js';
export * from './files.js';
export * from './stix-hub.js';
