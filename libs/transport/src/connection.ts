import type { LoggerService } from '@nestjs/common';
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';

/** How to reach NATS; shared by {@link JetStreamServer} and {@link JetStreamPublisher}. */
export interface NatsConnectionOptions {
  /** One URL or several, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** User name, with `pass`. */
  user?: string;
  /** Password, with `user`. */
  pass?: string;
  /** Connection name shown by the server's monitoring (`connz`). */
  name?: string;
}

/**
 * Connects with reconnection that never gives up, including on the first attempt: a node whose
 * leaf is down must keep trying, not exit, and its outbox keeps what it could not send.
 */
export function connectForever(options: NatsConnectionOptions): Promise<NatsConnection> {
  return connect({
    servers: options.servers,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.name === undefined ? {} : { name: options.name }),
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    // The server is the member's own leaf, next to it: retrying often costs nothing and a
    // restarted leaf is used within a quarter of a second instead of nats.js's default 2 s.
    reconnectTimeWait: 250,
  });
}

/**
 * Logs every connection status change until the connection closes. `onStatus` sees each event
 * first (to update a readiness flag or emit an event).
 */
export async function watchConnection(
  nc: NatsConnection,
  logger: LoggerService,
  onStatus: (s: Status) => void = () => undefined,
): Promise<void> {
  for await (const s of nc.status()) {
    onStatus(s);
    switch (s.type) {
      case 'disconnect':
        logger.warn(`NATS disconnected from ${s.server}`);
        break;
      case 'reconnecting':
        logger.warn('NATS reconnecting');
        break;
      case 'reconnect':
        logger.log(`NATS reconnected to ${s.server}`);
        break;
      case 'error':
        logger.error(`NATS error: ${s.error.message}`);
        break;
      case 'ldm':
        logger.warn(`NATS server ${s.server} entering lame duck mode`);
        break;
      case 'staleConnection':
      case 'forceReconnect':
      case 'slowConsumer':
      case 'close':
        logger.warn(`NATS status: ${s.type}`);
        break;
      case 'update':
      case 'ping':
        break;
    }
  }
}
