// Faults on the path KR → VN: the receiving node's process killed mid-stream (a real SIGKILL of a
// separate process running the compiled app), VN's leaf server down, the hub restarted. In every
// case VN ends up with each record exactly once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { nodeEnv } from '../../../libs/devnet/src/index.js';
import { importPrivateKey } from '../../../libs/protocol/src/index.js';
import { issueApiToken } from '../../../libs/keystore/src/index.js';
import { freePort } from '../../../libs/testing/src/index.js';
import { eventually, startTestFederation, type TestFederation } from './federation.harness.js';
import { NodeStore } from '../src/persistence/node.store.js';
import { RelayService } from '../src/sharing/relay.service.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = Math.random().toString(36).slice(2, 8);

function items(prefix: string, from: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'domain',
    value: `${prefix}${from + i}.f${run}.example`,
    categories: ['film'],
    confidence: 50,
    tlp: 'AMBER',
    handling: { code: 'H1' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn'] },
  }));
}

describe('faults between KR and VN: nothing lost, nothing twice', () => {
  let f: TestFederation;
  let vnProc: ChildProcess | undefined;
  let vnEnv: Record<string, string>;
  let vnUrl: string;
  let vnDb: string;
  let sent = 0;

  const krAuth = async () => `Bearer ${await f.nodes.kr!.token(['analyst'])}`;
  const vnAuth = () =>
    issueApiToken({
      memberId: 'vn',
      subject: 'analyst.test',
      roles: ['analyst'],
      kid: f.fed.members.vn!.keys.api.kid,
      key: importPrivateKey(f.fed.members.vn!.keys.api.privateJwk, 'Ed25519'),
      now: new Date(),
      ttlSeconds: 3600,
    }).then((t) => `Bearer ${t}`);

  function startVn(): ChildProcess {
    const child = spawn(process.execPath, ['dist/apps/node/src/main.js'], {
      cwd: ROOT,
      env: { ...process.env, ...vnEnv, FEDINTEL_RELAY_INTERVAL_MS: '100' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    vnProc = child;
    return child;
  }

  async function vnUp(): Promise<void> {
    await eventually(
      async () => ((await fetch(`${vnUrl}/health`)).ok ? true : undefined),
      20000,
      'VN process healthy',
    );
  }

  async function stopVn(signal: NodeJS.Signals): Promise<void> {
    const child = vnProc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    vnProc = undefined;
  }

  async function vnTotal(): Promise<number> {
    const r = await request(vnUrl)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ origin: 'kr', pageSize: 1 })
      .set('Authorization', await vnAuth());
    if (r.status !== 200) throw new Error(`VN answered ${r.status}`);
    return r.body.total as number;
  }

  async function bulk(list: Record<string, unknown>[]): Promise<void> {
    const r = await request(f.nodes.kr!.url)
      .post('/api/v1/indicators/bulk')
      .set('Authorization', await krAuth())
      .send({ items: list });
    if (r.status !== 200 || r.body.created !== list.length) {
      throw new Error(`bulk: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    }
    sent += list.length;
  }

  async function allArrived(timeoutMs: number): Promise<void> {
    await eventually(
      async () => ((await vnTotal()) === sent ? true : undefined),
      timeoutMs,
      `${sent} records at VN`,
    );
  }

  beforeAll(async () => {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    f = await startTestFederation({ members: ['kr', 'vn'], nodes: ['kr'] });
    const port = await freePort();
    vnDb = join(f.dir, 'vn-process.sqlite');
    vnEnv = nodeEnv({
      fed: f.fed,
      id: 'vn',
      httpPort: port,
      database: `sqlite:${vnDb}`,
      nats: f.brokers.nodeCredentials.vn!,
    });
    vnUrl = `http://127.0.0.1:${port}`;
    startVn();
    await vnUp();
  }, 90000);

  afterAll(async () => {
    await stopVn('SIGKILL');
    await f?.stop();
  });

  it('VN killed (SIGKILL) while receiving 20,000 records stores each exactly once after restart', async () => {
    const loads = [0, 1, 2, 3].map((k) => items('kill-', k * 5000, 5000));
    for (const l of loads) await bulk(l);
    // Kill it in the middle: some bundles committed, others in flight or not yet pulled.
    await eventually(
      async () => ((await vnTotal()) >= 3000 ? true : undefined),
      30000,
      'VN part-way through',
    );
    await stopVn('SIGKILL');
    const partial = new Database(vnDb, { readonly: true });
    const atKill = (partial.prepare('SELECT COUNT(*) AS n FROM indicator').get() as { n: number })
      .n;
    partial.close();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(20000);
    startVn();
    await vnUp();
    await allArrived(45000);
  }, 120000);

  it("VN's leaf server down while KR sends 2,000: all delivered once it is back", async () => {
    await f.brokers.leaves.vn!.stop();
    await bulk(items('leaf-', 0, 1000));
    await bulk(items('leaf-', 1000, 1000));
    // KR's outbox stream holds them while VN's leaf is away.
    await new Promise((r) => setTimeout(r, 1500));
    await f.brokers.leaves.vn!.restart();
    await allArrived(40000);
  }, 60000);

  it('the hub restarted mid-stream: nothing lost', async () => {
    await bulk(items('hub-', 0, 1000));
    await f.brokers.hub.restart();
    await bulk(items('hub-', 1000, 1000));
    await allArrived(40000);
  }, 60000);

  it("KR's own leaf down while it creates 2,000: its stored bundles are rebuilt and re-sent once the leaf is back", async () => {
    await f.brokers.leaves.kr!.stop();
    await bulk(items('own-leaf-', 0, 1000));
    await bulk(items('own-leaf-', 1000, 1000));
    const krStore = f.nodes.kr!.app.get(NodeStore);
    // The relay pauses while its link is down; a pass forced now builds and stores the bundles,
    // and its publishes fail: those stored bundles are what gets rebuilt and re-sent.
    await expect(f.nodes.kr!.app.get(RelayService).runOnce()).rejects.toThrow();
    expect((await krStore.unsentBundles(100)).length).toBeGreaterThan(0);
    await f.brokers.leaves.kr!.restart();
    await allArrived(40000);
    await eventually(
      async () => ((await krStore.unsentBundles(100)).length === 0 ? true : undefined),
      20000,
      "KR's pending bundles acknowledged",
    );
  }, 90000);

  it("VN's database holds every record exactly once, one version each, no dead letters", async () => {
    await stopVn('SIGTERM');
    const db = new Database(vnDb, { readonly: true });
    try {
      const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      expect(sent).toBe(26000);
      expect(one("SELECT COUNT(*) AS n FROM indicator WHERE origin = 'kr'")).toBe(sent);
      expect(one("SELECT COUNT(DISTINCT value) AS n FROM indicator WHERE origin = 'kr'")).toBe(
        sent,
      );
      expect(one("SELECT COUNT(*) AS n FROM indicator_version WHERE origin = 'kr'")).toBe(sent);
      expect(
        one(
          "SELECT COUNT(*) AS n FROM (SELECT record_id FROM indicator_version WHERE origin = 'kr' GROUP BY record_id HAVING COUNT(*) > 1)",
        ),
      ).toBe(0);
      expect(one('SELECT COUNT(*) AS n FROM dead_letter')).toBe(0);
      // A bundle redelivered after the crash may arrive after its successor, which records a
      // gap; every gap must have been filled since: no sequence number is missing.
      const seqs = (
        db.prepare("SELECT seq FROM inbound_bundle WHERE origin = 'kr'").all() as { seq: string }[]
      ).map((r) => Number(r.seq));
      expect(seqs.length).toBeGreaterThanOrEqual(sent / 500);
      expect(Math.max(...seqs)).toBe(seqs.length);
      expect(new Set(seqs).size).toBe(seqs.length);
      // Each bundle accepted once; together they hold every record.
      expect(one("SELECT SUM(accepted) AS n FROM inbound_bundle WHERE origin = 'kr'")).toBe(sent);
    } finally {
      db.close();
    }
  }, 30000);
});
