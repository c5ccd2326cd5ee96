import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNodeConfig } from '../../apps/node/src/config/node.config.js';
import { parseFlowYaml } from './flow-yaml.js';

/** Kubernetes manifests are parsed and checked against the node's own code (no cluster here). */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Labels = Record<string, string>;
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Item {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  data?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Labels } & Labels;
    replicas?: number;
    template?: { metadata: { labels: Labels }; spec: { containers: Container[] } };
    podSelector?: { matchLabels: Labels };
    ingress?: { from?: unknown[]; ports?: { port: number }[] }[];
    egress?: { to?: unknown[]; ports?: { port: number }[] }[];
  };
}

function items(file: string): Item[] {
  const doc = parseFlowYaml(readFileSync(join(root, 'deploy', 'k8s', file), 'utf8')) as unknown as {
    kind: string;
    items: Item[];
  };
  expect(doc.kind).toBe('List');
  return doc.items;
}

const member = items('member.yaml');
const hub = items('hub.yaml');
const workloads = (all: Item[]) =>
  all.filter((i) => i.kind === 'Deployment' || i.kind === 'StatefulSet');
const matches = (selector: Labels, labels: Labels) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const byName = (all: Item[], kind: string, name: string) =>
  all.find((i) => i.kind === kind && i.metadata.name === name);

/** The FEDINTEL_* variables the node's config class declares. */
/** The variables the node's environment class declares, its own and those it shares with the hub. */
function nodeEnvNames(): Set<string> {
  const src = [
    join(root, 'apps', 'node', 'src', 'config', 'node.config.ts'),
    join(root, 'libs', 'config', 'src', 'service-env.ts'),
  ]
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  return new Set([...src.matchAll(/^\s+(FEDINTEL_[A-Z0-9_]+)[!?]?:/gm)].map((m) => m[1] ?? ''));
}

describe('deploy/k8s', () => {
  it('describe a member (node Deployment, Service, leaf StatefulSet, NetworkPolicies) and the hub (3 hub core servers, store, app)', () => {
    expect(member.map((i) => `${i.kind}/${i.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/fedintel-node-env',
        'Deployment/fedintel-node',
        'Service/fedintel-node',
        'StatefulSet/fedintel-leaf',
        'Service/fedintel-leaf',
        'NetworkPolicy/fedintel-leaf',
        'NetworkPolicy/fedintel-node',
      ].sort(),
    );
    expect(byName(hub, 'StatefulSet', 'fedintel-hub-core')?.spec?.replicas).toBe(3);
    expect(byName(hub, 'Deployment', 'fedintel-hub')).toBeDefined();
  });

  it("every workload's selector matches its pod labels, and every Service and NetworkPolicy selects a workload", () => {
    for (const all of [member, hub]) {
      for (const w of workloads(all)) {
        expect(
          matches(w.spec?.selector?.matchLabels ?? {}, w.spec?.template?.metadata.labels ?? {}),
        ).toBe(true);
      }
      const pods = workloads(all).map((w) => w.spec?.template?.metadata.labels ?? {});
      for (const s of all.filter((i) => i.kind === 'Service')) {
        const selector = (s.spec?.selector ?? {}) as Labels;
        expect([s.metadata.name, pods.some((l) => matches(selector, l))]).toEqual([
          s.metadata.name,
          true,
        ]);
      }
      for (const p of all.filter((i) => i.kind === 'NetworkPolicy')) {
        const selector = p.spec?.podSelector?.matchLabels ?? {};
        expect([p.metadata.name, pods.some((l) => matches(selector, l))]).toEqual([
          p.metadata.name,
          true,
        ]);
      }
    }
  });

  it("probes the node's real liveness and readiness routes on its HTTP port", () => {
    const controller = readFileSync(
      join(root, 'apps', 'node', 'src', 'observability', 'observability.controller.ts'),
      'utf8',
    );
    const node = byName(member, 'Deployment', 'fedintel-node')?.spec?.template?.spec.containers[0];
    for (const [probe, route] of [
      [node?.livenessProbe, 'health/live'],
      [node?.readinessProbe, 'health/ready'],
    ] as const) {
      expect(probe?.httpGet?.path).toBe(`/${route}`);
      expect(controller).toContain(`@Get('${route}')`);
      expect(node?.ports?.find((p) => p.name === probe?.httpGet?.port)?.containerPort).toBe(3000);
    }
  });

  it("sets only environment variables the node's config declares, with values its loader accepts", () => {
    const env = byName(member, 'ConfigMap', 'fedintel-node-env')?.data ?? {};
    const known = nodeEnvNames();
    expect(known.size).toBeGreaterThan(10);
    for (const name of Object.keys(env).filter((n) => n.startsWith('FEDINTEL_'))) {
      expect([name, known.has(name)]).toEqual([name, true]);
    }
    // the secret half (fedintel-node-secrets) is created from generate.sh's env file
    const config = loadNodeConfig({
      ...env,
      FEDINTEL_DATABASE_URL: 'postgres://fedintel:pw@db:5432/fedintel',
      FEDINTEL_NATS_USER: 'kr-app',
      FEDINTEL_NATS_PASSWORD: 'secret',
    });
    expect(config.http.port).toBe(3000);
    const leafService = byName(member, 'Service', 'fedintel-leaf');
    const url = new URL(config.nats.url);
    expect(url.hostname).toBe(leafService?.metadata.name);
    expect((leafService?.spec as { ports: { port: number }[] }).ports[0]?.port).toBe(
      Number(url.port),
    );
  });

  it("lets only the leaf reach the hub's leaf port, and only the node reach the leaf", () => {
    const leaf = byName(member, 'NetworkPolicy', 'fedintel-leaf');
    const node = byName(member, 'NetworkPolicy', 'fedintel-node');
    const egressPorts = (p: Item | undefined) =>
      (p?.spec?.egress ?? []).flatMap((e) => (e.ports ?? []).map((x) => x.port));
    expect(egressPorts(leaf)).toContain(7422);
    expect(egressPorts(node)).not.toContain(7422);
    expect(leaf?.spec?.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fedintel-node' } } }],
        ports: [{ protocol: 'TCP', port: 4231 }],
      },
    ]);
    const core = byName(hub, 'NetworkPolicy', 'fedintel-hub-core');
    const ingressPorts = (core?.spec?.ingress ?? []).flatMap((i) =>
      (i.ports ?? []).map((p) => p.port),
    );
    expect(ingressPorts.sort()).toEqual([6222, 7422]);
  });

  it('runs nats-server 2.11 or later everywhere', () => {
    for (const w of workloads([...member, ...hub])) {
      for (const c of w.spec?.template?.spec.containers ?? []) {
        const nats = /^nats:(\d+)\.(\d+)/.exec(c.image);
        if (nats) expect(Number(nats[1]) * 100 + Number(nats[2])).toBeGreaterThanOrEqual(211);
      }
    }
  });
});
