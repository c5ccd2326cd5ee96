import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { SqlWitnessStore } from '../../../../libs/audit/src/index.js';
import { HUB_DATA_SOURCE } from '../persistence/hub.store.js';

/** The hub witness's memory (libs/audit `SqlWitnessStore`) on the hub's database. */
@Injectable()
export class WitnessStore extends SqlWitnessStore implements OnModuleInit {
  constructor(@Inject(HUB_DATA_SOURCE) ds: DataSource) {
    super(ds);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureTables();
  }
}
