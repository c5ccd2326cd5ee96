import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  HUB,
  HUB_STORE_SERVER,
  generateFederationConfigs,
  provisionStreams,
  streamPlan,
  subjectFor,
} from '../../../libs/broker/src/index.js';
import {
  freePorts,
  readStream,
  startNatsServer,
  waitFor,
  type RunningServer,
} from '../../../libs/testing/src/index.js';
import { run, type CliIo } from '../src/cli.js';
import { tlsFiles } from '../src/nats/write-nats-configs.js';

async function fedctl(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await run(argv, io);
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'fedctl-tls-'));
const ca = join(dir, 'ca');
const certs = join(dir, 'tls');
const servers: RunningServer[] = [];
const connections: NatsConnection[] = [];

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  for (const s of servers.reverse()) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  expect((await fedctl('tls', 'ca', '--out', ca)).code).toBe(0);
  for (const name of [HUB, HUB_STORE_SERVER, 'kr', 'client-only']) {
    const r = await fedctl(
      'tls',
      'issue',
      '--ca',
      ca,
      '--name',
      name,
      '--dns',
      'localhost',
      '--ip',
      '127.0.0.1',
      '--out',
      certs,
    );
    expect(r).toMatchObject({ code: 0 });
  }
});

describe('fedctl tls', () => {
  it('writes the CA and every private key readable by its owner only', () => {
    for (const key of [
      join(ca, 'ca-key.pem'),
      join(certs, 'hub-key.pem'),
      join(certs, 'kr-key.pem'),
    ]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(join(certs, 'hub.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('refuses to overwrite a certificate, and names the bad argument', async () => {
    const again = await fedctl(
      'tls',
      'issue',
      '--ca',
      ca,
      '--name',
      'kr',
      '--dns',
      'x',
      '--out',
      certs,
    );
    expect(again.code).toBe(2);
    expect(again.err).toContain('--force');
    const badIp = await fedctl(
      'tls',
      'issue',
      '--ca',
      ca,
      '--name',
      'x',
      '--ip',
      '1.2.3',
      '--out',
      certs,
    );
    expect(badIp.code).toBe(2);
    expect(badIp.err).toContain('--ip');
    const noCa = await fedctl(
      'tls',
      'issue',
      '--ca',
      dir,
      '--name',
      'x',
      '--dns',
      'x',
      '--out',
      certs,
    );
    expect(noCa.code).toBe(2);
    expect(noCa.err).toContain('fedctl tls ca');
  });

  it('an Ed25519 CA issues certificates too', async () => {
    const edCa = join(dir, 'ed-ca');
    expect((await fedctl('tls', 'ca', '--out', edCa, '--key-type', 'ed25519')).code).toBe(0);
    const r = await fedctl(
      'tls',
      'issue',
      '--ca',
      edCa,
      '--name',
      'ed',
      '--dns',
      'localhost',
      '--key-type',
      'ed25519',
      '--out',
      join(dir, 'ed'),
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'ed', 'ed.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  }, 30_000);

  it('a nats-server serves its issued certificate: a client trusting the CA talks, one without it is refused', async () => {
    const [port] = await freePorts(1);
    const files = tlsFiles(certs, ['hub']);
    const server = await startNatsServer({
      name: 'tls-single',
      dir,
      configText: [
        `listen: "127.0.0.1:${port}"`,
        'tls {',
        `  cert_file: "${files.certs['hub']?.certFile}"`,
        `  key_file: "${files.certs['hub']?.keyFile}"`,
        '}',
        '',
      ].join('\n'),
    });
    servers.push(server);
    const nc = await connect({ servers: `127.0.0.1:${port}`, tls: { caFile: files.caFile } });
    connections.push(nc);
    const sub = nc.subscribe('greeting', { max: 1 });
    nc.publish('greeting', 'over tls');
    for await (const m of sub) expect(m.string()).toBe('over tls');
    await expect(
      connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 5_000 }),
    ).rejects.toThrow();
  }, 30_000);

  it('a TLS federation (hub core, hub store, one member leaf, mutual TLS on leaf links) carries a message from the member to the hub and refuses a leaf without a client certificate', async () => {
    const [
      hubClient = 0,
      hubLeaf = 0,
      hubMonitor = 0,
      storeClient = 0,
      storeMonitor = 0,
      krClient = 0,
      krMonitor = 0,
    ] = await freePorts(7);
    const configs = generateFederationConfigs({
      members: [{ id: 'kr', password: 'kr-password-0123456789' }],
      hub: { password: 'hub-password-0123456789' },
      ports: {
        hubClient,
        hubLeaf,
        hubMonitor,
        hubStore: { client: storeClient, monitor: storeMonitor },
        members: { kr: { client: krClient, monitor: krMonitor } },
      },
      storeDir: (n) => join(dir, 'data', n),
      tls: tlsFiles(certs, [HUB, HUB_STORE_SERVER, 'kr']),
    });
    expect(configs.leaves['kr']).toContain('tls {');
    expect(configs.hub).toContain('verify: true');
    const hub = await startNatsServer({ name: 'fed-hub', dir, configText: configs.hub });
    servers.push(hub);
    servers.push(await startNatsServer({ name: 'fed-store', dir, configText: configs.hubStore }));
    servers.push(
      await startNatsServer({ name: 'fed-kr', dir, configText: configs.leaves['kr'] ?? '' }),
    );
    await waitFor(
      async () => (await hub.monitor<{ leafnodes?: number }>('/leafz')).leafnodes === 2,
      20_000,
      'hub sees both leaves over TLS',
    );
    const leafz = await hub.monitor<{ leafs?: { account: string }[] }>('/leafz');
    expect((leafz.leafs ?? []).map((l) => l.account).sort()).toEqual(['HUB', 'KR']);

    const tls = { caFile: join(certs, 'ca.pem') };
    const kr = await connect({
      servers: configs.nodeCredentials['kr']?.url,
      user: configs.nodeCredentials['kr']?.user,
      pass: configs.nodeCredentials['kr']?.password,
      tls,
    });
    const hubApp = await connect({
      servers: configs.hubAppCredentials.url,
      user: configs.hubAppCredentials.user,
      pass: configs.hubAppCredentials.password,
      tls,
    });
    connections.push(kr, hubApp);
    const krPlan = streamPlan(['kr'], 'kr');
    await provisionStreams(
      kr,
      krPlan.filter((p) => p.role === 'outbox'),
    );
    await provisionStreams(hubApp, streamPlan(['kr'], HUB));
    await jetstream(kr).publish(subjectFor('kr', HUB, 'bundle'), 'sealed bundle from kr');
    await waitFor(
      async () => (await readStream(hubApp, 'HUB_INBOX')).length === 1,
      30_000,
      'the message in HUB_INBOX',
    );
    const [stored] = await readStream(hubApp, 'HUB_INBOX');
    expect(stored?.subject).toBe(subjectFor('kr', HUB, 'bundle'));

    // A leaf with kr's valid password but no client certificate is refused by the hub's leaf port.
    expect(hub.log()).not.toMatch(/certificate/i);
    const [rogueClient] = await freePorts(1);
    const rogue = await startNatsServer({
      name: 'fed-rogue',
      dir,
      leafConnections: 0,
      configText: [
        `listen: "127.0.0.1:${rogueClient}"`,
        'leafnodes { reconnect: 1, remotes [ {',
        `  url: "nats-leaf://kr-leaf:kr-password-0123456789@127.0.0.1:${hubLeaf}"`,
        `  tls { ca_file: "${join(certs, 'ca.pem')}" }`,
        '} ] }',
        '',
      ].join('\n'),
    });
    servers.push(rogue);
    await waitFor(
      () =>
        /certificate/i.test(hub.log().split('fed-rogue').join('')) ||
        /certificate/i.test(rogue.log()),
      20_000,
      'the hub refusing a leaf without a client certificate',
    );
    const after = await hub.monitor<{ leafnodes?: number }>('/leafz');
    expect(after.leafnodes).toBe(2);
  }, 90_000);
});
