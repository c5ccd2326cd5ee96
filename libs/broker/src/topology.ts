import { BrokerError } from './errors.js';
import {
  ALL,
  HUB,
  accountName,
  assertMemberId,
  deliverPrefix,
  inboxStreamName,
  jsApiPrefix,
  outboxStreamName,
  pairFilter,
} from './subjects.js';

/**
 * Pure generation of the "B2" federation topology (docs/broker.md, ADR 0010): the hub config, one
 * leaf config per member, and the JetStream streams each server must hold. No I/O: the caller
 * writes the files and runs the servers.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const PASSWORD = /^[A-Za-z0-9._~-]{16,128}$/;

/** Input of {@link generateFederationConfigs}. */
export interface FederationTopologyInput {
  /** The members, each with the password its leaf uses towards the hub. */
  members: {
    /** member id, e.g. `kr` (also its JetStream domain and, upper-cased, its account) */
    id: string;
    /** password of `<id>-leaf` on the hub (16-128 chars of `[A-Za-z0-9._~-]`) */
    password: string;
    /** password of `<id>-app` on the member's own leaf; defaults to `password` */
    appPassword?: string;
  }[];
  /**
   * `password`: of `hub-leaf`, the hub's JetStream server towards the hub core;
   * `appPassword`: of the hub application user `hub-app` on that server (defaults to `password`).
   */
  hub: { password: string; appPassword?: string };
  ports: {
    /** hub core client port (operations only: every federation user is leaf-only) */
    hubClient: number;
    /** hub core leaf-node port (member leaves and the hub store connect here) */
    hubLeaf: number;
    /** hub core HTTP monitoring port; no monitoring endpoint when absent */
    hubMonitor?: number;
    /** the hub store (JetStream domain `hub`, where the hub application connects) */
    hubStore: { client: number; monitor?: number };
    /** per member id: the leaf's client port and optional monitoring port */
    members: Record<string, { client: number; monitor?: number }>;
  };
  /** JetStream store directory of a server (`hub-store` or a member id) */
  storeDir: (serverName: string) => string;
  /** interface every server listens on and connects to; default `127.0.0.1` */
  host?: string;
  /** JetStream resource limits of every server; defaults `256MB` / `2GB` */
  jetstream?: { maxMem?: string; maxFile?: string };
  /**
   * Hosts (`host` or `host:port`, default port `ports.hubLeaf`) the leaves dial to reach the hub
   * core; default `[host]`. Several entries when the hub core is a cluster (any of them will do).
   */
  hubLeafHosts?: string[];
  /**
   * Hub core as a cluster of identical servers (ADR 0041): every server loads the same `hub`
   * config, is started with its own `--name`, and routes to `routes` (its own entry is ignored).
   */
  hubCluster?: {
    /** cluster name */
    name: string;
    /** route listener port of every hub core server */
    port: number;
    /** `host:port` of every hub core server's route listener */
    routes: string[];
  };
  /**
   * TLS on every listener and connection (ADR 0040). Absent: plaintext, for tests and the local
   * demo only. Paths are as the servers see them (e.g. inside their containers).
   */
  tls?: FederationTls;
}

/** Certificates of {@link FederationTopologyInput.tls}; all signed by one federation CA. */
export interface FederationTls {
  /** the federation CA certificate (PEM) that every server trusts, and only it */
  caFile: string;
  /**
   * Certificate and key of each server, by server name: `hub` (shared by every hub core server of
   * a cluster), `hub-store` and each member id. Each certificate serves both as the server's
   * certificate and as its client certificate on leaf and route connections.
   */
  certs: Record<string, { certFile: string; keyFile: string }>;
}

/** How an application connects to a server. */
export interface NatsCredentials {
  /** `nats://host:port` */
  url: string;
  user: string;
  password: string;
}

/** Output of {@link generateFederationConfigs}. */
export interface FederationConfigs {
  /** nats-server config text of the hub core (server `hub`: accounts and grants, no JetStream) */
  hub: string;
  /** nats-server config text of the hub store (server `hub-store`: a leaf of the hub core, domain `hub`) */
  hubStore: string;
  /** nats-server config text of each member's leaf, by member id */
  leaves: Record<string, string>;
  /** how each member's node application connects to its OWN leaf, by member id */
  nodeCredentials: Record<string, NatsCredentials>;
  /** how the hub application connects to the hub store (account HUB, domain `hub`) */
  hubAppCredentials: NatsCredentials;
}

/** A source of an inbox stream: an outbox in another domain, reached across the hub. */
export interface StreamSourcePlan {
  /** outbox stream name in the origin's domain, e.g. `KR_OUT_VN` */
  name: string;
  external: {
    /** `$JS.<origin domain>.API` */
    api: string;
    /** deliver-subject prefix, exported by the hub to this reader only */
    deliver: string;
  };
}

/** One stream a server must hold; turned into a JetStream config by `provisionStreams`. */
export interface StreamConfigPlan {
  name: string;
  /** JetStream domain the stream lives in: a member id or `hub` */
  domain: string;
  /** outbox: captures what this server's application sends; inbox: sources what is sent to it */
  role: 'outbox' | 'inbox';
  description: string;
  /** subjects captured (outboxes); empty for inboxes, which only source */
  subjects: string[];
  sources: StreamSourcePlan[];
  retention: 'limits';
  storage: 'file';
  discard: 'old';
  /** age after which a message is dropped; an outbox must outlive any tolerated outage */
  maxAgeMs: number;
  duplicateWindowMs: number;
  replicas: number;
}

/** Tunables of {@link streamPlan}. */
export interface StreamPlanOptions {
  /**
   * Outbox retention. The source consumers are AckNone, so the origin cannot know what the
   * addressee stored: an outbox must keep records longer than any outage to tolerate. Default 30 days.
   */
  outboxMaxAgeMs?: number;
  /** Inbox retention (the application moves records to its database). Default 30 days. */
  inboxMaxAgeMs?: number;
  /** Default 2 minutes (the JetStream default, written out so it is visible). */
  duplicateWindowMs?: number;
  /** Default 1; production clusters use 3. */
  replicas?: number;
}

/** One outbox read by one reader: the unit every grant and every source is derived from. */
interface Link {
  origin: string;
  addressee: string;
  reader: string;
  stream: string;
  api: string;
  deliver: string;
}

function assertMembers(members: readonly string[]): void {
  if (members.length === 0) throw new BrokerError('INVALID_TOPOLOGY', 'no members');
  const seen = new Set<string>();
  for (const m of members) {
    try {
      assertMemberId(m);
    } catch (cause) {
      throw new BrokerError('INVALID_TOPOLOGY', `bad member id ${JSON.stringify(m)}`, { cause });
    }
    if (seen.has(m)) throw new BrokerError('INVALID_TOPOLOGY', `duplicate member ${m}`);
    seen.add(m);
  }
}

/** Addressees a server sends to, hence its outboxes: other members, the hub and `all`; the hub sends to members. */
function addresseesOf(members: readonly string[], origin: string): string[] {
  if (origin === HUB) return [...members];
  return [...members.filter((m) => m !== origin), HUB, ALL];
}

/** Who reads the outbox origin → addressee. A broadcast is read by the hub and every other member. */
function readersOf(members: readonly string[], origin: string, addressee: string): string[] {
  if (addressee !== ALL) return [addressee];
  return [HUB, ...members.filter((m) => m !== origin)];
}

/** Every (outbox, reader) pair of the federation, in a stable order. */
function federationLinks(members: readonly string[]): Link[] {
  const links: Link[] = [];
  for (const origin of [...members, HUB]) {
    for (const addressee of addresseesOf(members, origin)) {
      for (const reader of readersOf(members, origin, addressee)) {
        links.push({
          origin,
          addressee,
          reader,
          stream: outboxStreamName(origin, addressee),
          api: jsApiPrefix(origin),
          deliver: deliverPrefix(origin, addressee, reader),
        });
      }
    }
  }
  return links;
}

/**
 * The streams `self` (a member id or `hub`) must hold: one outbox per addressee (limits retention,
 * long `max_age`) and one inbox that sources, across the hub, every outbox addressed to `self`
 * plus every other member's broadcast outbox.
 *
 * @example streamPlan(['kr', 'vn'], 'vn') // VN_OUT_KR, VN_OUT_HUB, VN_OUT_ALL, INBOX
 * @throws BrokerError `INVALID_TOPOLOGY` on a bad member list or a `self` that is not in it
 */
export function streamPlan(
  members: string[],
  self: string,
  options: StreamPlanOptions = {},
): StreamConfigPlan[] {
  assertMembers(members);
  if (self !== HUB && !members.includes(self)) {
    throw new BrokerError('INVALID_TOPOLOGY', `${self} is neither a member nor the hub`);
  }
  const common = {
    domain: self,
    retention: 'limits' as const,
    storage: 'file' as const,
    discard: 'old' as const,
    duplicateWindowMs: options.duplicateWindowMs ?? 2 * MINUTE_MS,
    replicas: options.replicas ?? 1,
  };
  const outboxes: StreamConfigPlan[] = addresseesOf(members, self).map((addressee) => ({
    ...common,
    name: outboxStreamName(self, addressee),
    role: 'outbox',
    description: `what ${self} sends to ${addressee}; sourced across the hub by its reader(s)`,
    subjects: [pairFilter(self, addressee)],
    sources: [],
    maxAgeMs: options.outboxMaxAgeMs ?? 30 * DAY_MS,
  }));
  const inbox: StreamConfigPlan = {
    ...common,
    name: inboxStreamName(self),
    role: 'inbox',
    description: `everything addressed to ${self}, sourced from the senders' outboxes`,
    subjects: [],
    sources: federationLinks(members)
      .filter((l) => l.reader === self)
      .map((l) => ({ name: l.stream, external: { api: l.api, deliver: l.deliver } })),
    maxAgeMs: options.inboxMaxAgeMs ?? 30 * DAY_MS,
  };
  return [...outboxes, inbox];
}

// ---- config text rendering -------------------------------------------------------------------

/** nats-server config strings: double-quoted with JSON escapes, which the server's lexer accepts. */
const q = (s: string): string => JSON.stringify(s);

function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

function block(head: string, body: string[]): string[] {
  return [`${head} {`, ...indent(body), '}'];
}

function list(head: string, items: string[]): string[] {
  return [`${head} [`, ...indent(items), ']'];
}

function jetstreamBlock(
  domain: string,
  storeDir: string,
  input: FederationTopologyInput,
): string[] {
  return block('jetstream', [
    `domain: ${q(domain)}`,
    `store_dir: ${q(storeDir)}`,
    `max_mem: ${input.jetstream?.maxMem ?? '256MB'}`,
    `max_file: ${input.jetstream?.maxFile ?? '2GB'}`,
  ]);
}

/**
 * `tls {}` block. `verify: true` makes the listener demand a client certificate signed by the CA;
 * on a remote (leaf side) the same block presents the server's certificate as its client one.
 */
function tlsBlock(tls: FederationTls, server: string, verify: boolean): string[] {
  const cert = tls.certs[server];
  if (!cert) throw new BrokerError('INVALID_TOPOLOGY', `no TLS certificate for server ${server}`);
  return block('tls', [
    `cert_file: ${q(cert.certFile)}`,
    `key_file: ${q(cert.keyFile)}`,
    `ca_file: ${q(tls.caFile)}`,
    ...(verify ? ['verify: true'] : []),
    'timeout: 5',
  ]);
}

function permissions(publish: string[]): string {
  return `permissions: { publish: { allow: [${publish.map(q).join(', ')}] } }`;
}

function assertPassword(pw: string, whose: string): void {
  if (!PASSWORD.test(pw)) {
    throw new BrokerError(
      'INVALID_TOPOLOGY',
      `password of ${whose} must be 16-128 characters of [A-Za-z0-9._~-]`,
    );
  }
}

function assertPorts(input: FederationTopologyInput): void {
  const all: [string, number | undefined][] = [
    ['hubClient', input.ports.hubClient],
    ['hubLeaf', input.ports.hubLeaf],
    ['hubMonitor', input.ports.hubMonitor],
    ['hubStore.client', input.ports.hubStore.client],
    ['hubStore.monitor', input.ports.hubStore.monitor],
  ];
  for (const m of input.members) {
    const p = input.ports.members[m.id];
    if (p === undefined) throw new BrokerError('INVALID_TOPOLOGY', `no ports for member ${m.id}`);
    all.push([`${m.id}.client`, p.client], [`${m.id}.monitor`, p.monitor]);
  }
  const seen = new Map<number, string>();
  for (const [what, port] of all) {
    if (port === undefined) continue;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new BrokerError('INVALID_TOPOLOGY', `port ${what} = ${port} is not a TCP port`);
    }
    const other = seen.get(port);
    if (other !== undefined) {
      throw new BrokerError('INVALID_TOPOLOGY', `ports ${other} and ${what} are both ${port}`);
    }
    seen.set(port, what);
  }
}

/**
 * Per account on the hub: what it exports (to exactly the accounts that read) and imports. Each
 * grant is the minimum a source consumer needs: consumer-create for exactly one stream, that
 * stream's flow-control replies, and the deliver prefix of one reader.
 */
function grants(members: readonly string[]): Map<string, { exports: string[]; imports: string[] }> {
  const acc = new Map<string, { exports: string[]; imports: string[] }>();
  const of = (id: string) => {
    let g = acc.get(id);
    if (!g) acc.set(id, (g = { exports: [], imports: [] }));
    return g;
  };
  const links = federationLinks(members);
  const streams = [...new Set(links.map((l) => `${l.origin}\u0000${l.stream}`))];
  for (const key of streams) {
    const [origin = '', stream = ''] = key.split('\u0000');
    const mine = links.filter((l) => l.origin === origin && l.stream === stream);
    const readers = mine.map((l) => accountName(l.reader)).join(', ');
    const create = `${jsApiPrefix(origin)}.CONSUMER.CREATE.${stream}`;
    const exporter = of(origin);
    exporter.exports.push(
      `{ service: ${q(create)}, accounts: [${readers}] }`,
      `{ service: ${q(`$JS.FC.${stream}.>`)}, accounts: [${readers}] }`,
    );
    for (const l of mine) {
      const from = accountName(origin);
      exporter.exports.push(
        `{ stream: ${q(`${l.deliver}.>`)}, accounts: [${accountName(l.reader)}] }`,
      );
      of(l.reader).imports.push(
        `{ service: { account: ${from}, subject: ${q(create)} } }`,
        `{ service: { account: ${from}, subject: ${q(`$JS.FC.${stream}.>`)} } }`,
        `{ stream: { account: ${from}, subject: ${q(`${l.deliver}.>`)} } }`,
      );
    }
  }
  return acc;
}

/** Publish allow-list of an application: its own subjects and its own domain's JetStream API. */
function appPublishAllow(self: string): string[] {
  return [
    `fed.v1.${self}.>`,
    '$JS.API.>',
    `${jsApiPrefix(self)}.>`,
    '$JS.ACK.>',
    `$JS.FC.${inboxStreamName(self)}.>`,
  ];
}

/** Name of the server that holds JetStream domain `hub`. */
export const HUB_STORE_SERVER = 'hub-store';

function clusterBlock(
  cluster: NonNullable<FederationTopologyInput['hubCluster']>,
  host: string,
  tls: FederationTls | undefined,
): string[] {
  return block('cluster', [
    `name: ${q(cluster.name)}`,
    `listen: ${q(`${host}:${cluster.port}`)}`,
    ...list(
      'routes',
      cluster.routes.map((r) => q(`${tls ? 'tls' : 'nats-route'}://${r}`)),
    ),
    ...(tls ? tlsBlock(tls, HUB, true) : []),
  ]);
}

function hubConfig(input: FederationTopologyInput, host: string): string {
  const tls = input.tls;
  const g = grants(input.members.map((m) => m.id));
  const section = (id: string, leafUser: string, password: string): string[] => {
    const mine = g.get(id) ?? { exports: [], imports: [] };
    return [
      ...list('users', [
        `{ user: ${q(leafUser)}, password: ${q(password)}, allowed_connection_types: ["LEAFNODE"] }`,
      ]),
      ...(mine.exports.length ? list('exports', mine.exports) : []),
      ...(mine.imports.length ? list('imports', mine.imports) : []),
    ];
  };
  const accounts: string[] = [
    ...block('SYS', []),
    '# A leaf that presents no credentials lands here and can reach nothing.',
    ...block('QUARANTINE', []),
    '# The hub application, behind its own leaf (hub-store, JetStream domain "hub").',
    ...block(accountName(HUB), section(HUB, `${HUB}-leaf`, input.hub.password)),
  ];
  for (const m of input.members) {
    accounts.push(
      `# Member ${m.id}: only its leaf may log in; it reaches only what is exported to it.`,
      ...block(accountName(m.id), section(m.id, `${m.id}-leaf`, m.password)),
    );
  }
  return [
    '# Generated by libs/broker generateFederationConfigs (pattern B2, docs/broker.md). Do not edit.',
    '# Hub core: routes between accounts, stores nothing (no JetStream on this server).',
    `server_name: ${q(HUB)}`,
    `listen: ${q(`${host}:${input.ports.hubClient}`)}`,
    ...(input.ports.hubMonitor === undefined
      ? []
      : [`http: ${q(`${host}:${input.ports.hubMonitor}`)}`]),
    ...(tls ? tlsBlock(tls, HUB, false) : []),
    ...block('leafnodes', [
      `listen: ${q(`${host}:${input.ports.hubLeaf}`)}`,
      '# Leafs without credentials are bound to the empty QUARANTINE account; leafs with',
      '# credentials are checked against the users of the accounts below.',
      'authorization { account: QUARANTINE }',
      ...(tls ? ['# Mutual TLS: a leaf must present a certificate of the federation CA.'] : []),
      ...(tls ? tlsBlock(tls, HUB, true) : []),
    ]),
    ...(input.hubCluster ? clusterBlock(input.hubCluster, host, tls) : []),
    'system_account: SYS',
    ...block('accounts', accounts),
    '',
  ].join('\n');
}

interface LeafSpec {
  /** member id or `hub` */
  id: string;
  serverName: string;
  leafPassword: string;
  appPassword: string;
  ports: { client: number; monitor?: number };
}

function leafConfig(input: FederationTopologyInput, host: string, spec: LeafSpec): string {
  const { id, ports } = spec;
  const acc = accountName(id);
  const tls = input.tls;
  const userInfo = `${encodeURIComponent(`${id}-leaf`)}:${encodeURIComponent(spec.leafPassword)}`;
  const leafUrls = (input.hubLeafHosts ?? [host]).map(
    (h) => `nats-leaf://${userInfo}@${/:\d+$/.test(h) ? h : `${h}:${input.ports.hubLeaf}`}`,
  );
  const remote =
    leafUrls.length === 1
      ? `url: ${q(leafUrls[0] ?? '')}`
      : `urls: [${leafUrls.map(q).join(', ')}]`;
  return [
    `# Generated by libs/broker generateFederationConfigs: leaf ${spec.serverName}, JetStream domain ${id}. Do not edit.`,
    `server_name: ${q(spec.serverName)}`,
    `listen: ${q(`${host}:${ports.client}`)}`,
    ...(ports.monitor === undefined ? [] : [`http: ${q(`${host}:${ports.monitor}`)}`]),
    ...(tls ? tlsBlock(tls, spec.serverName, false) : []),
    ...jetstreamBlock(id, input.storeDir(spec.serverName), input),
    ...block('accounts', [
      ...block(acc, [
        'jetstream: enabled',
        '# Reads are bounded by the account (it only receives what the hub exports to it);',
        "# publishing is allow-listed to this server's own subjects and its own JetStream.",
        ...list('users', [
          `{ user: ${q(`${id}-app`)}, password: ${q(spec.appPassword)}, ${permissions(appPublishAllow(id))} }`,
        ]),
      ]),
    ]),
    ...block('leafnodes', [
      'reconnect: 1',
      ...list('remotes', [
        `# binds local account ${acc} to hub account ${acc} (user ${id}-leaf)`,
        ...(tls
          ? [
              '{',
              ...indent([remote, `account: ${acc}`, ...tlsBlock(tls, spec.serverName, false)]),
              '}',
            ]
          : [`{ ${remote}, account: ${acc} }`]),
      ]),
    ]),
    '',
  ].join('\n');
}

/**
 * Generates the nats-server configs of a B2 federation: the hub core (accounts per member, HUB,
 * SYS, QUARANTINE; narrow exports/imports; no JetStream), the hub store (a leaf bound to account
 * HUB, JetStream domain `hub`) and one leaf per member (JetStream domain = member id, local account
 * bound to the member's hub account), plus the credentials each application uses.
 *
 * @throws BrokerError `INVALID_TOPOLOGY` on a bad member id, password or port set
 */
export function generateFederationConfigs(input: FederationTopologyInput): FederationConfigs {
  const host = input.host ?? '127.0.0.1';
  assertMembers(input.members.map((m) => m.id));
  assertPassword(input.hub.password, 'hub-leaf');
  if (input.hub.appPassword !== undefined) assertPassword(input.hub.appPassword, 'hub-app');
  for (const m of input.members) {
    assertPassword(m.password, `${m.id}-leaf`);
    if (m.appPassword !== undefined) assertPassword(m.appPassword, `${m.id}-app`);
  }
  assertPorts(input);
  const leaves: Record<string, string> = {};
  const nodeCredentials: Record<string, NatsCredentials> = {};
  for (const m of input.members) {
    const ports = input.ports.members[m.id] ?? { client: 0 };
    const appPassword = m.appPassword ?? m.password;
    leaves[m.id] = leafConfig(input, host, {
      id: m.id,
      serverName: m.id,
      leafPassword: m.password,
      appPassword,
      ports,
    });
    nodeCredentials[m.id] = {
      url: `nats://${host}:${ports.client}`,
      user: `${m.id}-app`,
      password: appPassword,
    };
  }
  const hubAppPassword = input.hub.appPassword ?? input.hub.password;
  return {
    hub: hubConfig(input, host),
    hubStore: leafConfig(input, host, {
      id: HUB,
      serverName: HUB_STORE_SERVER,
      leafPassword: input.hub.password,
      appPassword: hubAppPassword,
      ports: input.ports.hubStore,
    }),
    leaves,
    nodeCredentials,
    hubAppCredentials: {
      url: `nats://${host}:${input.ports.hubStore.client}`,
      user: `${HUB}-app`,
      password: hubAppPassword,
    },
  };
}
