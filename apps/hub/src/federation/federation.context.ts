// The hub's federation context is the shared one (libs/federation).
export { FederationContext } from '../../../../libs/federation/src/index.js';
