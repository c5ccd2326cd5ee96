import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { HUB } from '../../../../libs/broker/src/index.js';
import { HubAuditStore } from '../audit/hub-audit.store.js';
import { WitnessStore } from '../audit/witness.store.js';
import { FederationContext } from '../federation/federation.context.js';

const ageSeconds = (at: string, now = Date.now()) => Math.max(0, (now - Date.parse(at)) / 1000);

/**
 * Prometheus metrics of the hub's audit duties, both ways (ADR 0061, 0062), read from its
 * database at scrape time: its own log's newest checkpoint and how far each active member
 * countersigned it; and, as witness of each member's log, the last checkpoint it accepted and the
 * ones it refused. A member whose figures stop moving while others move is the one to look at.
 */
@Injectable()
export class HubMetricsService {
  readonly registry = new Registry();

  constructor(audit: HubAuditStore, witness: WitnessStore, federation: FederationContext) {
    const registers = [this.registry];
    const members = () =>
      federation.directory.members.filter((m) => m.id !== HUB && m.status === 'active');
    const newest = async () => (await audit.checkpoints(1, true))[0];
    new Gauge({
      name: 'fedintel_hub_audit_checkpoint_size',
      help: "Size of the hub's own audit log at its newest signed checkpoint (-1 before the first)",
      registers,
      async collect() {
        this.set((await newest())?.size ?? -1);
      },
    });
    new Gauge({
      name: 'fedintel_hub_audit_checkpoint_age_seconds',
      help: "Age of the hub's newest signed checkpoint of its own log (-1 before the first)",
      registers,
      async collect() {
        const c = await newest();
        this.set(c ? ageSeconds(c.at) : -1);
      },
    });
    new Gauge({
      name: 'fedintel_hub_audit_cosigned_size',
      help: "Per active member: the largest size of the hub's log it countersigned (-1: never)",
      labelNames: ['witness'],
      registers,
      async collect() {
        this.reset();
        const upTo = await audit.cosignedUpTo();
        for (const m of members()) this.set({ witness: m.id }, upTo.get(m.id) ?? -1);
      },
    });
    new Gauge({
      name: 'fedintel_member_log_witnessed_size',
      help: 'Per active member: the size of its log at the last checkpoint the hub countersigned (-1: none)',
      labelNames: ['log'],
      registers,
      async collect() {
        this.reset();
        const heads = new Map((await witness.heads()).map((h) => [h.log, h]));
        for (const m of members()) this.set({ log: m.id }, heads.get(m.id)?.size ?? -1);
      },
    });
    new Gauge({
      name: 'fedintel_member_log_witnessed_age_seconds',
      help: "Per active member: age of its newest checkpoint the hub countersigned, from the member's signing time (-1: none)",
      labelNames: ['log'],
      registers,
      async collect() {
        this.reset();
        const heads = new Map((await witness.heads()).map((h) => [h.log, h]));
        const now = Date.now();
        for (const m of members()) {
          const h = heads.get(m.id);
          this.set({ log: m.id }, h ? ageSeconds(h.at, now) : -1);
        }
      },
    });
    new Gauge({
      name: 'fedintel_member_log_checkpoints_refused',
      help: 'Per active member: checkpoints of its log the hub refused (rollback, fork, unproven jump)',
      labelNames: ['log'],
      registers,
      async collect() {
        this.reset();
        for (const m of members()) this.set({ log: m.id }, await witness.refusals(m.id));
      },
    });
  }

  /** The exposition text for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
