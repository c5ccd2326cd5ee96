// Public door of libs/protocol. Nothing outside this lib imports its other files.
export * from './errors.js';
export * from './model.js';
export * from './json.js';
export * from './merkle.js';
export * from './keys.js';
export * from './jws.js';
export * from './normalize.js';
export * from './record.js';
export * from './record-batch.js';
export * from './ids.js';
export * from './jwe.js';
export * from './directory.js';
export * from './scope.js';
export * from './receipt.js';
export * from './bundle.js';
