import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase } from '../../../../libs/persistence/src/index.js';
import type { NodeConfig } from '../config/node.config.js';
import { NODE_ENTITIES } from './entities.js';
import { Initial1764300000000 } from './migrations/0001-initial.js';
import { OutboxPendingIndex1764350000000 } from './migrations/0002-outbox-pending-index.js';
import { Audit1764400000000 } from './migrations/0003-audit.js';
import { Feed1764450000000 } from './migrations/0004-feed.js';
import { ExchangeStorage1764500000000 } from './migrations/0005-exchange-storage.js';
import { OwnFirstVersionTextOnce1764550000000 } from './migrations/0006-own-first-version-text-once.js';

const NODE_SCHEMA = {
  entities: NODE_ENTITIES,
  migrations: [
    Initial1764300000000,
    OutboxPendingIndex1764350000000,
    Audit1764400000000,
    Feed1764450000000,
    ExchangeStorage1764500000000,
    OwnFirstVersionTextOnce1764550000000,
  ],
};

/** The node's DataSource (libs/persistence), not yet initialized. */
export function createNodeDataSource(db: NodeConfig['database']): DataSource {
  return createDataSource(db, NODE_SCHEMA);
}

/** Initialize the node's database and run pending migrations. */
export function openNodeDatabase(db: NodeConfig['database']): Promise<DataSource> {
  return openDatabase(db, NODE_SCHEMA);
}
