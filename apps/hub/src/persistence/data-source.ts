import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase } from '../../../../libs/persistence/src/index.js';
import type { HubConfig } from '../config/hub.config.js';
import { HUB_ENTITIES } from './entities.js';
import { HubInitial1764400000000 } from './migrations/0001-hub-initial.js';
import { HubAudit1764500000000 } from './migrations/0002-hub-audit.js';
import { HubLogCosignatures1764600000000 } from './migrations/0003-hub-log-cosignatures.js';

const HUB_SCHEMA = {
  entities: HUB_ENTITIES,
  migrations: [HubInitial1764400000000, HubAudit1764500000000, HubLogCosignatures1764600000000],
};

/** The hub's DataSource (libs/persistence), not yet initialized. */
export function createHubDataSource(db: HubConfig['database']): DataSource {
  return createDataSource(db, HUB_SCHEMA);
}

/** Initialize the hub's database and run pending migrations. */
export function openHubDatabase(db: HubConfig['database']): Promise<DataSource> {
  return openDatabase(db, HUB_SCHEMA);
}
