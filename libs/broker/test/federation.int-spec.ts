import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  filesContaining,
  freePorts,
  readStream,
  startFederation,
  startNatsServer,
  streamCount,
  waitFor,
  type Federation,
  type RunningServer,
} from '../../testing/src/index.js';
import { HUB_STORE_SERVER, subjectFor } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects what a subscription receives, as strings with their subject. */
function collect(sub: Subscription): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const m of sub) seen.push(`${m.subject} ${m.string()}`);
  })();
  return seen;
}

/** A leaf we wrote ourselves (a modified or misconfigured server), with an open local account. */
async function handWrittenLeaf(
  fed: Federation,
  name: string,
  remoteUserInfo: string,
  leafConnections: number,
): Promise<{ server: RunningServer; nc: NatsConnection | undefined }> {
  const [client, monitor] = await freePorts(2);
  const server = await startNatsServer({
    name,
    dir: fed.dir,
    leafConnections,
    configText: [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${client}"`,
      `http: "127.0.0.1:${monitor}"`,
      `leafnodes { reconnect: 1, remotes [ { url: "nats-leaf://${remoteUserInfo}127.0.0.1:${fed.hubLeafPort}" } ] }`,
      '',
    ].join('\n'),
  });
  const nc = await connect({ servers: `127.0.0.1:${client}` });
  return { server, nc };
}

function leafPassword(fed: Federation, id: string): string {
  const m = new RegExp(`nats-leaf://${id}-leaf:([^@]+)@`).exec(fed.configs.leaves[id] ?? '');
  if (!m?.[1]) throw new Error(`no leaf password for ${id}`);
  return decodeURIComponent(m[1]);
}

describe('B2 federation on a real nats-server', () => {
  let fed: Federation;
  const nc: Record<string, NatsConnection> = {};

  beforeAll(async () => {
    fed = await startFederation({
      members: ['kr', 'vn', 'th'],
      dir: mkdtempSync(join(tmpdir(), 'fedintel-broker-')),
    });
    for (const id of fed.members) nc[id] = await fed.connectNode(id);
    nc['hub'] = await fed.connectHub();
  }, 20_000);

  afterAll(async () => {
    await fed?.stop();
  });

  describe('delivery', () => {
    it('a KR→VN record reaches VN exactly once, never TH or the hub, and KR is acked by its own domain', async () => {
      const marker = `marker-${randomUUID()}`;
      const thBefore = await streamCount(nc['th']!, 'INBOX');
      const hubBefore = await streamCount(nc['hub']!, 'HUB_INBOX');

      const ack = await jetstream(nc['kr']!).publish(subjectFor('kr', 'vn', 'records'), marker, {
        msgID: marker,
      });

      expect(ack).toMatchObject({ domain: 'kr', stream: 'KR_OUT_VN', duplicate: false });
      await waitFor(
        async () => (await readStream(nc['vn']!, 'INBOX')).some((m) => m.data === marker),
        5_000,
        'record in VN INBOX',
      );
      await sleep(300); // give a wrong route the time to deliver a copy
      const vn = (await readStream(nc['vn']!, 'INBOX')).filter((m) => m.data === marker);
      expect(vn).toHaveLength(1);
      expect(vn[0]).toMatchObject({ subject: 'fed.v1.kr.vn.records', msgId: marker });
      expect(await streamCount(nc['th']!, 'INBOX')).toBe(thBefore);
      expect(await streamCount(nc['hub']!, 'HUB_INBOX')).toBe(hubBefore);

      // Nothing of it on the hub's disks; the same search finds it where it must be.
      expect(filesContaining(fed.storeDir(HUB_STORE_SERVER), marker)).toEqual([]);
      expect(filesContaining(fed.dir, marker).filter((f) => f.includes('/data/hub'))).toEqual([]);
      expect(filesContaining(fed.storeDir('kr'), marker).length).toBeGreaterThan(0);
      expect(filesContaining(fed.storeDir('vn'), marker).length).toBeGreaterThan(0);
      expect(filesContaining(fed.storeDir('th'), marker)).toEqual([]);
    });

    it('KR→hub reaches only the hub; KR→all reaches the hub, VN and TH; a hub feed reaches only its member', async () => {
      const toHub = `to-hub-${randomUUID()}`;
      const toAll = `to-all-${randomUUID()}`;
      const feed = `feed-${randomUUID()}`;
      const js = jetstream(nc['kr']!);
      await js.publish(subjectFor('kr', 'hub', 'records'), toHub, { msgID: toHub });
      await js.publish(subjectFor('kr', 'all', 'records'), toAll, { msgID: toAll });
      const feedAck = await jetstream(nc['hub']!).publish(subjectFor('hub', 'th', 'feed'), feed, {
        msgID: feed,
      });
      expect(feedAck).toMatchObject({ domain: 'hub', stream: 'HUB_OUT_TH' });

      const has = async (id: string, stream: string, data: string) =>
        (await readStream(nc[id]!, stream)).filter((m) => m.data === data).length;
      await waitFor(
        async () =>
          (await has('hub', 'HUB_INBOX', toHub)) === 1 &&
          (await has('hub', 'HUB_INBOX', toAll)) === 1 &&
          (await has('vn', 'INBOX', toAll)) === 1 &&
          (await has('th', 'INBOX', toAll)) === 1 &&
          (await has('th', 'INBOX', feed)) === 1,
        5_000,
        'hub, all and feed deliveries',
      );
      await sleep(300);
      expect(await has('vn', 'INBOX', toHub)).toBe(0);
      expect(await has('th', 'INBOX', toHub)).toBe(0);
      expect(await has('vn', 'INBOX', feed)).toBe(0);
      expect(await has('kr', 'INBOX', feed)).toBe(0);
      expect(await has('kr', 'INBOX', toAll)).toBe(0);
      expect(await has('th', 'INBOX', toAll)).toBe(1);
    });
  });

  describe('boundaries', () => {
    it('KR cannot publish as another member: the publish is refused and VN gains nothing', async () => {
      const vnBefore = await streamCount(nc['vn']!, 'INBOX');
      await expect(
        jetstream(nc['kr']!, { timeout: 1_000 }).publish('fed.v1.th.vn.records', 'spoof'),
      ).rejects.toThrow();
      nc['kr']!.publish('fed.v1.th.vn.records', 'spoof-core');
      await sleep(300);
      expect(await streamCount(nc['vn']!, 'INBOX')).toBe(vnBefore);
    });

    it("KR's application may not touch another domain's JetStream API", async () => {
      for (const subject of ['$JS.vn.API.STREAM.INFO.INBOX', '$JS.hub.API.INFO']) {
        await expect(nc['kr']!.request(subject, '', { timeout: 1_000 })).rejects.toThrow();
      }
    });

    it('a modified KR leaf (no local permissions) can neither spoof, read VN, nor use the hub store', async () => {
      const vnBefore = await streamCount(nc['vn']!, 'INBOX');
      const fake = await handWrittenLeaf(fed, 'fake-kr', `kr-leaf:${leafPassword(fed, 'kr')}@`, 1);
      try {
        const c = fake.nc!;
        await sleep(200); // let the hub's interest reach the fake leaf
        for (const subject of [
          '$JS.vn.API.INFO',
          '$JS.vn.API.STREAM.INFO.INBOX',
          '$JS.vn.API.STREAM.MSG.GET.INBOX',
          '$JS.vn.API.CONSUMER.CREATE.INBOX',
          '$JS.vn.API.CONSUMER.CREATE.VN_OUT_TH',
          '$JS.th.API.CONSUMER.CREATE.TH_OUT_VN',
          '$JS.hub.API.INFO',
          '$JS.hub.API.STREAM.INFO.HUB_INBOX',
          '$JS.hub.API.STREAM.CREATE.EVIL',
          '$JS.hub.API.CONSUMER.CREATE.HUB_OUT_VN',
        ]) {
          await expect(c.request(subject, '{}', { timeout: 500 })).rejects.toThrow();
        }
        await expect(
          jetstream(c, { timeout: 1_000 }).publish('fed.v1.th.vn.records', 'forged'),
        ).rejects.toThrow();
        c.publish('fed.v1.th.vn.records', 'forged-core');
        await c.flush();
        await sleep(300);
        expect(await streamCount(nc['vn']!, 'INBOX')).toBe(vnBefore);
      } finally {
        await fake.nc?.close();
        await fake.server.stop();
      }
    });

    it("a '>' subscription on KR's leaf sees no TH→VN traffic", async () => {
      const sub = nc['kr']!.subscribe('>');
      const seen = collect(sub);
      await nc['kr']!.flush();
      const marker = `th-vn-${randomUUID()}`;
      await jetstream(nc['th']!).publish(subjectFor('th', 'vn', 'records'), marker);
      await waitFor(
        async () => (await readStream(nc['vn']!, 'INBOX')).some((m) => m.data === marker),
        5_000,
        'TH→VN record in VN INBOX',
      );
      await sleep(300);
      sub.unsubscribe();
      expect(seen.filter((s) => s.includes(marker) || s.includes('.th.vn'))).toEqual([]);
    });

    it('a leaf without credentials lands in QUARANTINE and gets nothing', async () => {
      const rogue = await handWrittenLeaf(fed, 'rogue', '', 1);
      try {
        const leafz = await fed.hub.monitor<{ leafs?: { account: string }[] }>('/leafz');
        expect((leafz.leafs ?? []).map((l) => l.account)).toContain('QUARANTINE');
        const c = rogue.nc!;
        const seen = collect(c.subscribe('>'));
        await c.flush();
        const vnBefore = await streamCount(nc['vn']!, 'INBOX');
        await expect(
          jetstream(c, { timeout: 1_000 }).publish('fed.v1.kr.vn.records', 'rogue'),
        ).rejects.toThrow();
        const marker = `while-rogue-${randomUUID()}`;
        await jetstream(nc['kr']!).publish(subjectFor('kr', 'vn', 'records'), marker);
        await waitFor(
          async () => (await streamCount(nc['vn']!, 'INBOX')) === vnBefore + 1,
          5_000,
          'KR→VN record',
        );
        await sleep(300);
        // its own publish loops back on its own server; nothing may come from the federation
        expect(seen.filter((s) => s !== 'fed.v1.kr.vn.records rogue')).toEqual([]);
      } finally {
        await rogue.nc?.close();
        await rogue.server.stop();
      }
    });

    it('a leaf with a wrong password is refused', async () => {
      const bad = await handWrittenLeaf(fed, 'badpw', 'kr-leaf:wrong-password-123456@', 0);
      try {
        await waitFor(
          () => /Authorization Violation/i.test(bad.server.log()),
          5_000,
          'authorization violation in the leaf log',
        );
        const leafz = await bad.server.monitor<{ leafnodes?: number }>('/leafz');
        expect(leafz.leafnodes ?? 0).toBe(0);
      } finally {
        await bad.nc?.close();
        await bad.server.stop();
      }
    });

    it("a member's leaf user cannot log in as a client on the hub", async () => {
      await expect(
        connect({
          servers: `127.0.0.1:${fed.hub.clientPort}`,
          user: 'kr-leaf',
          pass: leafPassword(fed, 'kr'),
          reconnect: false,
        }),
      ).rejects.toThrow();
    });

    it("a wrong password on a member's leaf is refused", async () => {
      const creds = fed.nodeCredentials['kr']!;
      await expect(
        connect({
          servers: creds.url,
          user: creds.user,
          pass: 'not-the-password',
          reconnect: false,
        }),
      ).rejects.toThrow();
    });
  });
});
