import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** One stored message, as tests need it. */
export interface StoredMessage {
  seq: number;
  subject: string;
  /** `Nats-Msg-Id` header, when the publisher set one */
  msgId: string | undefined;
  data: string;
}

/** Number of messages currently in `stream` (on the server `nc` is connected to). */
export async function streamCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** Every message of `stream`, in order, read with an ordered consumer (nothing is acked or removed). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const total = await streamCount(nc, stream);
  const out: StoredMessage[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  while (out.length < total) {
    const batch = await consumer.fetch({
      max_messages: Math.min(1000, total - out.length),
      expires: 5_000,
    });
    let got = 0;
    for await (const m of batch) {
      got++;
      out.push({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id') || undefined,
        data: m.string(),
      });
    }
    if (got === 0) break;
  }
  return out;
}

/** How many times each key occurs: for "exactly once" checks by message id or payload id. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Files below `dir` whose bytes contain `marker` (a JetStream store is searched as raw files). */
export function filesContaining(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker);
  const hits: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}
