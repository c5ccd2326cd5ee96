// Operating a federation (docs/operations.md): onboarding, key rotation with overlap, revocation
// of a compromised key and removal of a member, each on real nats-servers and real node apps,
// with directories signed by governance and distributed over NATS, never by restarting nodes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { jetstream } from '@nats-io/jetstream';
import {
  addMember,
  removeMember,
  revokeKey,
  rotateKey,
} from '../../../libs/governance/src/index.js';
import {
  directoryKeyResolver,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  publicJwkOf,
  signDirectory,
  verifyRecordProof,
  type Directory,
  type RecordProof,
} from '../../../libs/protocol/src/index.js';
import { subjectFor } from '../../../libs/broker/src/index.js';
import type { MemberKeyFile } from '../../../libs/keystore/src/index.js';
import { FederationContext } from '../src/federation/federation.context.js';
import { NODE_DATA_SOURCE, NodeStore } from '../src/persistence/node.store.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

const HOUR = 3600_000;

async function newKeyFile(
  memberId: string,
  file: string,
  old?: MemberKeyFile,
): Promise<MemberKeyFile> {
  const sig = await generateSigningKey();
  const enc = await generateEncryptionKey();
  const api = await generateSigningKey();
  const keys: MemberKeyFile = {
    memberId,
    signing: { kid: sig.kid, privateJwk: sig.privateJwk },
    encryption: { kid: enc.kid, privateJwk: enc.privateJwk },
    api: old?.api ?? { kid: api.kid, privateJwk: api.privateJwk },
    ...(old ? { retiredEncryption: [old.encryption] } : {}),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

const publicHalf = (k: { kid: string; privateJwk: MemberKeyFile['signing']['privateJwk'] }) => ({
  kid: k.kid,
  jwk: publicJwkOf(k.privateJwk),
});

/** Governance signs the next version; the hub's identity publishes it to every active member. */
async function publish(f: TestFederation, next: Directory): Promise<void> {
  const jws = await signDirectory(next, {
    kid: f.fed.governance.kid,
    key: importPrivateKey(f.fed.governance.privateJwk, 'Ed25519'),
  });
  f.fed.directory = next;
  // The file a newly started node reads (distribution covers the running ones).
  writeFileSync(f.fed.directoryFile, jws);
  const js = jetstream(await f.brokers.connectHub());
  for (const m of next.members) {
    if (m.id === 'hub' || m.status !== 'active') continue;
    await js.publish(subjectFor('hub', m.id, 'directory'), Buffer.from(jws), {
      msgID: `directory.v${next.version}.${m.id}`,
    });
  }
}

const versionAt = (n: RunningNode) => n.app.get(FederationContext).directory.version;

async function adopted(f: TestFederation, version: number, ids: string[]): Promise<void> {
  for (const id of ids) {
    await eventually(
      () => Promise.resolve(versionAt(f.nodes[id]!) === version ? true : undefined),
      20_000,
      `${id} adopts directory v${version}`,
    );
  }
}

async function create(node: RunningNode, body: Record<string, unknown>): Promise<string> {
  const res = await request(node.url)
    .post('/api/v1/indicators')
    .set('Authorization', `Bearer ${await node.token(['analyst'])}`)
    .send(indicatorBody(body));
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.indicator.id as string;
}

const db = (n: RunningNode) => n.app.get<DataSource>(NODE_DATA_SOURCE);

interface StoredVersion {
  record_text: string;
  proof_json: string;
}

/** The stored version of a received record, or undefined while it has not arrived. */
async function received(
  n: RunningNode,
  origin: string,
  id: string,
): Promise<StoredVersion | undefined> {
  // Through the store: a received version's proof is stored compactly, its header kept once
  // with the bundle (ADR 0049); history() gives the whole proof back.
  const [v] = await n.app.get(NodeStore).history(origin, id);
  return v && v.proofJson !== null
    ? { record_text: v.recordText, proof_json: v.proofJson }
    : undefined;
}

async function arrives(n: RunningNode, origin: string, id: string): Promise<StoredVersion> {
  return eventually(() => received(n, origin, id), 30_000, `${origin}/${id} at ${n.id}`);
}

async function deadLetters(n: RunningNode, code: string): Promise<number> {
  const rows: { n: number | string }[] = await db(n).query(
    `SELECT COUNT(*) AS n FROM dead_letter WHERE code = ?`,
    [code],
  );
  return Number(rows[0]?.n ?? 0);
}

/** When the bundle that carried a stored version was signed (its header's issuedAt). */
function signedAt(v: StoredVersion): Date {
  const proof = JSON.parse(v.proof_json) as RecordProof;
  const payload = proof.header.split('.')[1] ?? '';
  const header = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    issuedAt: string;
  };
  return new Date(header.issuedAt);
}

/** The signing kid a stored record verifies under, in historical mode at `at`. */
async function verifyHistorically(d: Directory, v: StoredVersion, at: Date): Promise<string> {
  const proof = JSON.parse(v.proof_json) as RecordProof;
  const r = await verifyRecordProof(
    v.record_text,
    proof,
    directoryKeyResolver(d, { at, mode: 'historical' }),
  );
  return r.kid;
}

describe('operating a federation: onboarding, rotation, revocation, removal', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({
      members: ['kr', 'vn'],
      ownDirectoryFiles: true,
      directoryPollMs: 200,
    });
  }, 90_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('onboarding: TH joins a running federation and exchanges records both ways, nobody restarts', async () => {
    const thKeysFile = join(f.dir, 'keys', 'th.keys.json');
    const th = await newKeyFile('th', thKeysFile);
    const next = await addMember(
      f.fed.directory,
      {
        id: 'th',
        country: 'TH',
        name: 'Royal Thai Police (test)',
        signing: publicHalf(th.signing),
        encryption: publicHalf(th.encryption),
      },
      new Date(),
    );
    // Brokers first (the hub must know TH's account and hold HUB_OUT_TH), then the directory.
    await f.brokers.addMember('th');
    await publish(f, next);
    await adopted(f, next.version, ['kr', 'vn']);
    // KR's and VN's own directory files now hold the new version (a restart starts from it).
    expect(readFileSync(f.nodes.kr!.env.FEDINTEL_DIRECTORY_FILE!, 'utf8').trim()).toBe(
      readFileSync(f.fed.directoryFile, 'utf8').trim(),
    );

    f.fed.members.th = { id: 'th', keysFile: thKeysFile, keys: th };
    const thNode = await f.startNode('th');

    const toTh = await create(f.nodes.kr!, {
      value: 'onboarding-kr-to-th.example',
      scope: { addressees: ['th'] },
    });
    const fromTh = await create(thNode, {
      value: 'onboarding-th-to-kr.example',
      scope: { addressees: ['kr'] },
    });
    await arrives(thNode, 'kr', toTh);
    await arrives(f.nodes.kr!, 'th', fromTh);
  }, 120_000);

  it('rotation: the old key verifies during the overlap, new records use the new key, history still verifies after retirement', async () => {
    const kr = f.nodes.kr!;
    const keysFile = kr.env.FEDINTEL_KEYS_FILE!;
    const old = JSON.parse(readFileSync(keysFile, 'utf8')) as MemberKeyFile;
    const before = await create(kr, {
      value: 'rotation-before.example',
      scope: { addressees: ['vn'] },
    });
    const beforeAtVn = await arrives(f.nodes.vn!, 'kr', before);

    const rotated = await newKeyFile('kr', join(f.dir, 'keys', 'kr.keys.next.json'), old);
    let next = await rotateKey(
      f.fed.directory,
      'kr',
      'sig',
      publicHalf(rotated.signing),
      new Date(),
      HOUR,
    );
    next = await rotateKey(next, 'kr', 'enc', publicHalf(rotated.encryption), new Date(), HOUR);
    next = { ...next, version: f.fed.directory.version + 1 };
    await publish(f, next);
    await adopted(f, next.version, ['kr', 'vn', 'th']);

    // During the overlap KR still signs with the old key (its key file is not replaced yet): VN
    // accepts, because the retired key verifies until notAfter.
    const during = await create(kr, {
      value: 'rotation-during.example',
      scope: { addressees: ['vn'] },
    });
    await arrives(f.nodes.vn!, 'kr', during);

    // The operator installs the rotated key file; KR picks it up without a restart.
    writeFileSync(keysFile, readFileSync(join(f.dir, 'keys', 'kr.keys.next.json')));
    await eventually(
      () =>
        Promise.resolve(
          kr.app.get(FederationContext).signingKey.kid === rotated.signing.kid ? true : undefined,
        ),
      10_000,
      'KR signs with the new key',
    );
    const after = await create(kr, {
      value: 'rotation-after.example',
      scope: { addressees: ['vn'] },
    });
    const afterAtVn = await arrives(f.nodes.vn!, 'kr', after);
    expect(await verifyHistorically(next, afterAtVn, new Date())).toBe(rotated.signing.kid);

    // After retirement (notAfter passed) a new signature by the old key is refused on receipt,
    // but what it signed before still verifies through the directory's history.
    const later = new Date(Date.now() + 2 * HOUR);
    expect(() =>
      directoryKeyResolver(next, { at: later, mode: 'receive', member: 'kr' })(old.signing.kid, {
        kid: old.signing.kid,
        typ: 'x',
        alg: 'EdDSA',
      }),
    ).toThrow();
    expect(await verifyHistorically(next, beforeAtVn, signedAt(beforeAtVn))).toBe(old.signing.kid);

    // KR's own new encryption key is in force: TH → KR keeps flowing after the rotation (a bundle
    // still encrypted to the retired key decrypts too: apps/node/test/federation.context.spec.ts).
    const fromTh = await create(f.nodes.th!, {
      value: 'rotation-th-to-kr.example',
      scope: { addressees: ['kr'] },
    });
    await arrives(kr, 'th', fromTh);
  }, 120_000);

  it('revocation: records signed with a compromised key are refused within seconds; earlier ones stay valid', async () => {
    const vn = f.nodes.vn!;
    const kr = f.nodes.kr!;
    const earlier = await create(vn, {
      value: 'revocation-earlier.example',
      scope: { addressees: ['kr'] },
    });
    const earlierAtKr = await arrives(kr, 'vn', earlier);
    const vnKid = vn.app.get(FederationContext).signingKey.kid;

    const compromisedAt = new Date();
    const next = revokeKey(f.fed.directory, 'vn', vnKid, compromisedAt, new Date());
    const refusedBefore = await deadLetters(kr, 'KEY_REVOKED');
    await publish(f, next);
    await adopted(f, next.version, ['kr', 'th']);

    // VN (the thief, in this scenario) keeps signing with the revoked key: KR refuses it.
    const forged = await create(vn, {
      value: 'revocation-after.example',
      scope: { addressees: ['kr'] },
    });
    await eventually(
      async () => ((await deadLetters(kr, 'KEY_REVOKED')) > refusedBefore ? true : undefined),
      30_000,
      'KR dead-letters the bundle signed with the revoked key',
    );
    expect(await received(kr, 'vn', forged)).toBeUndefined();
    // What VN signed before compromisedAt stays stored and verifies in historical mode.
    expect(await received(kr, 'vn', earlier)).toBeDefined();
    const earlierSignedAt = signedAt(earlierAtKr);
    expect(earlierSignedAt.getTime()).toBeLessThan(compromisedAt.getTime());
    expect(await verifyHistorically(next, earlierAtKr, earlierSignedAt)).toBe(vnKid);
  }, 120_000);

  it('removal: the member loses NATS access, its future records are refused, what it sent stays verifiable', async () => {
    const th = f.nodes.th!;
    const kr = f.nodes.kr!;
    const sent = await create(th, {
      value: 'removal-before.example',
      scope: { addressees: ['kr'] },
    });
    const sentAtKr = await arrives(kr, 'th', sent);

    const next = removeMember(f.fed.directory, 'th', new Date());
    await publish(f, next);
    await adopted(f, next.version, ['kr']);
    await f.brokers.removeMember('th');
    const leafz = await f.brokers.hub.monitor<{ leafs?: { account?: string }[] }>('/leafz');
    expect((leafz.leafs ?? []).map((l) => l.account)).not.toContain('TH');

    const after = await create(th, {
      value: 'removal-after.example',
      scope: { addressees: ['kr'] },
    });
    // Give the (cut-off) relay time to try; nothing may arrive.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await received(kr, 'th', after)).toBeUndefined();
    // Even a record that did reach KR would be refused: TH is no longer an active member.
    expect(() =>
      directoryKeyResolver(next, { at: new Date(), mode: 'receive', member: 'th' })(
        th.app.get(FederationContext).signingKey.kid,
        { kid: 'x', typ: 'x', alg: 'EdDSA' },
      ),
    ).toThrow();
    // What TH sent while a member still verifies.
    expect(await received(kr, 'th', sent)).toBeDefined();
    expect(await verifyHistorically(next, sentAtKr, signedAt(sentAtKr))).toBe(
      th.app.get(FederationContext).signingKey.kid,
    );
  }, 120_000);
});
