import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import request from 'supertest';
import {
  directoryKeyResolver,
  importPrivateKey,
  parseStrictJson,
  toB64u,
  toRfc3339Ms,
} from '../../../libs/protocol/src/index.js';
import {
  signStatement,
  verifyExport,
  type Checkpoint,
  type ExportManifestFile,
} from '../../../libs/audit/src/index.js';
import { witnessKeys } from '../../../apps/cli/src/audit/audit-commands.js';
import { HubAuditService } from '../../../apps/hub/src/audit/hub-audit.service.js';
import { subjectFor } from '../../../libs/broker/src/index.js';
import { CheckpointPublisher } from '../../../apps/node/src/audit/checkpoint.publisher.js';
import { MetricsService } from '../../../apps/node/src/observability/metrics.service.js';
import {
  FEDERATION_PUBLISHER,
  type FederationPublisher,
} from '../../../apps/hub/src/ingest/publisher.js';
import { eventually, indicatorBody, textBody } from '../../../apps/node/test/federation.harness.js';
import type { TestFederation } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';
import { fedctl } from '../fedctl.js';

interface WitnessState {
  witness: string;
  heads: { log: string; size: number; root: string; checkpoint: string }[];
  events: { log: string; size: number; verdict: string; code: string | null }[];
  uncoveredReceipts?: { since: string | null; seconds: number };
}

/** One sample of a Prometheus exposition text: the first line of that name with that label. */
function sample(text: string, name: string, label = ''): number {
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface HubWitnessState extends WitnessState {
  hubLog: {
    newest: { size: number; root: string } | null;
    cosignatures: { size: number; witness: string }[];
  };
}

describe('the hub witnesses member checkpoints', () => {
  let f: TestFederation;
  let hub: TestHub;
  let stop: () => Promise<void>;

  const state = async (): Promise<HubWitnessState> =>
    (await hub.get('/api/v1/audit/witness', ['auditor'])).body as HubWitnessState;

  /** A member node's view of the hub's log, as its auditors see it. */
  const memberState = async (id: string): Promise<WitnessState> => {
    const n = f.nodes[id]!;
    const r = await request(n.url)
      .get('/api/v1/audit/witness')
      .set('Authorization', `Bearer ${await n.token(['auditor'])}`)
      .expect(200);
    return r.body as WitnessState;
  };

  /** Publish a checkpoint of the hub's log to KR as the hub would (hub identity, given key). */
  async function publishHubCheckpointToKr(
    cp: Omit<Checkpoint, 'v' | 'type' | 'log'>,
    signer: 'hub' | 'kr',
    msgId: string,
  ) {
    const keys = f.fed.members[signer]!.keys;
    const jws = await signStatement(
      { v: 1, type: 'checkpoint', log: 'hub', ...cp },
      { kid: keys.signing.kid, key: importPrivateKey(keys.signing.privateJwk, 'Ed25519') },
    );
    const creds = f.brokers.hubAppCredentials;
    const nc = await connect({ servers: creds.url, user: creds.user, pass: creds.password });
    try {
      await jetstream(nc).publish(
        subjectFor('hub', 'kr', 'checkpoints'),
        JSON.stringify({ checkpoint: jws, proofs: [] }),
        { msgID: msgId },
      );
    } finally {
      await nc.close();
    }
  }

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

  it("has every member countersign the hub's own checkpoints, and an export of the hub's log carries them", async () => {
    const audit = hub.app.get(HubAuditService);
    // Two checkpoints of a growing log: each must reach every member and come back cosigned.
    for (const n of [1, 2]) {
      expect((await hub.get(`/api/v1/audit/entries?limit=${n}`, ['auditor'])).status).toBe(200);
      await audit.checkpointPass();
    }
    const s = await eventually(
      async () => {
        const st = await state();
        const newest = st.hubLog.newest;
        const by = st.hubLog.cosignatures.filter((c) => c.size === newest?.size);
        return newest && by.length === 3 ? st : undefined;
      },
      30000,
      "the hub's newest checkpoint cosigned by KR, VN and TH",
    );
    const newest = s.hubLog.newest!;
    expect(
      s.hubLog.cosignatures
        .filter((c) => c.size === newest.size)
        .map((c) => c.witness)
        .sort(),
    ).toEqual(['kr', 'th', 'vn']);
    for (const id of ['kr', 'vn', 'th']) {
      const m = await memberState(id);
      expect(m.heads).toEqual([
        expect.objectContaining({ log: 'hub', size: newest.size, root: newest.root }),
      ]);
      expect(m.events.every((e) => e.log === 'hub' && e.verdict === 'cosigned')).toBe(true);
    }

    const manifest = (await hub.get('/api/v1/audit/export/manifest', ['auditor']))
      .body as ExportManifestFile;
    const size = (
      parseStrictJson(Buffer.from(manifest.manifest.split('.')[1]!, 'base64url')) as {
        size: number;
      }
    ).size;
    const e = await request(hub.url)
      .get('/api/v1/audit/export/entries')
      .query({ size })
      .set('X-Purpose', 'supervision:HUB-TEST-1')
      .set('Authorization', `Bearer ${await hub.token(['auditor'])}`)
      .buffer(true)
      .parse(textBody);
    expect(e.status).toBe(200);
    const entries = e.body as string;
    const at = new Date();
    const directory = f.fed.directory;
    const result = await verifyExport({
      file: manifest,
      lines: entries.split('\n').filter((l) => l !== ''),
      resolveLogKey: directoryKeyResolver(directory, { at, mode: 'historical', member: 'hub' }),
      witnessKeyFor: witnessKeys(directory, 'hub', at),
    });
    expect(result.ok).toBe(true);
    expect(result.witnesses).toEqual(['kr', 'th', 'vn']);
    expect(result.witnessed).toBeGreaterThanOrEqual(1);
    // The same cosignatures checked as a member's log's would be (only the hub counts): none.
    const asMemberLog = await verifyExport({
      file: manifest,
      lines: entries.split('\n').filter((l) => l !== ''),
      resolveLogKey: directoryKeyResolver(directory, { at, mode: 'historical', member: 'hub' }),
      witnessKeyFor: witnessKeys(directory, 'kr', at),
    });
    expect(asMemberLog.witnessed).toBe(0);
  }, 60000);

  it("has a member refuse a fork of the hub's log, and ignore a checkpoint the hub did not sign", async () => {
    const head = (await memberState('kr')).heads.find((h) => h.log === 'hub')!;
    // Sent first: when KR has judged the fork after it, it has handled this one too.
    await publishHubCheckpointToKr(
      {
        size: head.size + 50,
        root: toB64u(new Uint8Array(32).fill(4)),
        at: toRfc3339Ms(new Date()),
      },
      'kr',
      'hub-forged-1',
    );
    await publishHubCheckpointToKr(
      { size: head.size, root: toB64u(new Uint8Array(32).fill(3)), at: toRfc3339Ms(new Date()) },
      'hub',
      'hub-fork-1',
    );
    const m = await eventually(
      async () => {
        const st = await memberState('kr');
        return st.events.some((e) => e.code === 'CHECKPOINT_FORK') ? st : undefined;
      },
      30000,
      "KR refusing the fork of the hub's log",
    );
    expect(m.events.find((e) => e.code === 'CHECKPOINT_FORK')).toMatchObject({
      log: 'hub',
      size: head.size,
      verdict: 'refused',
    });
    // The checkpoint signed with KR's key is not the hub's: dropped without a decision.
    expect(m.events.some((e) => e.size === head.size + 50)).toBe(false);
    expect(m.heads.find((h) => h.log === 'hub')).toEqual(head);
    // The hub never receives a cosignature by KR of the forked root.
    const hs = await state();
    expect(
      hs.hubLog.cosignatures.filter((c) => c.witness === 'kr' && c.size === head.size),
    ).toHaveLength(1);
  }, 60000);

  it("shows a member the hub's receipts no checkpoint covers, and an auditor a member left behind or shown a fork", async () => {
    const audit = hub.app.get(HubAuditService);
    const kr = f.nodes.kr!;
    const krMetrics = kr.app.get(MetricsService);
    const dir = mkdtempSync(join(tmpdir(), 'fedintel-witness-views-'));
    try {
      // KR reports to the hub: the hub stores the bundle, logs its receipt and acknowledges it;
      // until the hub signs its next checkpoint, no checkpoint KR holds covers that receipt.
      const created = await request(kr.url)
        .post('/api/v1/indicators')
        .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
        .send(indicatorBody({ value: 'witness-receipt.example', scope: { addressees: ['hub'] } }));
      expect(created.status).toBe(201);
      const uncovered = await eventually(
        async () => {
          const u = (await memberState('kr')).uncoveredReceipts;
          return u?.since ? u : undefined;
        },
        30000,
        "KR holding a hub receipt newer than the hub's checkpoints it countersigned",
      );
      expect(uncovered.seconds).toBeGreaterThanOrEqual(0);
      const metrics = (await krMetrics.scrape()).body;
      expect(
        sample(metrics, 'fedintel_hub_log_uncovered_receipt_age_seconds'),
      ).toBeGreaterThanOrEqual(0);
      expect(sample(metrics, 'fedintel_hub_log_witnessed_size')).toBeGreaterThan(0);
      expect(sample(metrics, 'fedintel_hub_log_checkpoints_refused')).toBe(1); // the fork above

      // The hub withholds its next checkpoint from KR only: VN and TH countersign it, KR cannot.
      const publisher = hub.app.get<FederationPublisher>(FEDERATION_PUBLISHER);
      const publish = publisher.publish.bind(publisher);
      publisher.publish = (subject, data, opts) =>
        subject === subjectFor('hub', 'kr', 'checkpoints')
          ? Promise.resolve(undefined as never)
          : publish(subject, data, opts);
      try {
        await audit.checkpointPass();
      } finally {
        publisher.publish = publish;
      }
      const newest = (await state()).hubLog.newest!;
      await eventually(
        async () => {
          const by = (await state()).hubLog.cosignatures.filter((c) => c.size === newest.size);
          return by.length === 2 ? true : undefined;
        },
        30000,
        'VN and TH countersigning the checkpoint withheld from KR',
      );
      const kept = async () => {
        const files: string[] = [];
        for (const id of ['kr', 'vn', 'th']) {
          const file = join(dir, `${id}-witness.json`);
          writeFileSync(file, JSON.stringify(await memberState(id)));
          files.push('--witness-state', file);
        }
        return files;
      };
      const hubToken = await hub.token(['auditor']);
      const verifyHub = async (extra: string[]) =>
        fedctl([
          'audit',
          'verify',
          hub.url,
          '--token',
          hubToken,
          '--governance',
          f.fed.governanceKeysFile,
          ...extra,
        ]);
      const behind = await verifyHub(await kept());
      expect(behind.code).toBe(0);
      expect(behind.out + behind.err).toMatch(
        new RegExp(
          `countersigned \\(newest checkpoint at \\d+\\): kr up to \\d+ \\(\\d+ entries behind\\), th up to \\d+, vn up to \\d+`,
        ),
      );
      const krHead = (await memberState('kr')).heads.find((h) => h.log === 'hub')!;
      expect(krHead.size).toBeLessThan(newest.size);
      expect(behind.out + behind.err).toContain(
        `kr holds a checkpoint at ${krHead.size}: this export has the same root there`,
      );
      expect(behind.out + behind.err).toContain(
        `vn holds a checkpoint at ${newest.size}: this export has the same root there`,
      );
      // The hub's operators see the same from their side: KR's reach stops short of the newest.
      const hm = (await request(hub.url).get('/metrics').expect(200)).text;
      expect(sample(hm, 'fedintel_hub_audit_checkpoint_size')).toBe(newest.size);
      expect(sample(hm, 'fedintel_hub_audit_cosigned_size', 'witness="kr"')).toBe(krHead.size);
      expect(sample(hm, 'fedintel_hub_audit_cosigned_size', 'witness="vn"')).toBe(newest.size);
      expect(sample(hm, 'fedintel_hub_audit_cosigned_size', 'witness="th"')).toBe(newest.size);
      expect(sample(hm, 'fedintel_member_log_witnessed_size', 'log="kr"')).toBeGreaterThan(0);
      expect(sample(hm, 'fedintel_member_log_witnessed_size', 'log="th"')).toBe(-1);
      // The rollback and the two forks of KR's log refused in the tests above.
      expect(sample(hm, 'fedintel_member_log_checkpoints_refused', 'log="kr"')).toBe(3);
      expect(sample(hm, 'fedintel_member_log_checkpoints_refused', 'log="vn"')).toBe(0);
      // KR still sees its receipt uncovered: the alarm an operator gets.
      expect((await memberState('kr')).uncoveredReceipts?.since).toBe(uncovered.since);

      // The next pass reaches KR again: it catches up, and its receipt is covered.
      await audit.checkpointPass();
      await eventually(
        async () => {
          const u = (await memberState('kr')).uncoveredReceipts;
          return u && u.since === null ? true : undefined;
        },
        30000,
        "KR countersigning the hub's checkpoint that covers its receipt",
      );
      expect(
        sample((await krMetrics.scrape()).body, 'fedintel_hub_log_uncovered_receipt_age_seconds'),
      ).toBe(0);

      // A checkpoint the hub signed for TH with another root: the auditor's check finds the fork.
      const hubKeys = f.fed.members.hub!.keys;
      const forked = await signStatement(
        {
          v: 1,
          type: 'checkpoint',
          log: 'hub',
          size: krHead.size,
          root: toB64u(new Uint8Array(32).fill(7)),
          at: toRfc3339Ms(new Date()),
        },
        { kid: hubKeys.signing.kid, key: importPrivateKey(hubKeys.signing.privateJwk, 'Ed25519') },
      );
      const thFile = join(dir, 'th-forked.json');
      writeFileSync(
        thFile,
        JSON.stringify({ witness: 'th', heads: [{ log: 'hub', checkpoint: forked }] }),
      );
      const fork = await verifyHub(['--witness-state', thFile]);
      expect(fork.code).toBe(1);
      expect(fork.out + fork.err).toContain(`th holds a checkpoint at ${krHead.size} with root`);
      expect(fork.out + fork.err).toContain('(FORK)');
      expect(fork.out + fork.err).toMatch(/the log forked \(th was shown another log\)/);

      // A file that is not a witness state is refused as bad input (exit 2).
      writeFileSync(join(dir, 'bad.json'), '{"heads": 3}');
      const bad = await verifyHub(['--witness-state', join(dir, 'bad.json')]);
      expect(bad.code).toBe(2);
      expect(bad.out + bad.err).toContain('--witness-state');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  it('lets only auditors and hub operators see the witness state', async () => {
    expect((await hub.get('/api/v1/audit/witness', ['hub-operator'])).status).toBe(200);
    expect((await hub.get('/api/v1/audit/witness', ['analyst'])).status).toBe(403);
  });
});
