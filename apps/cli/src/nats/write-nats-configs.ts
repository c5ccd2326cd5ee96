import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HUB,
  HUB_STORE_SERVER,
  generateFederationConfigs,
  type FederationConfigs,
  type FederationTls,
} from '../../../../libs/broker/src/index.js';
import { CA_CERT, certFileName, keyFileName } from '../tls/tls.js';

/** Ports and places of a generated federation; members get consecutive ports from the bases. */
export interface NatsConfigOptions {
  members: string[];
  out: string;
  host: string;
  hubClientPort: number;
  hubLeafPort: number;
  hubMonitorPort: number;
  hubStorePort: number;
  hubStoreMonitorPort: number;
  /** member i (0-based, in the order given) listens on memberClientBase + i */
  memberClientBase: number;
  memberMonitorBase: number;
  /** JetStream stores go to `<storeRoot>/<server name>` */
  storeRoot: string;
  /**
   * TLS on every listener and link: the folder where each server finds `ca.pem`, `<server>.pem`
   * and `<server>-key.pem` at run time (as written by `fedctl tls`); absent: plaintext.
   */
  tlsDir?: string;
  /** hosts the leaves dial to reach the hub core (default: `host`) */
  hubLeafHosts?: string[];
  /** hub core as a cluster: route port and `host:port` of every hub core server */
  hubCluster?: { name: string; port: number; routes: string[] };
}

/** The certificate files of every server, in the layout `fedctl tls` writes. */
export function tlsFiles(dir: string, servers: string[]): FederationTls {
  return {
    caFile: join(dir, CA_CERT),
    certs: Object.fromEntries(
      servers.map((s) => [
        s,
        { certFile: join(dir, certFileName(s)), keyFile: join(dir, keyFileName(s)) },
      ]),
    ),
  };
}

const secret = () => randomBytes(24).toString('base64url');

/**
 * Write `hub.conf`, `hub-store.conf`, one `<member>.conf` per member and `credentials.json`
 * (mode 0600: the generated passwords each application needs) under `out`. Passwords are fresh
 * random strings on every run, so regenerating means redistributing credentials.
 */
export function writeNatsConfigs(o: NatsConfigOptions): {
  files: string[];
  configs: FederationConfigs;
} {
  const members: Record<string, { client: number; monitor: number }> = {};
  o.members.forEach((id, i) => {
    members[id] = { client: o.memberClientBase + i, monitor: o.memberMonitorBase + i };
  });
  const configs = generateFederationConfigs({
    members: o.members.map((id) => ({ id, password: secret(), appPassword: secret() })),
    hub: { password: secret(), appPassword: secret() },
    ports: {
      hubClient: o.hubClientPort,
      hubLeaf: o.hubLeafPort,
      hubMonitor: o.hubMonitorPort,
      hubStore: { client: o.hubStorePort, monitor: o.hubStoreMonitorPort },
      members,
    },
    storeDir: (name) => join(o.storeRoot, name),
    host: o.host,
    ...(o.hubLeafHosts ? { hubLeafHosts: o.hubLeafHosts } : {}),
    ...(o.hubCluster ? { hubCluster: o.hubCluster } : {}),
    ...(o.tlsDir === undefined
      ? {}
      : { tls: tlsFiles(o.tlsDir, [HUB, HUB_STORE_SERVER, ...o.members]) }),
  });
  mkdirSync(o.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string, mode = 0o644) => {
    const file = join(o.out, name);
    writeFileSync(file, text, { mode });
    files.push(file);
  };
  write('hub.conf', configs.hub);
  write('hub-store.conf', configs.hubStore);
  for (const id of o.members) write(`${id}.conf`, configs.leaves[id] ?? '');
  write(
    'credentials.json',
    `${JSON.stringify({ nodes: configs.nodeCredentials, hubApp: configs.hubAppCredentials }, null, 2)}\n`,
    0o600,
  );
  return { files, configs };
}
