// The node's choice of transport for its inbox: the project's JetStream strategy.
export { JetStreamServer } from '../../../libs/transport/src/index.js';
export { inboxStreamName } from '../../../libs/broker/src/index.js';
