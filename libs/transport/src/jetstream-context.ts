import { BaseRpcContext } from '@nestjs/microservices';
import type { InboundMessage } from './inbound-message.js';

/**
 * The `@Ctx()` of a handler served by {@link JetStreamServer}. Acknowledgement stays with the
 * transport (after the handler settles), so the raw JetStream message is deliberately not exposed.
 */
export class JetStreamContext extends BaseRpcContext<[string, InboundMessage]> {
  /** Subject the message was published on. */
  getSubject(): string {
    return this.args[0];
  }

  /** The message also given as `@Payload()`. */
  getMessage(): InboundMessage {
    return this.args[1];
  }
}
