// Public door of libs/config: the environment a node and the hub share, validated once.
export * from './service-env.js';
