import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { BrokerError } from './errors.js';
import type { StreamConfigPlan } from './topology.js';

/** The JetStream stream config of one planned stream (durations in nanoseconds, as the server wants). */
export function toStreamConfig(plan: StreamConfigPlan): Partial<StreamConfig> & { name: string } {
  return {
    name: plan.name,
    description: plan.description,
    subjects: plan.subjects,
    sources: plan.sources.map((s) => ({
      name: s.name,
      external: { api: s.external.api, deliver: s.external.deliver },
    })),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(plan.maxAgeMs),
    duplicate_window: nanos(plan.duplicateWindowMs),
    num_replicas: plan.replicas,
  };
}

function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;
}

async function provisionOne(jsm: JetStreamManager, plan: StreamConfigPlan): Promise<void> {
  const cfg = toStreamConfig(plan);
  try {
    await jsm.streams.info(plan.name);
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
    await jsm.streams.add(cfg);
    return;
  }
  // Storage and retention cannot change after creation; the rest is updated in place, so a new
  // member joining the federation only adds sources to existing inboxes.
  await jsm.streams.update(plan.name, cfg);
}

/**
 * Creates or updates every stream of `plan` on the server `nc` is connected to (the plan's
 * domain). Idempotent: running it twice changes nothing; running it with a newer plan updates
 * subjects, sources and limits in place. Outboxes are provisioned before the inbox so that the
 * inbox's sources, when they point at this same domain in tests, find their streams.
 *
 * @throws BrokerError `PROVISION_FAILED` naming the stream, with the JetStream error as `cause`
 */
export async function provisionStreams(
  nc: NatsConnection,
  plan: StreamConfigPlan[],
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const ordered = [
    ...plan.filter((p) => p.role === 'outbox'),
    ...plan.filter((p) => p.role === 'inbox'),
  ];
  for (const p of ordered) {
    try {
      await provisionOne(jsm, p);
    } catch (cause) {
      throw new BrokerError(
        'PROVISION_FAILED',
        `stream ${p.name} (domain ${p.domain}): ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }
}
