/**
 * libs/broker: the NATS federation topology (pattern B2, docs/broker.md), subject naming and
 * JetStream stream provisioning. The only public door of the lib.
 */
export * from './errors.js';
export * from './subjects.js';
export * from './topology.js';
export * from './provision.js';
