import type { Provider, Type } from '@nestjs/common';
import { Public } from '../../../../libs/auth/src/index.js';
import {
  TAXII_READ_LOG,
  TAXII_SOURCE,
  taxiiConsultation,
  taxiiServer,
  type TaxiiReadLog,
} from '../../../../libs/taxii/src/index.js';
import { HubAuditService } from '../audit/hub-audit.service.js';
import { HUB_CLOCK, type Clock } from '../config/hub.config.js';
import { CorrelationService } from '../correlation/correlation.service.js';
import { HubStore } from '../persistence/hub.store.js';
import { loadHubTaxiiConfig } from './hub-taxii.config.js';
import { HubTaxiiSource } from './hub-taxii.source.js';
import type { Aggregate } from '../../../../libs/correlation/src/index.js';

/**
 * The hub's TAXII 2.1 server (docs/interop.md, "TAXII on the hub"): on when
 * FEDINTEL_HUB_TAXII_CONFIG names a configuration file, otherwise nothing is registered.
 */
export function hubTaxiiParts(env: Record<string, string | undefined> = process.env): {
  controllers: Type[];
  providers: Provider[];
} {
  const config = loadHubTaxiiConfig(env);
  if (!config) return { controllers: [], providers: [] };
  const server = taxiiServer({
    title: config.title,
    ...(config.description ? { description: config.description } : {}),
    apiRoot: config.apiRoot,
    accounts: config.accounts,
    controllerDecorators: [Public()],
  });
  return {
    controllers: [server.controller],
    providers: [
      ...server.providers,
      {
        // Reads are consultations in the hub's log (docs/audit.md, "TAXII").
        provide: TAXII_READ_LOG,
        inject: [HubAuditService],
        useFactory: (audit: HubAuditService): TaxiiReadLog => ({
          consulted: (read) => audit.append(taxiiConsultation(read)),
        }),
      },
      {
        provide: TAXII_SOURCE,
        inject: [HubStore, CorrelationService, HUB_CLOCK],
        useFactory: (store: HubStore, correlation: CorrelationService, clock: Clock) =>
          new HubTaxiiSource(
            config,
            {
              async aggregates() {
                const all: Aggregate[] = [];
                let after: { type: string; value: string } | undefined;
                for (;;) {
                  const page = await store.searchAggregates({}, after, 1000);
                  all.push(...page);
                  const last = page[page.length - 1];
                  if (!last || page.length < 1000) return all;
                  after = { type: last.type, value: last.value };
                }
              },
              async networks() {
                return (await correlation.current()).networks;
              },
            },
            clock,
          ),
      },
    ],
  };
}
