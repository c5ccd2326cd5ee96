import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  countBy,
  readStream,
  startFederation,
  streamCount,
  waitFor,
  type Federation,
} from '../../testing/src/index.js';
import { subjectFor } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes `n` records KR→VN with ids `<prefix>-<i>` (as Msg-Id and payload), a few in flight,
 * calling `at(i)` once before record `i`. Retries a record (same Msg-Id) until it is acked, as the
 * node's outbox relay does; with a local PubAck there should be no retry at all.
 */
async function publishRun(
  nc: NatsConnection,
  prefix: string,
  n: number,
  at: { index: number; run: () => Promise<void> },
): Promise<{ retries: number }> {
  const js = jetstream(nc, { timeout: 2_000 });
  const subject = subjectFor('kr', 'vn', 'records');
  let retries = 0;
  const send = async (id: string): Promise<PubAck> => {
    for (;;) {
      try {
        return await js.publish(subject, JSON.stringify({ id }), { msgID: id });
      } catch {
        retries++;
        await sleep(100);
      }
    }
  };
  const window = 32;
  for (let start = 0; start < n; start += window) {
    if (at.index >= start && at.index < start + window) await at.run();
    const acks = await Promise.all(
      Array.from({ length: Math.min(window, n - start) }, (_, k) => send(`${prefix}-${start + k}`)),
    );
    for (const a of acks) expect(a.stream).toBe('KR_OUT_VN');
  }
  return { retries };
}

/** VN's inbox holds each `<prefix>-<i>` exactly once (by Msg-Id and by payload id). */
async function expectExactlyOnce(vn: NatsConnection, prefix: string, n: number): Promise<void> {
  const mine = (await readStream(vn, 'INBOX')).filter((m) => m.msgId?.startsWith(`${prefix}-`));
  const byMsgId = countBy(mine, (m) => m.msgId ?? '');
  const byPayload = countBy(mine, (m) => (JSON.parse(m.data) as { id: string }).id);
  expect(mine).toHaveLength(n);
  expect(byMsgId.size).toBe(n);
  expect(byPayload.size).toBe(n);
  expect([...byMsgId.values()].every((c) => c === 1)).toBe(true);
}

describe('B2 federation under faults', () => {
  let fed: Federation;
  let kr: NatsConnection;
  let vn: NatsConnection;

  beforeAll(async () => {
    fed = await startFederation({
      members: ['kr', 'vn', 'th'],
      dir: mkdtempSync(join(tmpdir(), 'fedintel-faults-')),
    });
    kr = await fed.connectNode('kr');
    vn = await fed.connectNode('vn');
  }, 20_000);

  afterAll(async () => {
    await fed?.stop();
  });

  it("VN's leaf SIGKILLed while KR publishes 2,000 records: after restart VN holds each exactly once", async () => {
    const n = 2_000;
    const before = await streamCount(vn, 'INBOX');
    const { retries } = await publishRun(kr, 'vn-kill', n, {
      index: 300,
      run: async () => fed.leaves['vn']!.kill(),
    });
    // KR was acked by its own domain throughout: VN's absence cost it nothing.
    expect(retries).toBe(0);
    expect(fed.leaves['vn']!.running).toBe(false);
    await fed.leaves['vn']!.restart();
    await waitFor(
      async () => (await streamCount(vn, 'INBOX')) >= before + n,
      20_000,
      'VN catch-up',
    );
    await sleep(500);
    expect(await streamCount(vn, 'INBOX')).toBe(before + n);
    await expectExactlyOnce(vn, 'vn-kill', n);
  }, 40_000);

  it('the hub restarted mid-stream: nothing is lost or duplicated', async () => {
    const n = 3_000;
    const before = await streamCount(vn, 'INBOX');
    let hubRestart: Promise<void> = Promise.resolve();
    await publishRun(kr, 'hub-restart', n, {
      index: 1_000,
      run: async () => {
        await fed.hub.stop();
        hubRestart = sleep(1_000).then(() => fed.hub.restart());
      },
    });
    await hubRestart;
    await waitFor(
      async () => (await streamCount(vn, 'INBOX')) >= before + n,
      20_000,
      'VN catch-up',
    );
    await sleep(500);
    expect(await streamCount(vn, 'INBOX')).toBe(before + n);
    await expectExactlyOnce(vn, 'hub-restart', n);
  }, 40_000);
});
