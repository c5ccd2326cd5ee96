// Scope matrix: every origin × addressee kind × TLP × handling code, created through the REST
// API, and what each recipient (the three members and the hub's inbox stream) ends up holding.
// Expectations come from the truth table below, written independently of libs/protocol/scope.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  decryptBundle,
  directoryKeyResolver,
  importPrivateKey,
} from '../../../libs/protocol/src/index.js';
import { readStream } from '../../../libs/testing/src/index.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

type Member = 'kr' | 'vn' | 'th';
type Recipient = Member | 'hub';
type Kind = 'named' | 'group' | 'hub' | 'all';
type Tlp = 'CLEAR' | 'GREEN' | 'AMBER' | 'AMBER+STRICT' | 'RED';
type Handling = 'H0' | 'H1' | 'H2' | 'H3';

const MEMBERS: Member[] = ['kr', 'vn', 'th'];
const RECIPIENTS: Recipient[] = ['kr', 'vn', 'th', 'hub'];
const KINDS: Kind[] = ['named', 'group', 'hub', 'all'];
const TLPS: Tlp[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const HANDLINGS: Handling[] = ['H0', 'H1', 'H2', 'H3'];
/** The member each origin names in its "named" cases (covers MoU and charter pairs). */
const NAMED: Record<Member, Member> = { kr: 'vn', vn: 'th', th: 'kr' };
const MOU_MEMBERS: Recipient[] = ['kr', 'vn'];

/** The shareable fields of a record as the API shows them. */
const SHAREABLE = [
  'id',
  'origin',
  'version',
  'status',
  'type',
  'subtype',
  'chain',
  'value',
  'categories',
  'confidence',
  'firstSeen',
  'lastSeen',
  'validUntil',
  'reviewBy',
  'tlp',
  'handling',
  'reliability',
  'accuracy',
  'scope',
  'relations',
  'sharedNote',
  'issuedAt',
] as const;

function addressees(origin: Member, kind: Kind): string[] {
  switch (kind) {
    case 'named':
      return [NAMED[origin]];
    case 'group':
      return ['group:kr-vn-mou'];
    case 'hub':
      return ['hub'];
    case 'all':
      return ['all'];
  }
}

/** How the scope reaches a recipient, if at all. */
function reach(origin: Member, kind: Kind, r: Recipient): 'named' | 'group' | 'all' | undefined {
  switch (kind) {
    case 'named':
      return r === NAMED[origin] ? 'named' : undefined;
    case 'group':
      return MOU_MEMBERS.includes(r) ? 'group' : undefined;
    case 'hub':
      return r === 'hub' ? 'named' : undefined;
    case 'all':
      return 'all';
  }
}

/**
 * The policy, as a truth table. Agreements of the test directory: `kr-vn-mou` (kr and vn, up to
 * RED) and `sop-charter` (everyone, the hub included, up to AMBER). Handling codes do not limit a
 * direct disclosure (they govern onward sharing by the hub), so they never change the outcome.
 */
function allowed(origin: Member, kind: Kind, tlp: Tlp, r: Recipient): boolean {
  if (r === origin) return false;
  const how = reach(origin, kind, r);
  if (how === undefined) return false;
  if (tlp === 'RED' && (r === 'hub' || how !== 'named')) return false;
  if (tlp === 'AMBER+STRICT' && how === 'all') return false;
  const bilateralMou = (origin === 'kr' && r === 'vn') || (origin === 'vn' && r === 'kr');
  return bilateralMou || tlp === 'CLEAR' || tlp === 'GREEN' || tlp === 'AMBER';
}

interface Case {
  origin: Member;
  kind: Kind;
  tlp: Tlp;
  handling: Handling;
  value: string;
  caseRef: string;
}

const run = Math.random().toString(36).slice(2, 8);
const CASES: Case[] = MEMBERS.flatMap((origin) =>
  KINDS.flatMap((kind) =>
    TLPS.flatMap((tlp) =>
      HANDLINGS.map((handling) => {
        const slug = `${origin}-${kind}-${tlp.replace('+', '-')}-${handling}`.toLowerCase();
        return {
          origin,
          kind,
          tlp,
          handling,
          value: `${slug}.m${run}.example`,
          caseRef: `CASEREF-${slug}-${run}`,
        };
      }),
    ),
  ),
);

function expectedValues(origin: Member, r: Recipient): string[] {
  return CASES.filter((c) => c.origin === origin && allowed(origin, c.kind, c.tlp, r))
    .map((c) => c.value)
    .sort();
}

type Item = Record<string, unknown>;

describe('scope matrix: what each recipient holds is exactly what the policy allows', () => {
  let f: TestFederation;
  const own: Record<string, Item[]> = {};

  const bearer = async (n: RunningNode) => `Bearer ${await n.token(['supervisor'])}`;

  async function listFrom(node: RunningNode, origin: string): Promise<Item[]> {
    const r = await request(node.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .query({ origin, pageSize: 500 })
      .set('Authorization', await bearer(node))
      .expect(200);
    return r.body.items as Item[];
  }

  /** Records in HUB_INBOX from `origin`, decrypted with the hub's key and verified. */
  async function hubRecords(origin: Member): Promise<{ bundles: number; values: string[] }> {
    const nc = await f.brokers.connectHub();
    try {
      const msgs = (await readStream(nc, 'HUB_INBOX')).filter(
        (m) => m.subject === `fed.v1.${origin}.hub.records`,
      );
      const keys = f.fed.members.hub!.keys.encryption;
      const me = { kid: keys.kid, key: importPrivateKey(keys.privateJwk, 'X25519') };
      const values: string[] = [];
      for (const m of msgs) {
        const opened = await decryptBundle(
          m.data,
          me,
          directoryKeyResolver(f.fed.directory, { at: new Date(), mode: 'receive' }),
          { expectedAddressee: 'hub' },
        );
        expect(opened.header.origin).toBe(origin);
        for (const [i, rec] of opened.records.entries()) {
          values.push(rec.value);
          const text = opened.recordTexts[i] ?? '';
          expect(text).not.toContain('CASEREF-');
          expect(text).not.toContain('local');
        }
      }
      return { bundles: msgs.length, values: values.sort() };
    } finally {
      await nc.close();
    }
  }

  beforeAll(async () => {
    f = await startTestFederation({});
    for (const origin of MEMBERS) {
      const node = f.nodes[origin]!;
      const items = CASES.filter((c) => c.origin === origin).map((c, i) =>
        indicatorBody({
          value: c.value,
          tlp: c.tlp,
          handling:
            c.handling === 'H3'
              ? { code: 'H3', conditions: `ask ${origin} before judicial use` }
              : { code: c.handling },
          scope: { addressees: addressees(origin, c.kind) },
          sharedNote: `shared note ${i} from ${origin}`,
          local: { caseReference: c.caseRef, notes: `NOTE-${c.caseRef}`, sources: ['SRC-secret'] },
        }),
      );
      const res = await request(node.url)
        .post('/api/v1/indicators/bulk')
        .set('Authorization', await bearer(node))
        .send({ items });
      if (res.status !== 200 || res.body.created !== items.length) {
        throw new Error(`bulk at ${origin}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    for (const origin of MEMBERS) own[origin] = await listFrom(f.nodes[origin]!, origin);

    // Everything is delivered and processed when, at every origin, nothing is queued or
    // pending and every bundle but those to the hub (which has no application to sign
    // receipts yet) is acknowledged by its recipient's signed receipt.
    await eventually(
      async () => {
        for (const origin of MEMBERS) {
          const node = f.nodes[origin]!;
          const s = await request(node.url)
            .get('/api/v1/outbox')
            .set('Authorization', await bearer(node));
          const hub = await hubRecords(origin);
          const st = s.body as Record<string, number>;
          if (st.queuedItems !== 0 || st.pendingBundles !== 0 || st.sentBundles !== hub.bundles) {
            return undefined;
          }
        }
        return true;
      },
      45000,
      'every bundle delivered and acknowledged',
    );
  }, 90000);

  afterAll(async () => {
    await f?.stop();
  });

  it('the truth table is not trivial: some of every kind allowed and denied', () => {
    const outcomes = CASES.flatMap((c) =>
      RECIPIENTS.filter((r) => r !== c.origin).map((r) => allowed(c.origin, c.kind, c.tlp, r)),
    );
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(100);
    expect(outcomes.filter((x) => !x).length).toBeGreaterThan(300);
    expect(CASES).toHaveLength(240);
  });

  it('each origin keeps all its own records with their local fields', () => {
    for (const origin of MEMBERS) {
      expect(own[origin]).toHaveLength(80);
      for (const item of own[origin]!) {
        expect((item.local as { caseReference?: string }).caseReference).toMatch(/^CASEREF-/);
      }
    }
  });

  for (const recipient of MEMBERS) {
    for (const origin of MEMBERS.filter((o) => o !== recipient)) {
      it(`${recipient} holds exactly the records of ${origin} the policy allows, with exactly the shareable fields`, async () => {
        const node = f.nodes[recipient]!;
        const got = await listFrom(node, origin);
        expect(got.map((i) => i.value as string).sort()).toEqual(expectedValues(origin, recipient));
        const byId = new Map(own[origin]!.map((i) => [i.id as string, i]));
        for (const item of got) {
          const src = byId.get(item.id as string);
          expect(src).toBeDefined();
          for (const k of SHAREABLE) expect(item[k]).toEqual(src?.[k]);
          const present = Object.keys(item).filter((k) => item[k] !== undefined);
          expect(present.sort()).toEqual(
            [
              ...SHAREABLE.filter((k) => src?.[k] !== undefined),
              'receivedFrom',
              'updatedAt',
            ].sort(),
          );
          expect(item.receivedFrom).toBe(origin);
          expect(item.local).toBeUndefined();
        }
        // The full API output, including provenance, never shows local fields.
        const details = await Promise.all(
          got.map(async (i) => {
            const r = await request(node.url)
              .get(`/api/v1/indicators/${origin}/${i.id as string}`)
              .set('X-Purpose', 'investigation')
              .set('Authorization', await bearer(node))
              .expect(200);
            return JSON.stringify(r.body);
          }),
        );
        const everything = JSON.stringify(got) + details.join('');
        expect(everything).not.toContain('CASEREF-');
        expect(everything).not.toContain('SRC-secret');
      });
    }

    it(`${recipient} holds nothing else and dead-lettered nothing`, async () => {
      const node = f.nodes[recipient]!;
      const all = await request(node.url)
        .get('/api/v1/indicators')
        .set('X-Purpose', 'investigation')
        .query({ pageSize: 500 })
        .set('Authorization', await bearer(node))
        .expect(200);
      const expected =
        80 +
        MEMBERS.filter((o) => o !== recipient).reduce(
          (n, o) => n + expectedValues(o, recipient).length,
          0,
        );
      expect(all.body.total).toBe(expected);
      const dl = await request(node.url)
        .get('/api/v1/dead-letters')
        .set('Authorization', `Bearer ${await node.token(['admin'])}`)
        .expect(200);
      expect(dl.body.total).toBe(0);
    });
  }

  // The hub application does not exist yet: what reached the hub is read from its inbox stream.
  for (const origin of MEMBERS) {
    it(`the hub's inbox holds exactly the records of ${origin} the policy allows, encrypted to the hub`, async () => {
      const hub = await hubRecords(origin);
      expect(hub.values).toEqual(expectedValues(origin, 'hub'));
    });
  }
});
