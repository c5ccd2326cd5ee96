import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import request from 'supertest';
import {
  importPrivateKey,
  parseStrictJson,
  toB64u,
  toRfc3339Ms,
} from '../../../libs/protocol/src/index.js';
import { signStatement, type Checkpoint } from '../../../libs/audit/src/index.js';
import { subjectFor } from '../../../libs/broker/src/index.js';
import { CheckpointPublisher } from '../../../apps/node/src/audit/checkpoint.publisher.js';
import { eventually, indicatorBody } from '../../../apps/node/test/federation.harness.js';
import type { TestFederation } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';

interface WitnessState {
  heads: { log: string; size: number; root: string }[];
  events: { log: string; size: number; verdict: string; code: string | null }[];
}

describe('the hub witnesses member checkpoints', () => {
  let f: TestFederation;
  let hub: TestHub;
  let stop: () => Promise<void>;

  const state = async (): Promise<WitnessState> =>
    (await hub.get('/api/v1/audit/witness', ['auditor'])).body as WitnessState;

  /** Publish a checkpoint message as KR would (KR's broker identity, KR's signing key). */
  async function publishAsKr(cp: Omit<Checkpoint, 'v' | 'type' | 'log'>, msgId: string) {
    const keys = f.fed.members.kr!.keys;
    const jws = await signStatement(
      { v: 1, type: 'checkpoint', log: 'kr', ...cp },
      { kid: keys.signing.kid, key: importPrivateKey(keys.signing.privateJwk, 'Ed25519') },
    );
    const creds = f.brokers.nodeCredentials.kr!;
    const nc = await connect({ servers: creds.url, user: creds.user, pass: creds.password });
    try {
      await jetstream(nc).publish(
        subjectFor('kr', 'hub', 'checkpoints'),
        JSON.stringify({ checkpoint: jws, proofs: [] }),
        { msgID: msgId },
      );
    } finally {
      await nc.close();
    }
  }

  beforeAll(async () => {
    ({ f, hub, stop } = await startHubFederation());
  }, 180000);

  afterAll(async () => {
    await stop?.();
  }, 60000);

  it("countersigns a node's checkpoints as its log grows, and the node keeps the cosignatures", async () => {
    const kr = f.nodes.kr!;
    const analyst = `Bearer ${await kr.token(['analyst'])}`;
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .send(indicatorBody())
      .expect(201);
    const publisher = kr.app.get(CheckpointPublisher);
    await publisher.runOnce();
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .send(indicatorBody({ value: 'witness-2.example' }))
      .expect(201);
    await publisher.runOnce();
    const auditor = `Bearer ${await kr.token(['auditor'])}`;
    const cps = await eventually(
      async () => {
        const r = await request(kr.url)
          .get('/api/v1/audit/checkpoints')
          .set('Authorization', auditor);
        const items = r.body.items as { size: number; cosignature: string | null }[];
        return items.length >= 2 && items.every((c) => c.cosignature) ? items : undefined;
      },
      30000,
      'two cosigned checkpoints at KR',
    );
    const s = await state();
    const last = cps[cps.length - 1]!;
    expect(s.heads).toEqual([expect.objectContaining({ log: 'kr', size: last.size })]);
    expect(s.events.filter((e) => e.log === 'kr' && e.verdict === 'cosigned')).toHaveLength(2);
    const cosig = parseStrictJson(Buffer.from(last.cosignature!.split('.')[1]!, 'base64url'));
    expect(cosig).toMatchObject({
      type: 'cosignature',
      witness: 'hub',
      log: 'kr',
      size: last.size,
    });
  });

  it('refuses a rollback to a smaller size', async () => {
    const head = (await state()).heads.find((h) => h.log === 'kr')!;
    await publishAsKr(
      { size: head.size - 1, root: toB64u(new Uint8Array(32)), at: toRfc3339Ms(new Date()) },
      'rollback-1',
    );
    const ev = await eventually(
      async () => (await state()).events.find((e) => e.code === 'CHECKPOINT_ROLLBACK'),
      30000,
      'the rollback refused',
    );
    expect(ev).toMatchObject({ log: 'kr', size: head.size - 1, verdict: 'refused' });
    expect((await state()).heads.find((h) => h.log === 'kr')).toEqual(head);
  });

  it('refuses a fork: the witnessed size with another root, or a larger tree without a proof from it', async () => {
    const head = (await state()).heads.find((h) => h.log === 'kr')!;
    await publishAsKr(
      { size: head.size, root: toB64u(new Uint8Array(32).fill(7)), at: toRfc3339Ms(new Date()) },
      'fork-1',
    );
    await publishAsKr(
      {
        size: head.size + 5,
        root: toB64u(new Uint8Array(32).fill(9)),
        at: toRfc3339Ms(new Date()),
      },
      'fork-2',
    );
    const s = await eventually(
      async () => {
        const st = await state();
        return st.events.some((e) => e.code === 'CHECKPOINT_FORK') &&
          st.events.some((e) => e.code === 'CHECKPOINT_INCONSISTENT')
          ? st
          : undefined;
      },
      30000,
      'the forks refused',
    );
    expect(s.events.find((e) => e.code === 'CHECKPOINT_FORK')).toMatchObject({
      size: head.size,
      verdict: 'refused',
    });
    expect(s.heads.find((h) => h.log === 'kr')).toEqual(head);
  });

  it('lets only auditors and hub operators see the witness state', async () => {
    expect((await hub.get('/api/v1/audit/witness', ['hub-operator'])).status).toBe(200);
    expect((await hub.get('/api/v1/audit/witness', ['analyst'])).status).toBe(403);
  });
});
