import {
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { createTaxiiController } from './taxii.controller.js';
import { TaxiiService, resolveTaxiiOptions, type TaxiiOptions } from './taxii.service.js';
import type { TaxiiSource } from './source.js';
import type { TaxiiReadLog } from './read-log.js';

/** Injection token of the host's {@link TaxiiSource}. */
export const TAXII_SOURCE = Symbol('TAXII_SOURCE');

/** Injection token of the host's {@link TaxiiReadLog} (optional: reads logged as consultations). */
export const TAXII_READ_LOG = Symbol('TAXII_READ_LOG');

/**
 * The controller and providers of a TAXII 2.1 server, for a host module that provides
 * {@link TAXII_SOURCE} itself (its source needs the host's own providers, e.g. its store).
 */
export function taxiiServer(options: TaxiiOptions): { controller: Type; providers: Provider[] } {
  const resolved = resolveTaxiiOptions(options);
  return {
    controller: createTaxiiController(resolved.discoveryPath, resolved.controllerDecorators),
    providers: [
      {
        provide: TaxiiService,
        inject: [TAXII_SOURCE, { token: TAXII_READ_LOG, optional: true }],
        useFactory: (source: TaxiiSource, readLog?: TaxiiReadLog) =>
          new TaxiiService(resolved, source, readLog),
      },
    ],
  };
}

/** A TAXII 2.1 server as a module, for hosts whose source comes from modules they can import. */
@Module({})
export class TaxiiModule {
  static forRoot(
    options: TaxiiOptions & {
      imports?: ModuleMetadata['imports'];
      source: {
        useFactory: (...args: never[]) => TaxiiSource;
        inject?: (string | symbol | Type)[];
      };
    },
  ): DynamicModule {
    const { controller, providers } = taxiiServer(options);
    return {
      module: TaxiiModule,
      imports: options.imports ?? [],
      controllers: [controller],
      providers: [
        {
          provide: TAXII_SOURCE,
          useFactory: options.source.useFactory,
          inject: options.source.inject ?? [],
        },
        ...providers,
      ],
    };
  }
}
