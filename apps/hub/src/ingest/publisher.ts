import type { JetStreamPublisher } from '../../../../libs/transport/src/index.js';

/** What the hub needs to publish (receipts, feeds): a JetStream publisher with dedup ids. */
export type FederationPublisher = Pick<JetStreamPublisher, 'publish'>;

export const FEDERATION_PUBLISHER = Symbol('FEDERATION_PUBLISHER');
