import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Inject,
  Logger,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamPublisher } from '../../../libs/transport/src/index.js';
import { AuditController, AuditLog } from '../../../libs/audit/src/index.js';
import { AuditInboundController, NodeWitnessController } from './audit/audit.inbound.controller.js';
import { AuditService } from './audit/audit.service.js';
import { AuditStore } from './audit/audit.store.js';
import { CheckpointPublisher } from './audit/checkpoint.publisher.js';
import { HubWitnessService, NodeWitnessStore } from './audit/hub-witness.service.js';
import { ExpirySweep } from './audit/expiry.sweep.js';
import { AUTH_OPTIONS, AuthGuard, type AuthOptions } from '../../../libs/auth/src/index.js';
import { apiAudience } from '../../../libs/keystore/src/index.js';
import { NODE_CONFIG, type NodeConfig } from './config/node.config.js';
import { FederationContext } from './federation/federation.context.js';
import { DirectoryController } from './federation/directory.controller.js';
import { DirectoryService, NODE_NATS } from './federation/directory.service.js';
import { FeedApiController } from './feed/feed-api.controller.js';
import { FeedInboundController } from './feed/feed.controller.js';
import { FeedService } from './feed/feed.service.js';
import { FeedStore } from './feed/feed.store.js';
import { HealthController } from './health/health.controller.js';
import { MetricsService } from './observability/metrics.service.js';
import { ObservabilityController } from './observability/observability.controller.js';
import { ReadinessService } from './observability/readiness.service.js';
import { HttpErrorFilter } from './http/error.filter.js';
import { IndicatorsController } from './indicators/indicators.controller.js';
import { IndicatorsService } from './indicators/indicators.service.js';
import { interopParts } from './interop/interop.parts.js';
import { openNodeDatabase } from './persistence/data-source.js';
import { NODE_DATA_SOURCE, NodeStore } from './persistence/node.store.js';
import { InboundController } from './sharing/inbound.controller.js';
import { InboundService } from './sharing/inbound.service.js';
import { FEDERATION_PUBLISHER } from './sharing/publisher.js';
import { RelayService } from './sharing/relay.service.js';
import { RecoveryService } from './recovery/recovery.service.js';

class NodeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('node');
  constructor(
    private readonly relay: RelayService,
    private readonly directory: DirectoryService,
    private readonly recovery: RecoveryService,
    @Inject(NODE_NATS) private readonly nc: NatsConnection,
    @Inject(NODE_DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.directory.provision();
    } catch (e) {
      // The leaf may be down: the outbox keeps everything and the relay retries publishing.
      this.log.warn(`stream provisioning failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      // Before the relay numbers a bundle: never reuse a number the outbox stream already holds.
      await this.recovery.repairSequences();
    } catch (e) {
      this.log.warn(`sequence check skipped: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.relay.start();
    this.watchLink().catch((e: unknown) =>
      this.log.warn(`link watch ended: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * The relay publishes only while the connection to the leaf is up: a publish made while it is
   * down waits in the client's buffer for a PubAck that may never come, holding the pass for the
   * whole PubAck timeout after the leaf is back.
   */
  private async watchLink(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') this.relay.setLink(false);
      else if (s.type === 'reconnect') this.relay.setLink(true);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.onApplicationShutdown();
    await this.nc.drain().catch(() => undefined);
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** The national node: REST API, sharing (outbox relay) and receiving (JetStream). */
@Module({})
export class NodeModule {
  static forRoot(config: NodeConfig): DynamicModule {
    const interop = interopParts(config);
    return {
      module: NodeModule,
      controllers: [
        HealthController,
        IndicatorsController,
        InboundController,
        DirectoryController,
        ObservabilityController,
        AuditController,
        AuditInboundController,
        NodeWitnessController,
        ...interop.controllers,
        FeedInboundController,
        FeedApiController,
      ],
      providers: [
        { provide: NODE_CONFIG, useValue: config },
        { provide: NODE_DATA_SOURCE, useFactory: () => openNodeDatabase(config.database) },
        {
          provide: FederationContext,
          useFactory: () =>
            FederationContext.load({
              memberId: config.memberId,
              keysFile: config.keysFile,
              governanceKeysFile: config.governanceKeysFile,
              directoryFile: config.directoryFile,
              now: new Date(),
            }),
        },
        {
          provide: NODE_NATS,
          useFactory: () =>
            connect({
              servers: config.nats.url,
              user: config.nats.user,
              pass: config.nats.password,
              name: `fedintel-node-${config.memberId}`,
              // A node whose leaf is down keeps trying: its outbox holds what it cannot send.
              maxReconnectAttempts: -1,
              waitOnFirstConnect: true,
              // The leaf runs next to the node: a restarted leaf is used within a quarter of a
              // second (nats.js waits 2 s by default), which is what a member back from an
              // outage waits before its outbox drains.
              reconnectTimeWait: 250,
            }),
        },
        {
          provide: FEDERATION_PUBLISHER,
          inject: [NODE_NATS],
          useFactory: (nc: NatsConnection) => JetStreamPublisher.fromConnection(nc),
        },
        NodeStore,
        RelayService,
        IndicatorsService,
        InboundService,
        DirectoryService,
        RecoveryService,
        MetricsService,
        ReadinessService,
        FeedStore,
        FeedService,
        NodeLifecycle,
        AuditStore,
        AuditService,
        { provide: AuditLog, useExisting: AuditService },
        CheckpointPublisher,
        NodeWitnessStore,
        HubWitnessService,
        ExpirySweep,
        ...interop.providers,
        {
          provide: AUTH_OPTIONS,
          inject: [FederationContext],
          useFactory: (f: FederationContext): AuthOptions => ({
            audience: apiAudience(config.memberId),
            publicKey: f.apiKey.publicKey,
            oidc: config.oidc,
          }),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
