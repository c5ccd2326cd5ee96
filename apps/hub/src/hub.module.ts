import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AUTH_OPTIONS, AuthGuard, type AuthOptions } from '../../../libs/auth/src/index.js';
import { HUB, provisionStreams, streamPlan } from '../../../libs/broker/src/index.js';
import { apiAudience } from '../../../libs/keystore/src/index.js';
import { JetStreamPublisher } from '../../../libs/transport/src/index.js';
import { AggregationService } from './aggregation/aggregation.service.js';
import { HubAuditModule } from './audit/hub-audit.module.js';
import { HubController } from './api/hub.controller.js';
import { HubQueryService } from './api/hub-query.service.js';
import { HUB_CLOCK, HUB_CONFIG, type Clock, type HubConfig } from './config/hub.config.js';
import { CorrelationService } from './correlation/correlation.service.js';
import { FederationContext } from './federation/federation.context.js';
import { FeedRelay } from './feed/feed.relay.js';
import { HealthController } from './health/health.controller.js';
import { HttpErrorFilter } from './http/error.filter.js';
import { IngestController } from './ingest/ingest.controller.js';
import { IngestService } from './ingest/ingest.service.js';
import { FEDERATION_PUBLISHER } from './ingest/publisher.js';
import { openHubDatabase } from './persistence/data-source.js';
import { HUB_DATA_SOURCE, HubStore } from './persistence/hub.store.js';
import { hubTaxiiParts } from './taxii/hub-taxii.parts.js';

/** The hub application's own NATS connection (to the hub store, JetStream domain `hub`). */
export const HUB_NATS = Symbol('HUB_NATS');

function members(f: FederationContext): string[] {
  return f.directory.members
    .filter((m) => m.roles.includes('member') && m.status === 'active')
    .map((m) => m.id)
    .sort();
}

/** Wires ingest → aggregation → correlation and feeds, and runs the periodic pass and sweep. */
class HubLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('hub');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly ingest: IngestService,
    private readonly aggregation: AggregationService,
    private readonly correlation: CorrelationService,
    private readonly relay: FeedRelay,
    private readonly federation: FederationContext,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(HUB_NATS) private readonly nc: NatsConnection,
    @Inject(HUB_DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  private report(what: string): (e: unknown) => void {
    return (e) => this.log.warn(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await provisionStreams(this.nc, streamPlan(members(this.federation), HUB));
    } catch (e) {
      this.report('stream provisioning failed')(e);
    }
    this.aggregation.onChanged(() => {
      this.correlation.invalidate();
      this.relay.kick().catch(this.report('feed relay'));
    });
    this.ingest.onStored(() => {
      this.aggregation.run().catch(this.report('aggregation pass'));
    });
    this.timers.push(
      setInterval(() => {
        this.aggregation.run().catch(this.report('aggregation pass'));
        this.relay.kick().catch(this.report('feed relay'));
      }, this.config.passIntervalMs),
      setInterval(() => {
        this.aggregation.sweep().catch(this.report('expiry sweep'));
      }, this.config.sweepIntervalMs),
    );
    // Finish what a previous run left (dirty keys, unsent feed messages).
    this.aggregation.sweep().catch(this.report('expiry sweep'));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.aggregation.run().catch(() => undefined);
    await this.relay.kick().catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/**
 * The Interpol hub: ingest of what members scope to the hub, aggregation, correlation, signed
 * feeds and the operator API. Other hub capabilities (TAXII 2.1 in `taxii/`, audit in `audit/`)
 * plug in as their own modules in `imports`, reusing the exported providers.
 */
@Module({})
export class HubModule {
  static forRoot(config: HubConfig, opts: { clock?: Clock } = {}): DynamicModule {
    const taxii = hubTaxiiParts(); // TAXII 2.1 (off unless FEDINTEL_HUB_TAXII_CONFIG is set)
    return {
      module: HubModule,
      // Global, so that feature modules in `imports` (audit/) can inject the exported providers.
      global: true,
      imports: [HubAuditModule],
      controllers: [HealthController, HubController, IngestController, ...taxii.controllers],
      providers: [
        { provide: HUB_CONFIG, useValue: config },
        { provide: HUB_CLOCK, useValue: opts.clock ?? (() => new Date()) },
        { provide: HUB_DATA_SOURCE, useFactory: () => openHubDatabase(config.database) },
        {
          provide: FederationContext,
          useFactory: () =>
            FederationContext.load({
              memberId: HUB,
              keysFile: config.keysFile,
              governanceKeysFile: config.governanceKeysFile,
              directoryFile: config.directoryFile,
              now: new Date(),
            }),
        },
        {
          provide: HUB_NATS,
          useFactory: () =>
            connect({
              servers: config.nats.url,
              user: config.nats.user,
              pass: config.nats.password,
              name: 'fedintel-hub',
              maxReconnectAttempts: -1,
              waitOnFirstConnect: true,
            }),
        },
        {
          provide: FEDERATION_PUBLISHER,
          inject: [HUB_NATS],
          useFactory: (nc: NatsConnection) => JetStreamPublisher.fromConnection(nc),
        },
        {
          provide: AUTH_OPTIONS,
          inject: [FederationContext],
          useFactory: (f: FederationContext): AuthOptions => ({
            audience: apiAudience(HUB),
            publicKey: f.apiKey.publicKey,
            oidc: config.oidc,
          }),
        },
        HubStore,
        IngestService,
        AggregationService,
        CorrelationService,
        FeedRelay,
        HubQueryService,
        HubLifecycle,
        ...taxii.providers,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [
        HubStore,
        FederationContext,
        HUB_CONFIG,
        HUB_CLOCK,
        CorrelationService,
        HUB_DATA_SOURCE,
        FEDERATION_PUBLISHER,
      ],
    };
  }
}
