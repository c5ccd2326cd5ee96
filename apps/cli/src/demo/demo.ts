import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_MEMBERS,
  NODE_PROCESS_FLAGS,
  nodeEnv,
  provisionFederation,
  type DevMember,
} from '../../../../libs/devnet/src/index.js';
import { issueApiToken, type ApiRole } from '../../../../libs/keystore/src/index.js';
import { importPrivateKey, toRfc3339Ms } from '../../../../libs/protocol/src/index.js';
import {
  freePorts,
  natsServerBinary,
  startFederation,
  type Federation,
} from '../../../../libs/testing/src/index.js';
import { spawnNode, waitHealthy, type NodeProcess } from './node-process.js';
import { buildSample, readSampleData, type SampleItem, type SampleSize } from './sample.js';

/** Roles the demo issues a token for, per node. */
export const DEMO_ROLES = [
  'analyst',
  'supervisor',
  'auditor',
  'admin',
] as const satisfies readonly ApiRole[];

/** Lifetime of the demo's API tokens. */
export const DEMO_TOKEN_TTL_SECONDS = 12 * 3600;

/** The demo was asked to stop before it was ready; everything it had started is stopped. */
export class DemoInterrupted extends Error {
  override readonly name = 'DemoInterrupted';
  constructor() {
    super('interrupted during start-up; everything started so far is stopped');
  }
}

/** Marker written into a demo data folder: only such a folder is ever wiped. */
const MARKER = '.fedctl-demo';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** everything goes below it (wiped first): keys, nats, one SQLite file and log per node */
  dataDir: string;
  /** member ids; default kr, vn, th */
  members?: string[];
  /** sample records to load; default `full` */
  sample?: SampleSize;
  /** aborting stops whatever is running (during start-up too) */
  signal?: AbortSignal;
  /** one line of progress at a time; default: nothing */
  log?: (line: string) => void;
  /** the compiled node entry; default `<repo>/dist/apps/node/src/main.js` */
  nodeEntry?: string;
  /** the compiled hub entry; default `<repo>/dist/apps/hub/src/main.js` */
  hubEntry?: string;
  /** reference data; default `<repo>/../shared/data` */
  sampleDataDir?: string;
  /** how long to wait for records to cross borders; default 60 s */
  deliveryTimeoutMs?: number;
}

/** One member's entry in `federation.json`. */
export interface DemoMemberInfo {
  api: string;
  docs: string;
  health: string;
  httpPort: number;
  natsUrl: string;
  natsMonitorUrl: string | undefined;
  database: string;
  log: string;
  keysFile: string;
  tokens: Record<(typeof DEMO_ROLES)[number], string>;
  tokensExpireAt: string;
}

/** Roles the demo issues a hub API token for. */
export const HUB_DEMO_ROLES = ['hub-operator', 'auditor'] as const satisfies readonly ApiRole[];

/** The hub application's entry in `federation.json`. */
export interface DemoHubInfo {
  api: string;
  docs: string;
  /** TAXII 2.1 discovery URL (samples/interop/hub-taxii.json), when the sample config is present */
  taxii?: string;
  health: string;
  httpPort: number;
  database: string;
  log: string;
  tokens: Record<(typeof HUB_DEMO_ROLES)[number], string>;
  tokensExpireAt: string;
}

/** The content of `<dataDir>/federation.json`: how scripts and tools reach the demo. */
export interface FederationFile {
  dataDir: string;
  startedAt: string;
  directoryFile: string;
  governanceKeysFile: string;
  hub: {
    natsClientPort: number;
    natsLeafPort: number;
    natsMonitorUrl: string | undefined;
    storeClientPort: number;
    storeNatsUrl: string;
  } & DemoHubInfo;
  members: Record<string, DemoMemberInfo>;
}

/** Records of one origin that crossed to one recipient. */
export interface Crossing {
  origin: string;
  recipient: string;
  /** disclosed by the origin's policy (the sharing outcome of each create) */
  sent: number;
  /** seen at the recipient's API; undefined for the hub, which runs no application here */
  received: number | undefined;
  /** records sent per agreement the origin's policy cited */
  byAgreement: Record<string, number>;
}

/** A demo federation that is up, loaded and reachable. */
export interface RunningDemo {
  file: string;
  federation: FederationFile;
  crossings: Crossing[];
  /** records in scope for a recipient that the origin's policy refused, by refusal reason */
  withheld: { origin: string; recipient: string; byReason: Record<string, number> }[];
  /** records created per member */
  created: Record<string, number>;
  /** what the hub made of it: aggregates, cross-border networks, successor flags */
  hubView: { aggregates: number; networks: number; successors: number };
  /** Stops the nodes (SIGTERM, SIGKILL after 5 s), then every nats-server. Idempotent. */
  stop(): Promise<void>;
}

/** The repository root: the nearest folder above this file with the workspace package.json. */
export function repoRoot(from = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'apps'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the repository root above ${from}`);
    dir = up;
  }
}

/** Clear `dir` for a new demo; refuse a non-empty folder that a demo did not create. */
function prepareDataDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) {
    throw new Error(
      `${dir} is not empty and was not created by "fedctl demo"; refusing to wipe it`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'created by fedctl demo; wiped at every start\n');
}

function assertNatsServer(): void {
  const bin = natsServerBinary();
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `nats-server not found (tried ${bin}; set NATS_SERVER_BIN to override). Install it with ` +
        '"node scripts/ensure-nats.mjs" (npm run demo does this) or ' +
        '"sudo apt-get update && sudo apt-get install -y nats-server".',
    );
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Start a local federation (hub NATS, a leaf per member, one node process per member with its own
 * SQLite file), load sample records through the nodes' REST APIs, wait until they have crossed,
 * and write `<dataDir>/federation.json`. Resolves when everything is ready.
 */
export async function runDemo(opts: DemoOptions): Promise<RunningDemo> {
  const log = opts.log ?? (() => undefined);
  const dataDir = resolve(opts.dataDir);
  const memberIds = opts.members ?? DEFAULT_MEMBERS.map((m) => m.id);
  const root = opts.nodeEntry && opts.sampleDataDir ? undefined : repoRoot();
  const nodeEntry = opts.nodeEntry ?? join(root ?? '', 'dist/apps/node/src/main.js');
  const hubEntry = opts.hubEntry ?? join(root ?? repoRoot(), 'dist/apps/hub/src/main.js');
  for (const entry of [nodeEntry, hubEntry]) {
    if (!existsSync(entry)) {
      throw new Error(`compiled application not found at ${entry}: run "npm run build" first`);
    }
  }
  assertNatsServer();
  prepareDataDir(dataDir);

  const nodes: NodeProcess[] = [];
  let brokers: Federation | undefined;
  let stopping: Promise<void> | undefined;
  const killOnExit = () => {
    for (const n of nodes) if (n.running && n.pid !== undefined) process.kill(n.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(nodes.map((n) => n.stop(5_000)));
      await brokers?.stop();
      process.removeListener('exit', killOnExit);
    })());
  const onAbort = () => void stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new DemoInterrupted();
  };

  try {
    const now = new Date();
    const devMembers: DevMember[] = memberIds.map(
      (id) =>
        DEFAULT_MEMBERS.find((m) => m.id === id) ?? {
          id,
          country: id.toUpperCase().slice(0, 2),
          name: `${id.toUpperCase()} agency (demo)`,
        },
    );
    const fed = await provisionFederation({ dir: join(dataDir, 'keys'), now, members: devMembers });
    log(
      `directory signed: ${memberIds.length} members, hub, agreements ${fed.directory.agreements.map((a) => a.id).join(', ')}`,
    );
    checkAbort();
    brokers = await startFederation({ members: memberIds, dir: join(dataDir, 'nats') });
    log(
      `nats: hub on 127.0.0.1:${brokers.hub.clientPort}, leaf per member (${memberIds.join(', ')})`,
    );
    checkAbort();

    const ports = await freePorts(memberIds.length + 1);
    const info: Record<string, DemoMemberInfo> = {};
    const expires = new Date(now.getTime() + DEMO_TOKEN_TTL_SECONDS * 1000);
    for (const [i, id] of memberIds.entries()) {
      const httpPort = ports[i] ?? 0;
      const creds = brokers.nodeCredentials[id];
      const keys = fed.members[id]?.keys;
      if (!creds || !keys) throw new Error(`no credentials or keys for ${id}`);
      const database = join(dataDir, `${id}.sqlite`);
      const url = `http://127.0.0.1:${httpPort}`;
      const env = {
        ...nodeEnv({ fed, id, httpPort, database: `sqlite:${database}`, nats: creds }),
        FEDINTEL_RELAY_INTERVAL_MS: '100',
      };
      nodes.push(
        spawnNode({
          id,
          entry: nodeEntry,
          env,
          url,
          logFile: join(dataDir, `${id}.log`),
          nodeArgs: NODE_PROCESS_FLAGS,
        }),
      );
      const key = importPrivateKey(keys.api.privateJwk, 'Ed25519');
      const tokens = {} as DemoMemberInfo['tokens'];
      for (const role of DEMO_ROLES) {
        tokens[role] = await issueApiToken({
          memberId: id,
          subject: `${role}.demo`,
          roles: [role],
          kid: keys.api.kid,
          key,
          now,
          ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
        });
      }
      const leaf = brokers.leaves[id];
      info[id] = {
        api: `${url}/api/v1`,
        docs: `${url}/api/docs`,
        health: `${url}/health`,
        httpPort,
        natsUrl: creds.url,
        natsMonitorUrl: leaf?.monitorPort ? `http://127.0.0.1:${leaf.monitorPort}` : undefined,
        database,
        log: join(dataDir, `${id}.log`),
        keysFile: fed.members[id]?.keysFile ?? '',
        tokens,
        tokensExpireAt: toRfc3339Ms(expires),
      };
    }
    const hubInfo = await spawnHub({
      fed,
      brokers,
      entry: hubEntry,
      httpPort: ports[memberIds.length] ?? 0,
      dataDir,
      now,
      expires,
      nodes,
      taxiiConfig: [join(root ?? repoRoot(), 'samples/interop/hub-taxii.json')].find((f) =>
        existsSync(f),
      ),
    });
    await Promise.all(nodes.map((n) => waitHealthy(n)));
    log(`nodes up: ${memberIds.join(', ')}; hub up at ${hubInfo.api}`);
    checkAbort();

    const federation: FederationFile = {
      dataDir,
      startedAt: toRfc3339Ms(now),
      directoryFile: fed.directoryFile,
      governanceKeysFile: fed.governanceKeysFile,
      hub: {
        natsClientPort: brokers.hub.clientPort,
        natsLeafPort: brokers.hubLeafPort,
        natsMonitorUrl: brokers.hub.monitorPort
          ? `http://127.0.0.1:${brokers.hub.monitorPort}`
          : undefined,
        storeClientPort: brokers.hubStore.clientPort,
        storeNatsUrl: brokers.hubAppCredentials.url,
        ...hubInfo,
      },
      members: info,
    };

    const sampleDir = opts.sampleDataDir ?? join(root ?? '', '..', 'shared', 'data');
    const data = readSampleData(sampleDir);
    if (data.source === undefined && (opts.sample ?? 'full') !== 'none') {
      log(`no reference data at ${sampleDir}: using a few built-in domains`);
    }
    const items = buildSample(data, memberIds, opts.sample ?? 'full');
    const { created, sent, withheld } = await loadSample(items, info);
    log(
      `loaded ${items.length} records: ${Object.entries(created)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')}`,
    );
    checkAbort();

    const crossings = await awaitDelivery(
      sent,
      info,
      opts.deliveryTimeoutMs ?? 60_000,
      opts.signal,
    );
    const hubView = await awaitHub(
      hubInfo,
      items.some((i) => i.key === 'net-successor'),
      opts.deliveryTimeoutMs ?? 60_000,
      opts.signal,
    );
    log(
      `hub: ${hubView.aggregates} aggregates, ${hubView.networks} cross-border networks, ${hubView.successors} successor flags`,
    );
    const file = join(dataDir, 'federation.json');
    writeFileSync(file, `${JSON.stringify(federation, null, 2)}\n`, { mode: 0o600 });
    return {
      file,
      federation,
      crossings,
      withheld: [...withheld.entries()].map(([k, byReason]) => {
        const [origin = '', recipient = ''] = k.split('>');
        return { origin, recipient, byReason };
      }),
      created,
      hubView,
      stop,
    };
  } catch (e) {
    await stop();
    // Stopping kills nodes that are starting, so their failure is a symptom, not the news.
    if (opts.signal?.aborted) throw new DemoInterrupted();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Spawn the hub application (own SQLite file, hub keys, the hub store's NATS) and its tokens. */
async function spawnHub(p: {
  fed: Awaited<ReturnType<typeof provisionFederation>>;
  brokers: Federation;
  entry: string;
  httpPort: number;
  dataDir: string;
  now: Date;
  expires: Date;
  nodes: NodeProcess[];
  /** TAXII collections config for the hub (the sample file), or undefined for none */
  taxiiConfig?: string;
}): Promise<DemoHubInfo> {
  const keys = p.fed.members.hub?.keys;
  const keysFile = p.fed.members.hub?.keysFile;
  if (!keys || !keysFile) throw new Error('no hub keys provisioned');
  const creds = p.brokers.hubAppCredentials;
  const database = join(p.dataDir, 'hub.sqlite');
  const url = `http://127.0.0.1:${p.httpPort}`;
  const logFile = join(p.dataDir, 'hub.log');
  const hub = spawnNode({
    id: 'hub',
    entry: p.entry,
    url,
    logFile,
    env: {
      FEDINTEL_HTTP_PORT: String(p.httpPort),
      FEDINTEL_HTTP_HOST: '127.0.0.1',
      FEDINTEL_DATABASE_URL: `sqlite:${database}`,
      FEDINTEL_NATS_URL: creds.url,
      FEDINTEL_NATS_USER: creds.user,
      FEDINTEL_NATS_PASSWORD: creds.password,
      FEDINTEL_KEYS_FILE: keysFile,
      FEDINTEL_DIRECTORY_FILE: p.fed.directoryFile,
      FEDINTEL_GOVERNANCE_KEYS_FILE: p.fed.governanceKeysFile,
      FEDINTEL_HUB_PASS_INTERVAL_MS: '200',
      ...(p.taxiiConfig ? { FEDINTEL_HUB_TAXII_CONFIG: p.taxiiConfig } : {}),
    },
  });
  p.nodes.push(hub);
  const key = importPrivateKey(keys.api.privateJwk, 'Ed25519');
  const tokens = {} as DemoHubInfo['tokens'];
  for (const role of HUB_DEMO_ROLES) {
    tokens[role] = await issueApiToken({
      memberId: 'hub',
      subject: `${role}.demo`,
      roles: [role],
      kid: keys.api.kid,
      key,
      now: p.now,
      ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
    });
  }
  return {
    api: `${url}/api/v1`,
    docs: `${url}/docs`,
    ...(p.taxiiConfig ? { taxii: `${url}/taxii2/` } : {}),
    health: `${url}/health`,
    httpPort: p.httpPort,
    database,
    log: logFile,
    tokens,
    tokensExpireAt: toRfc3339Ms(p.expires),
  };
}

/** Poll the hub until it shows a network (and a successor flag when the sample has one). */
async function awaitHub(
  hub: DemoHubInfo,
  expectSuccessor: boolean,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RunningDemo['hubView']> {
  const deadline = Date.now() + timeoutMs;
  const view = { aggregates: 0, networks: 0, successors: 0 };
  const count = async (path: string): Promise<number> => {
    const r = await api(`${hub.api}${path}`, hub.tokens['hub-operator'], { purpose: 'analysis' });
    return r.status === 200 ? (r.body as { items: unknown[] }).items.length : 0;
  };
  for (;;) {
    try {
      view.aggregates = await count('/aggregates?limit=500');
      view.networks = await count('/networks?limit=500');
      view.successors = await count('/successors?limit=500');
    } catch {
      // the next round asks again
    }
    const done = view.networks > 0 && (!expectSuccessor || view.successors > 0);
    if (done || Date.now() > deadline || signal?.aborted) return view;
    await sleep(250);
  }
}

async function api(
  url: string,
  token: string,
  init: { method?: string; body?: unknown; purpose?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      // Reads of records state their purpose (docs/audit.md); the node logs it.
      ...(init.purpose ? { 'x-purpose': init.purpose } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  const body: unknown = await res.json();
  return { status: res.status, body };
}

interface CreateResponse {
  indicator: { id: string };
  sharing: { recipient: string; disclosed: boolean; agreementId?: string; reason?: string }[];
}

/**
 * Create the items through each node's REST API (members in parallel, items of one member in
 * order so relations find their targets' ids) and count, per border, what the origin's policy
 * disclosed.
 */
async function loadSample(
  items: SampleItem[],
  info: Record<string, DemoMemberInfo>,
): Promise<{
  created: Record<string, number>;
  sent: Map<string, Record<string, number>>;
  withheld: Map<string, Record<string, number>>;
}> {
  const created: Record<string, number> = {};
  const sent = new Map<string, Record<string, number>>();
  const withheld = new Map<string, Record<string, number>>();
  const count = (m: Map<string, Record<string, number>>, k: string, why: string) => {
    const byWhy = m.get(k) ?? {};
    byWhy[why] = (byWhy[why] ?? 0) + 1;
    m.set(k, byWhy);
  };
  const members = [...new Set(items.map((i) => i.member))];
  await Promise.all(
    members.map(async (member) => {
      const m = info[member];
      if (!m) throw new Error(`sample item for unknown member ${member}`);
      const ids = new Map<string, string>();
      created[member] = 0;
      for (const item of items.filter((i) => i.member === member)) {
        const relations = (item.links ?? []).flatMap((l) => {
          const target = ids.get(l.to);
          return target ? [{ type: l.type, target, targetOrigin: member }] : [];
        });
        const body = relations.length > 0 ? { ...item.body, relations } : item.body;
        const r = await api(`${m.api}/indicators`, m.tokens.analyst, { method: 'POST', body });
        if (r.status !== 201) {
          throw new Error(
            `${member}: creating ${item.body.type} ${item.body.value} failed (HTTP ${r.status}): ${JSON.stringify(r.body)}`,
          );
        }
        const res = r.body as CreateResponse;
        ids.set(item.key, res.indicator.id);
        created[member] = (created[member] ?? 0) + 1;
        for (const s of res.sharing) {
          const k = `${member}>${s.recipient}`;
          if (s.disclosed) count(sent, k, s.agreementId ?? 'unknown');
          else count(withheld, k, s.reason ?? 'unknown');
        }
      }
    }),
  );
  return { created, sent, withheld };
}

/** Poll each recipient's API until it holds what each origin sent it (or the timeout passes). */
async function awaitDelivery(
  sent: Map<string, Record<string, number>>,
  info: Record<string, DemoMemberInfo>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Crossing[]> {
  const crossings: Crossing[] = [...sent.entries()]
    .map(([k, byAgreement]) => {
      const [origin = '', recipient = ''] = k.split('>');
      const n = Object.values(byAgreement).reduce((a, b) => a + b, 0);
      return { origin, recipient, sent: n, received: info[recipient] ? 0 : undefined, byAgreement };
    })
    .sort((a, b) => a.origin.localeCompare(b.origin) || a.recipient.localeCompare(b.recipient));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const c of crossings) {
      const m = info[c.recipient];
      if (!m || (c.received ?? 0) >= c.sent) continue;
      try {
        const r = await api(`${m.api}/indicators?origin=${c.origin}&pageSize=1`, m.tokens.analyst, {
          purpose: 'quality-review:demo',
        });
        if (r.status === 200) c.received = (r.body as { total: number }).total;
      } catch {
        // the next round asks again
      }
      if ((c.received ?? 0) < c.sent) pending++;
    }
    if (pending === 0 || Date.now() > deadline || signal?.aborted) return crossings;
    await sleep(250);
  }
}

/** The human summary the CLI prints once the demo is ready. */
export function describeDemo(d: RunningDemo): string[] {
  const lines: string[] = ['', 'What crossed which border:'];
  const width = Math.max(...d.crossings.map((c) => `${c.origin} → ${c.recipient}`.length), 10);
  for (const c of d.crossings) {
    const border = `${c.origin} → ${c.recipient}`.padEnd(width);
    const why = Object.entries(c.byAgreement)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
    if (c.received === undefined) {
      lines.push(
        `  ${border}  ${String(c.sent).padStart(3)} records  [${why}]  aggregated by the hub`,
      );
    } else {
      const short =
        c.received < c.sent
          ? `  ONLY ${c.received} OF ${c.sent} ARRIVED IN TIME`
          : '  verified at the recipient';
      lines.push(
        `  ${border}  ${String(Math.min(c.received, c.sent)).padStart(3)} records  [${why}]${short}`,
      );
    }
  }
  if (d.crossings.length === 0) lines.push('  nothing (no sample data loaded)');
  for (const w of d.withheld) {
    const why = Object.entries(w.byReason)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    lines.push(
      `  ${`${w.origin} ↛ ${w.recipient}`.padEnd(width)}  withheld by the origin's policy: ${why}`,
    );
  }
  lines.push('', 'Nodes:');
  for (const [id, m] of Object.entries(d.federation.members)) {
    lines.push(
      `  ${id.toUpperCase()}  API ${m.api}   docs ${m.docs}   (${d.created[id] ?? 0} own records)`,
    );
  }
  const hub = d.federation.hub;
  lines.push(
    '',
    `Hub (Interpol): API ${hub.api}   docs ${hub.docs}   ${d.hubView.aggregates} aggregates, ${d.hubView.networks} cross-border networks, ${d.hubView.successors} successor flags`,
    `  curl -H "Authorization: Bearer $(jq -r '.hub.tokens["hub-operator"]' ${d.file})" -H 'X-Purpose: analysis' ${hub.api}/networks`,
  );
  lines.push(
    '',
    `Endpoints, ports and API tokens (analyst, supervisor, auditor, admin; hub-operator, auditor at the hub): ${d.file}`,
    `Try: curl -H "X-Purpose: analysis" -H "Authorization: Bearer $(jq -r .members.vn.tokens.analyst ${d.file})" "${d.federation.members.vn?.api ?? '<vn api>'}/indicators?origin=kr"`,
  );
  return lines;
}
