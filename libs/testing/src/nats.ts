import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import {
  HUB,
  HUB_STORE_SERVER,
  generateFederationConfigs,
  provisionStreams,
  streamPlan,
  type FederationConfigs,
  type FederationTopologyInput,
  type NatsCredentials,
  type StreamPlanOptions,
} from '../../broker/src/index.js';

/**
 * Test harness that runs real nats-server processes: one server, or a whole B2 federation (hub plus
 * one leaf per member) with its streams provisioned. Servers are stopped by PID only, never by name.
 */

const POLL_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every 20 ms until it returns true; throws after `timeoutMs` naming `what`. A check
 * that throws counts as "not yet", so it can probe servers that are still starting.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await sleep(POLL_MS);
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; the port is released before returning). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port ?? 0;
}

/**
 * `n` distinct free TCP ports. All are held open until every one is chosen, so they differ from
 * each other; another process may still take one before the caller binds it (rare on a test box).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const srv = createServer();
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** True when something accepts TCP connections on host:port. */
export function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/** Path of the nats-server binary: `$NATS_SERVER_BIN`, else Debian's `/usr/sbin/nats-server`, else PATH. */
export function natsServerBinary(): string {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** server name; also the base name of `<dir>/<name>.conf` and `<dir>/<name>.log` */
  name: string;
  /** full nats-server config text */
  configText: string;
  /** directory for the config and log files (created if missing) */
  dir: string;
  /** client port to wait for; parsed from the top-level `listen:` line when absent */
  clientPort?: number;
  /** monitoring port; parsed from the top-level `http:` line when absent */
  monitorPort?: number;
  /**
   * leaf connections to wait for (the server's own `/leafz`); by default the number of
   * `nats-leaf://` remotes in the config. Needs a monitoring port.
   */
  leafConnections?: number;
  /** start-up timeout, default 10 s */
  timeoutMs?: number;
}

/** A nats-server process started by {@link startNatsServer}. */
export interface RunningServer {
  readonly name: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly clientPort: number;
  readonly monitorPort: number | undefined;
  /** PID of the current process; undefined while stopped */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL if the process has not exited after `timeoutMs` (default 5 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: a crash, no clean shutdown. */
  kill(): Promise<void>;
  /** Stops the process if it runs, then starts it again with the same config and waits until ready. */
  restart(): Promise<void>;
  /** GET a monitoring endpoint (`/varz`, `/leafz`, `/jsz`...) and parse the JSON. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T>;
  /** The server's log so far (stdout and stderr). */
  log(): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A crashed test run must not leave servers behind: SIGKILL our own children, by PID, on exit. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

function topLevelPort(configText: string, key: string): number | undefined {
  const m = new RegExp(`^${key}\\s*[:=]\\s*"?[^"\\n]*?:(\\d+)"?\\s*$`, 'm').exec(configText);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

class NatsServerProcess implements RunningServer {
  readonly configPath: string;
  readonly logPath: string;
  readonly clientPort: number;
  readonly monitorPort: number | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly opts: StartNatsServerOptions,
  ) {
    mkdirSync(opts.dir, { recursive: true });
    this.configPath = join(opts.dir, `${opts.name}.conf`);
    this.logPath = join(opts.dir, `${opts.name}.log`);
    const client = opts.clientPort ?? topLevelPort(opts.configText, 'listen');
    if (client === undefined) throw new Error(`${opts.name}: no client port in config or options`);
    this.clientPort = client;
    this.monitorPort = opts.monitorPort ?? topLevelPort(opts.configText, 'http');
    writeFileSync(this.configPath, opts.configText);
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fd = openSync(this.logPath, 'a');
    const child = spawn(natsServerBinary(), ['-c', this.configPath], {
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    live.add(child);
    installExitHook();
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        resolve();
      });
      child.once('error', () => {
        live.delete(child);
        resolve();
      });
    });
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const alive = () => {
      if (!this.running) {
        throw new Error(`${this.name} exited during start-up; log:\n${this.tail()}`);
      }
    };
    try {
      await waitFor(
        async () => {
          alive();
          return portAccepts(this.clientPort);
        },
        timeoutMs,
        `${this.name} client port ${this.clientPort}`,
      );
      const leafs =
        this.opts.leafConnections ?? (this.opts.configText.match(/nats-leaf:\/\//g) ?? []).length;
      if (leafs > 0) {
        if (this.monitorPort === undefined) {
          throw new Error(`${this.name}: waiting for leaf connections needs a monitoring port`);
        }
        await waitFor(
          async () => {
            alive();
            return (await this.monitor<{ leafnodes?: number }>('/leafz')).leafnodes === leafs;
          },
          timeoutMs,
          `${this.name} leaf connections (${leafs})`,
        );
      }
    } catch (e) {
      if (this.running) await this.kill();
      throw e;
    }
  }

  async stop(timeoutMs = 5_000): Promise<void> {
    const child = this.child;
    if (!this.running || child?.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!done && this.running) {
      process.kill(child.pid, 'SIGKILL');
      await this.exited;
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!this.running || child?.pid === undefined) return;
    process.kill(child.pid, 'SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async monitor<T = Record<string, unknown>>(path: string): Promise<T> {
    if (this.monitorPort === undefined) throw new Error(`${this.name} has no monitoring port`);
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!res.ok) throw new Error(`${this.name} ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  private tail(): string {
    return this.log().split('\n').slice(-20).join('\n');
  }
}

/**
 * Writes `<dir>/<name>.conf`, spawns `nats-server -c` (output appended to `<dir>/<name>.log`) and
 * resolves once the client port accepts connections and, for a server with leaf remotes, once its
 * `/leafz` shows every leaf connection up. Rejects (after killing the process) on timeout or early exit.
 */
export async function startNatsServer(opts: StartNatsServerOptions): Promise<RunningServer> {
  const server = new NatsServerProcess(opts.name, opts);
  await server.start();
  return server;
}

/** Options of {@link startFederation}. */
export interface StartFederationOptions {
  /** member ids, e.g. `['kr', 'vn', 'th']` */
  members: string[];
  /** working directory: configs, logs and JetStream stores go below it */
  dir: string;
  /** stream retention and replicas, passed to `streamPlan` */
  streams?: StreamPlanOptions;
}

/** A running B2 federation: hub, leaves, credentials and a way to stop it all. */
export interface Federation {
  readonly dir: string;
  readonly members: readonly string[];
  /** the hub core: accounts and grants, no JetStream */
  readonly hub: RunningServer;
  /** the hub's JetStream server (domain `hub`), a leaf of the hub core; the hub application's server */
  readonly hubStore: RunningServer;
  /** one leaf per member id */
  readonly leaves: Readonly<Record<string, RunningServer>>;
  /** the generated configs (also written to `<dir>/<name>.conf`) */
  readonly configs: FederationConfigs;
  /** how each member's node application connects to its own leaf */
  readonly nodeCredentials: Readonly<Record<string, NatsCredentials>>;
  /** how the hub application connects to the hub */
  readonly hubAppCredentials: NatsCredentials;
  /** hub leaf-node port (for hand-written rogue leaves in tests) */
  readonly hubLeafPort: number;
  /** JetStream store directory of a server (`hub-store` or a member id) */
  storeDir(serverName: string): string;
  /** A client connection to `id`'s leaf as its node application (closed by `stop()`). */
  connectNode(id: string, opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** A client connection to the hub as the hub application (closed by `stop()`). */
  connectHub(opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /**
   * Onboarding at the broker level: regenerates every config with `id` added (existing passwords
   * and ports kept), restarts the hub core with it (it holds no state; leaves reconnect), starts
   * the new member's leaf and provisions its streams and the hub store's. The other members' nodes
   * provision their own new sources when they adopt the new directory.
   */
  addMember(id: string): Promise<RunningServer>;
  /**
   * Removal at the broker level: regenerates the hub config without `id` and restarts the hub
   * core, so the member's leaf can no longer connect. Its leaf keeps running, cut off.
   */
  removeMember(id: string): Promise<void>;
  /** Closes the connections it opened, then stops the leaves and the hub. */
  stop(): Promise<void>;
}

/** Connects with credentials and a reconnect policy that survives server restarts in tests. */
export function connectWith(
  creds: NatsCredentials,
  opts: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  return connect({
    servers: creds.url,
    user: creds.user,
    pass: creds.password,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
    ...opts,
  });
}

const password = () => randomBytes(18).toString('base64url');

/**
 * Starts a B2 federation on free ports: generates the configs (random plaintext passwords), starts
 * the hub core, then the hub store and every member leaf in parallel, waits until the hub core
 * sees every leaf, and provisions every
 * server's streams (all outboxes first, so the inboxes' sources find them at once).
 */
export async function startFederation(opts: StartFederationOptions): Promise<Federation> {
  const { members, dir } = opts;
  const ports = await freePorts(5 + 2 * members.length);
  const take = () => ports.shift() ?? 0;
  const hubClient = take();
  const hubLeaf = take();
  const hubMonitor = take();
  const hubStore = { client: take(), monitor: take() };
  const memberPorts: Record<string, { client: number; monitor: number }> = {};
  for (const m of members) memberPorts[m] = { client: take(), monitor: take() };
  const storeDir = (serverName: string) => join(dir, 'data', serverName);
  const topology: FederationTopologyInput = {
    members: members.map((id) => ({ id, password: password(), appPassword: password() })),
    hub: { password: password(), appPassword: password() },
    ports: { hubClient, hubLeaf, hubMonitor, hubStore, members: memberPorts },
    storeDir,
  };
  let configs = generateFederationConfigs(topology);

  const started: RunningServer[] = [];
  const connections: NatsConnection[] = [];
  const stopAll = async () => {
    await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
    const leaves = started.filter((s) => s.name !== HUB);
    await Promise.all(leaves.map((s) => s.stop()));
    await Promise.all(started.filter((s) => s.name === HUB).map((s) => s.stop()));
  };

  try {
    const hub = await startNatsServer({ name: HUB, configText: configs.hub, dir });
    started.push(hub);
    await waitFor(() => portAccepts(hubLeaf), 5_000, 'hub leaf port');
    const leafList = await Promise.all(
      [...members, HUB_STORE_SERVER].map(async (m) => {
        const configText = m === HUB_STORE_SERVER ? configs.hubStore : (configs.leaves[m] ?? '');
        const leaf = await startNatsServer({ name: m, configText, dir });
        started.push(leaf);
        return [m, leaf] as const;
      }),
    );
    const leaves = Object.fromEntries(leafList.filter(([m]) => m !== HUB_STORE_SERVER));
    const store = leafList.find(([m]) => m === HUB_STORE_SERVER)?.[1];
    if (!store) throw new Error('hub store did not start');
    await waitFor(
      async () =>
        (await hub.monitor<{ leafnodes?: number }>('/leafz')).leafnodes === members.length + 1,
      5_000,
      'hub sees every leaf',
    );

    const current = [...members];
    const restartHub = async (expectedLeaves: number) => {
      writeFileSync(hub.configPath, configs.hub);
      await hub.restart();
      await waitFor(
        async () =>
          (await hub.monitor<{ leafnodes?: number }>('/leafz')).leafnodes === expectedLeaves,
        20_000,
        'hub sees every leaf after its restart',
      );
    };
    const fed: Federation = {
      dir,
      get members() {
        return [...current];
      },
      hub,
      hubStore: store,
      leaves,
      get configs() {
        return configs;
      },
      get nodeCredentials() {
        return configs.nodeCredentials;
      },
      hubAppCredentials: configs.hubAppCredentials,
      hubLeafPort: hubLeaf,
      storeDir,
      async addMember(id) {
        if (current.includes(id)) throw new Error(`${id} is already a member`);
        const [client = 0, monitor = 0] = await freePorts(2);
        topology.members.push({ id, password: password(), appPassword: password() });
        topology.ports.members[id] = { client, monitor };
        current.push(id);
        configs = generateFederationConfigs(topology);
        // every earlier member's leaf and the hub store reconnect; the new leaf starts after
        await restartHub(current.length);
        const leaf = await startNatsServer({ name: id, configText: configs.leaves[id] ?? '', dir });
        started.push(leaf);
        (leaves as Record<string, RunningServer>)[id] = leaf;
        await waitFor(
          async () =>
            (await hub.monitor<{ leafnodes?: number }>('/leafz')).leafnodes === current.length + 1,
          20_000,
          `hub sees the leaf of ${id}`,
        );
        const [nc, hubNc] = await Promise.all([fed.connectNode(id), fed.connectHub()]);
        const own = streamPlan(current, id, opts.streams);
        await provisionStreams(
          nc,
          own.filter((p) => p.role === 'outbox'),
        );
        await provisionStreams(hubNc, streamPlan(current, HUB, opts.streams));
        await provisionStreams(
          nc,
          own.filter((p) => p.role === 'inbox'),
        );
        return leaf;
      },
      async removeMember(id) {
        const i = current.indexOf(id);
        if (i < 0) throw new Error(`${id} is not a member`);
        current.splice(i, 1);
        topology.members = topology.members.filter((m) => m.id !== id);
        configs = generateFederationConfigs(topology);
        await restartHub(current.length + 1);
      },
      async connectNode(id, connOpts) {
        const creds = configs.nodeCredentials[id];
        if (!creds) throw new Error(`no member ${id}`);
        const nc = await connectWith(creds, { name: `test-${id}`, ...connOpts });
        connections.push(nc);
        return nc;
      },
      async connectHub(connOpts) {
        const nc = await connectWith(configs.hubAppCredentials, { name: 'test-hub', ...connOpts });
        connections.push(nc);
        return nc;
      },
      stop: stopAll,
    };

    const servers = [...members, HUB];
    const ncs = await Promise.all(
      servers.map((s) => (s === HUB ? fed.connectHub() : fed.connectNode(s))),
    );
    const plans = servers.map((s) => streamPlan(members, s, opts.streams));
    await Promise.all(
      ncs.map((nc, i) =>
        provisionStreams(
          nc,
          (plans[i] ?? []).filter((p) => p.role === 'outbox'),
        ),
      ),
    );
    await Promise.all(
      ncs.map((nc, i) =>
        provisionStreams(
          nc,
          (plans[i] ?? []).filter((p) => p.role === 'inbox'),
        ),
      ),
    );
    return fed;
  } catch (e) {
    await stopAll();
    throw e;
  }
}
