// Public door of libs/devnet: provisioning of a local federation (keys, signed directory,
// per-node environment), shared by `fedctl demo`, the benchmarks and the end-to-end tests.
export * from './provision.js';
export * from './runtime.js';
