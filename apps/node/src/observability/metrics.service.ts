import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { inboxStreamName } from '../../../../libs/broker/src/index.js';
import { NODE_NATS } from '../federation/directory.service.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { AuditStore } from '../audit/audit.store.js';
import { HubWitnessService } from '../audit/hub-witness.service.js';

/** Durable consumer name of the node's inbox (bootstrap.ts). */
export const INBOX_DURABLE = 'node';

/** What the receiving door reports about one message. */
export interface InboundObservation {
  kind: 'records' | 'receipts' | 'directory';
  status: 'stored' | 'duplicate' | 'dead-lettered' | 'updated' | 'unchanged';
  accepted: number;
  rejected: number;
  code?: string;
  seconds: number;
}

/**
 * Prometheus metrics of one node (its own registry, so several nodes can run in one process, as
 * in the tests). Event counters are incremented by the doors that see the events (the inbox);
 * what the database already knows (records created and sent, outbox depth and age) and the
 * inbox consumer's lag are read at scrape time, so they are right even after a restart.
 */
@Injectable()
export class MetricsService {
  private readonly log = new Logger(MetricsService.name);
  readonly registry = new Registry();
  private readonly messages: Counter<'kind' | 'status'>;
  private readonly received: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly latency: Histogram<'kind'>;

  constructor(
    private readonly nodeStore: NodeStore,
    private readonly audit: AuditStore,
    hubWitness: HubWitnessService,
    private readonly federation: FederationContext,
    @Inject(NODE_NATS) private readonly nc: NatsConnection,
  ) {
    const registers = [this.registry];
    const store = nodeStore;
    this.registry.setDefaultLabels({ member: federation.memberId });
    this.messages = new Counter({
      name: 'fedintel_inbound_messages_total',
      help: 'Federation messages handled from the inbox, by kind and outcome',
      labelNames: ['kind', 'status'],
      registers,
    });
    this.received = new Counter({
      name: 'fedintel_records_received_total',
      help: 'Records received, verified and stored',
      registers,
    });
    this.rejected = new Counter({
      name: 'fedintel_records_rejected_total',
      help: 'Records or messages refused on receipt, by reason (protocol error code)',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'fedintel_inbound_verify_store_seconds',
      help: 'Time to decrypt, verify and store one inbound message (bundle, receipt, directory)',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const fed = this.federation;
    new Gauge({
      name: 'fedintel_records_created',
      help: 'Indicators this node created (own records, all versions counted once)',
      registers,
      async collect() {
        this.set(await store.countIndicators(fed.memberId));
      },
    });
    new Gauge({
      name: 'fedintel_records_held',
      help: 'Indicators held, own and received',
      registers,
      async collect() {
        this.set(await store.countIndicators());
      },
    });
    const stats = () => store.outboxStats() as Promise<Record<string, unknown>>;
    new Gauge({
      name: 'fedintel_outbox',
      help: 'Outbox state (node.store outboxStats): queued items, bundles unsent, unacknowledged, sent',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        for (const [k, v] of Object.entries(await stats())) {
          if (typeof v === 'number') this.set({ state: k }, v);
        }
      },
    });
    const oldest = () => this.oldestQueuedAgeSeconds();
    new Gauge({
      name: 'fedintel_outbox_oldest_queued_age_seconds',
      help: 'Age of the oldest outbox item not yet acknowledged by its recipient (0 when none)',
      registers,
      async collect() {
        this.set(await oldest());
      },
    });
    const lag = () => this.consumerLag();
    new Gauge({
      name: 'fedintel_inbox_consumer_pending',
      help: "Messages in this node's inbox not yet delivered to it (-1 when the leaf is unreachable)",
      registers,
      async collect() {
        this.set(await lag());
      },
    });
    const newestCheckpoint = async () => (await this.audit.checkpoints(1, true))[0];
    new Gauge({
      name: 'fedintel_audit_checkpoint_age_seconds',
      help: 'Age of the newest signed audit-log checkpoint (-1 before the first)',
      registers,
      async collect() {
        const c = await newestCheckpoint();
        this.set(c ? Math.max(0, (Date.now() - Date.parse(c.at)) / 1000) : -1);
      },
    });
    new Gauge({
      name: 'fedintel_audit_checkpoint_witnessed',
      help: "1 when the hub's witness countersigned the newest audit-log checkpoint, else 0",
      registers,
      async collect() {
        this.set((await newestCheckpoint())?.cosignature ? 1 : 0);
      },
    });
    // This node as a witness of the hub's own log (ADR 0061, 0062): a head that stops moving
    // while the federation works, or any refusal, is the hub showing this member another log.
    new Gauge({
      name: 'fedintel_hub_log_witnessed_size',
      help: "Size of the hub's audit log at the last checkpoint this node countersigned (-1 before the first)",
      registers,
      async collect() {
        this.set((await hubWitness.head())?.size ?? -1);
      },
    });
    new Gauge({
      name: 'fedintel_hub_log_witnessed_age_seconds',
      help: "Age of the hub's newest checkpoint this node countersigned, from its signing time (-1 before the first)",
      registers,
      async collect() {
        const h = await hubWitness.head();
        this.set(h ? Math.max(0, (Date.now() - Date.parse(h.at)) / 1000) : -1);
      },
    });
    new Gauge({
      name: 'fedintel_hub_log_uncovered_receipt_age_seconds',
      help: "Age of the oldest hub receipt for this node's bundles that no countersigned checkpoint of the hub's log covers (0 when none)",
      registers,
      async collect() {
        this.set((await hubWitness.uncoveredReceipts()).seconds);
      },
    });
    new Gauge({
      name: 'fedintel_hub_log_checkpoints_refused',
      help: "Checkpoints of the hub's log this node refused to countersign (rollback, fork, unproven jump)",
      registers,
      async collect() {
        this.set(await hubWitness.refusals());
      },
    });
    new Gauge({
      name: 'fedintel_directory_version',
      help: 'Version of the federation directory in force',
      registers,
      collect() {
        this.set(fed.directory.version);
      },
    });
  }

  observeInbound(o: InboundObservation): void {
    this.messages.inc({ kind: o.kind, status: o.status });
    this.latency.observe({ kind: o.kind }, o.seconds);
    if (o.kind === 'records' && o.accepted > 0) this.received.inc(o.accepted);
    if (o.rejected > 0) this.rejected.inc({ reason: o.code ?? 'RECORD_REFUSED' }, o.rejected);
    if (o.status === 'dead-lettered') this.rejected.inc({ reason: o.code ?? 'UNKNOWN' });
  }

  /** The exposition text for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private async oldestQueuedAgeSeconds(): Promise<number> {
    const at = await this.nodeStore.oldestUnacknowledgedAt();
    return at ? Math.max(0, (Date.now() - Date.parse(at)) / 1000) : 0;
  }

  private async consumerLag(): Promise<number> {
    try {
      const jsm = await jetstreamManager(this.nc, { timeout: 1000 });
      const info = await jsm.consumers.info(
        inboxStreamName(this.federation.memberId),
        INBOX_DURABLE,
      );
      return info.num_pending + info.num_ack_pending;
    } catch (e) {
      this.log.debug(`consumer lag unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return -1;
    }
  }
}
