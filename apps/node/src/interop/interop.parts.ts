import type { Provider, Type } from '@nestjs/common';
import {
  TAXII_READ_LOG,
  TAXII_SOURCE,
  taxiiConsultation,
  taxiiServer,
  type TaxiiReadLog,
} from '../../../../libs/taxii/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { Public } from '../../../../libs/auth/src/index.js';
import type { NodeConfig } from '../config/node.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { InteropController } from './interop.controller.js';
import { InteropService } from './interop.service.js';
import { NodeTaxiiSource } from './node-taxii.source.js';
import { loadTaxiiConfig } from './taxii.config.js';

/**
 * The node's interop controllers and providers: import/export always; the TAXII 2.1 server only
 * when FEDINTEL_TAXII_CONFIG names a configuration file (off by default). TAXII routes skip the
 * bearer-token guard: they authenticate with their own consumer accounts.
 */
export function interopParts(config: NodeConfig): { controllers: Type[]; providers: Provider[] } {
  const controllers: Type[] = [InteropController];
  const providers: Provider[] = [InteropService];
  if (config.taxiiConfigFile !== undefined) {
    const taxii = loadTaxiiConfig(config.taxiiConfigFile);
    const server = taxiiServer({
      title: taxii.title,
      ...(taxii.description ? { description: taxii.description } : {}),
      discoveryPath: taxii.discoveryPath,
      apiRoot: taxii.apiRoot,
      accounts: taxii.accounts,
      controllerDecorators: [Public()],
    });
    controllers.push(server.controller);
    providers.push(
      ...server.providers,
      {
        // Reads are consultations in the node's log (docs/audit.md, "TAXII").
        provide: TAXII_READ_LOG,
        inject: [AuditService],
        useFactory: (audit: AuditService): TaxiiReadLog => ({
          consulted: (read) => audit.append(taxiiConsultation(read)),
        }),
      },
      {
        provide: TAXII_SOURCE,
        inject: [NodeStore, FederationContext, InteropService],
        useFactory: (store: NodeStore, federation: FederationContext, interop: InteropService) =>
          new NodeTaxiiSource(taxii, store, federation, interop),
      },
    );
  }
  return { controllers, providers };
}
