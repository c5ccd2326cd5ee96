// Public door of libs/transport: JetStream transport strategy for Nest, and a JetStream publisher.
export type { NatsConnectionOptions } from './connection.js';
export {
  DeadLetterError,
  isPermanentError,
  JetStreamPublishError,
  PermanentMessageError,
} from './errors.js';
export type { DeadLetterCode, JetStreamPublishErrorCode } from './errors.js';
export { parseFederationSubject } from './inbound-message.js';
export type { FederationSubjectParts, InboundMessage } from './inbound-message.js';
export { JetStreamContext } from './jetstream-context.js';
export { JetStreamExceptionFilter } from './jetstream-exception.filter.js';
export { JetStreamPublisher, toPublishError } from './jetstream-publisher.js';
export type {
  JetStreamPublishClient,
  JetStreamPublisherOptions,
  PublishAck,
  PublishItem,
  PublishOptions,
  PublishResult,
} from './jetstream-publisher.js';
export { backoffDelay, JETSTREAM_TRANSPORT, JetStreamServer } from './jetstream-server.js';
export type {
  JetStreamReadiness,
  JetStreamServerEvents,
  JetStreamServerOptions,
  JetStreamServerStatus,
} from './jetstream-server.js';
