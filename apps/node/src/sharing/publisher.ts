/** Injection token of the node's JetStream publisher (libs/transport's JetStreamPublisher). */
export const FEDERATION_PUBLISHER = Symbol('FEDERATION_PUBLISHER');

/** The part of the publisher the node uses; a real JetStream publisher in every test. */
export interface FederationPublisher {
  publish(
    subject: string,
    data: Uint8Array,
    opts: { msgId: string; expectStream?: string },
  ): Promise<unknown>;
}
