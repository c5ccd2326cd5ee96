import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NODE_NATS } from '../federation/directory.service.js';
import { NODE_DATA_SOURCE } from '../persistence/node.store.js';

export interface Readiness {
  status: 'ready' | 'not-ready';
  checks: { database: string; nats: string };
}

const TIMEOUT_MS = 1500;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what}: no answer in ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

/** Whether the node can do its job now: its database answers and its NATS leaf answers. */
@Injectable()
export class ReadinessService {
  constructor(
    @Inject(NODE_DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NODE_NATS) private readonly nc: NatsConnection,
  ) {}

  async check(): Promise<Readiness> {
    const [database, nats] = await Promise.all([
      within(this.ds.query('SELECT 1'), 'database').then(
        () => 'ok',
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      ),
      this.nc.isClosed()
        ? Promise.resolve('connection closed')
        : within(this.nc.rtt(), 'nats').then(
            () => 'ok',
            (e: unknown) => (e instanceof Error ? e.message : String(e)),
          ),
    ]);
    return {
      status: database === 'ok' && nats === 'ok' ? 'ready' : 'not-ready',
      checks: { database, nats },
    };
  }
}
