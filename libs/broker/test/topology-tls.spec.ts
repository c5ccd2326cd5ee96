import { describe, expect, it } from '@jest/globals';
import {
  generateFederationConfigs,
  isBrokerError,
  type FederationTopologyInput,
} from '../src/index.js';

const tls = {
  caFile: '/etc/nats/tls/ca.pem',
  certs: Object.fromEntries(
    ['hub', 'hub-store', 'kr', 'vn'].map((s) => [
      s,
      { certFile: `/etc/nats/tls/${s}.pem`, keyFile: `/etc/nats/tls/${s}-key.pem` },
    ]),
  ),
};

function input(overrides: Partial<FederationTopologyInput> = {}): FederationTopologyInput {
  return {
    members: ['kr', 'vn'].map((id) => ({ id, password: `${id}-password-0123456789` })),
    hub: { password: 'hub-password-0123456789' },
    ports: {
      hubClient: 4222,
      hubLeaf: 7422,
      hubStore: { client: 4300 },
      members: { kr: { client: 4301 }, vn: { client: 4302 } },
    },
    storeDir: (n) => `/data/${n}`,
    ...overrides,
  };
}

/** The lines of the `head {` block that starts at the first line equal to `head {` after trim. */
function blockOf(text: string, head: string, from = 0): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l, i) => i >= from && l.trim() === `${head} {`);
  if (start < 0) return [];
  const depth = lines[start]?.search(/\S/) ?? 0;
  const end = lines.findIndex((l, i) => i > start && l.search(/\S/) === depth && l.trim() === '}');
  return lines.slice(start, end + 1).map((l) => l.trim());
}

describe('generateFederationConfigs with TLS', () => {
  it('renders no TLS and no cluster when neither is asked for', () => {
    const plain = generateFederationConfigs(input());
    for (const text of [plain.hub, plain.hubStore, ...Object.values(plain.leaves)]) {
      expect(text).not.toContain('tls');
      expect(text).not.toContain('cluster');
    }
  });

  it('the hub core serves clients with its certificate and demands a CA-signed certificate from every leaf', () => {
    const { hub } = generateFederationConfigs(input({ tls }));
    const top = hub.split('\n').findIndex((l) => l === 'tls {');
    expect(top).toBeGreaterThan(0);
    expect(blockOf(hub, 'tls')).toEqual([
      'tls {',
      'cert_file: "/etc/nats/tls/hub.pem"',
      'key_file: "/etc/nats/tls/hub-key.pem"',
      'ca_file: "/etc/nats/tls/ca.pem"',
      'timeout: 5',
      '}',
    ]);
    const leafnodes = blockOf(hub, 'leafnodes');
    expect(leafnodes).toContain('verify: true');
    expect(leafnodes).toContain('cert_file: "/etc/nats/tls/hub.pem"');
  });

  it('each leaf presents its own certificate on its remote and serves its application over TLS', () => {
    const { leaves, hubStore } = generateFederationConfigs(input({ tls }));
    const kr = leaves['kr'] ?? '';
    const remotes = blockOf(kr, 'leafnodes');
    expect(remotes).toContain('cert_file: "/etc/nats/tls/kr.pem"');
    expect(remotes).toContain('key_file: "/etc/nats/tls/kr-key.pem"');
    expect(remotes).toContain('ca_file: "/etc/nats/tls/ca.pem"');
    expect(remotes).toContain('account: KR');
    expect(kr.split('\n')).toContain('tls {');
    expect(hubStore).toContain('cert_file: "/etc/nats/tls/hub-store.pem"');
    expect(leaves['vn']).not.toContain('kr.pem');
  });

  it('a hub core cluster routes over mutual TLS and leaves may dial any hub core server', () => {
    const { hub, leaves } = generateFederationConfigs(
      input({
        tls,
        host: '0.0.0.0',
        hubLeafHosts: ['hub-1', 'hub-2', 'hub-3:7500'],
        hubCluster: { name: 'fedintel-hub', port: 6222, routes: ['hub-1:6222', 'hub-2:6222'] },
      }),
    );
    const cluster = blockOf(hub, 'cluster');
    expect(cluster).toContain('name: "fedintel-hub"');
    expect(cluster).toContain('listen: "0.0.0.0:6222"');
    expect(cluster).toContain('"tls://hub-1:6222"');
    expect(cluster).toContain('verify: true');
    const urls = (leaves['kr'] ?? '').split('\n').find((l) => l.trim().startsWith('urls:')) ?? '';
    expect(urls).toContain('@hub-1:7422"');
    expect(urls).toContain('@hub-2:7422"');
    expect(urls).toContain('@hub-3:7500"');
  });

  it('plaintext cluster routes use nats-route://', () => {
    const { hub } = generateFederationConfigs(
      input({ hubCluster: { name: 'c', port: 6222, routes: ['a:6222'] } }),
    );
    expect(blockOf(hub, 'cluster')).toContain('"nats-route://a:6222"');
  });

  it('refuses a TLS input that lacks a server certificate', () => {
    const missing = { caFile: tls.caFile, certs: { ...tls.certs } };
    delete missing.certs['vn'];
    let caught: unknown;
    try {
      generateFederationConfigs(input({ tls: missing }));
    } catch (e) {
      caught = e;
    }
    expect(isBrokerError(caught) && caught.code === 'INVALID_TOPOLOGY').toBe(true);
    expect(String(caught)).toContain('vn');
  });
});
