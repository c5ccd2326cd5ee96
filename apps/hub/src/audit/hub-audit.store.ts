import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { SqlAuditStore } from '../../../../libs/audit/src/index.js';
import { HUB_DATA_SOURCE } from '../persistence/hub.store.js';

/** The hub's audit log repository: libs/audit's SqlAuditStore over the hub's database. */
@Injectable()
export class HubAuditStore extends SqlAuditStore {
  constructor(@Inject(HUB_DATA_SOURCE) ds: DataSource) {
    super(ds);
  }
}
