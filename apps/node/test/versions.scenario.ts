// The versions scenario (update, scope narrowed on update, retraction), shared by the SQLite and
// the PostgreSQL end-to-end suites so that both databases are held to the same behaviour.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type DatabaseKind,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

type Body = Record<string, unknown> & {
  indicator: Record<string, unknown>;
  history: { version: number; receivedFrom: string | null }[];
};

/** Registers the scenario's tests for one database kind. */
export function versionsScenario(
  database: DatabaseKind,
  hooks: { afterStop?: (f: TestFederation) => Promise<void> } = {},
): void {
  describe(`versions of a record reach exactly its recipients (${database})`, () => {
    let f: TestFederation;
    const run = Math.random().toString(36).slice(2, 8);

    beforeAll(async () => {
      f = await startTestFederation({ database });
    }, 60000);

    afterAll(async () => {
      await f?.stop();
      if (f && hooks.afterStop) await hooks.afterStop(f);
    });

    const auth = async (n: RunningNode) => `Bearer ${await n.token(['analyst'])}`;

    async function at(node: RunningNode, id: string): Promise<Body | undefined> {
      const r = await request(node.url)
        .get(`/api/v1/indicators/kr/${id}`)
        .set('X-Purpose', 'investigation')
        .set('Authorization', await auth(node));
      return r.status === 200 ? (r.body as Body) : undefined;
    }

    /** Waits until `node` holds version `version` of KR's record `id`. */
    async function version(node: RunningNode, id: string, v: number): Promise<Body> {
      return eventually(
        async () => {
          const b = await at(node, id);
          return b && b.indicator.version === v ? b : undefined;
        },
        20000,
        `v${v} of ${id} at ${node.id}`,
      );
    }

    async function create(body: Record<string, unknown>): Promise<string> {
      const kr = f.nodes.kr!;
      const res = await request(kr.url)
        .post('/api/v1/indicators')
        .set('Authorization', await auth(kr))
        .send(indicatorBody(body));
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
      return res.body.indicator.id as string;
    }

    async function update(id: string, patch: Record<string, unknown>): Promise<unknown> {
      const kr = f.nodes.kr!;
      const res = await request(kr.url)
        .put(`/api/v1/indicators/${id}`)
        .set('Authorization', await auth(kr))
        .send(patch);
      if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      return res.body;
    }

    async function retract(id: string): Promise<unknown> {
      const kr = f.nodes.kr!;
      const res = await request(kr.url)
        .post(`/api/v1/indicators/${id}/retract`)
        .set('Authorization', await auth(kr));
      if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      return res.body;
    }

    it('an indicator for the KR–VN MoU reaches VN verified, without local fields, and never TH', async () => {
      const id = await create({ value: `basic.v${run}.example` });
      const got = await version(f.nodes.vn!, id, 1);
      expect(got.indicator.value).toBe(`basic.v${run}.example`);
      expect(got.indicator.receivedFrom).toBe('kr');
      expect(got.indicator.local).toBeUndefined();
      expect(JSON.stringify(got)).not.toContain('KNPA-2026-0412');
      const th = f.nodes.th!;
      const list = await request(th.url)
        .get('/api/v1/indicators')
        .set('X-Purpose', 'investigation')
        .query({ origin: 'kr' })
        .set('Authorization', await auth(th))
        .expect(200);
      expect(list.body.total).toBe(0);
    }, 40000);

    it('an update (v2) reaches every recipient, and each keeps both versions', async () => {
      const id = await create({
        value: `updated.v${run}.example`,
        tlp: 'GREEN',
        scope: { addressees: ['vn', 'th'] },
      });
      await version(f.nodes.vn!, id, 1);
      await version(f.nodes.th!, id, 1);
      const upd = (await update(id, { confidence: 95 })) as { sharing: unknown[] };
      expect(upd.sharing).toEqual([
        { recipient: 'th', disclosed: true, agreementId: 'sop-charter' },
        { recipient: 'vn', disclosed: true, agreementId: 'kr-vn-mou' },
      ]);
      for (const n of [f.nodes.vn!, f.nodes.th!]) {
        const b = await version(n, id, 2);
        expect(b.indicator.confidence).toBe(95);
        expect(b.indicator.status).toBe('active');
        expect(b.history.map((h) => h.version)).toEqual([1, 2]);
        expect(b.history.every((h) => h.receivedFrom === 'kr')).toBe(true);
      }
    }, 40000);

    it('a scope narrowed on update sends VN a tombstone while TH gets the new version', async () => {
      const id = await create({
        value: `narrowed.v${run}.example`,
        tlp: 'GREEN',
        scope: { addressees: ['vn', 'th'] },
      });
      await version(f.nodes.vn!, id, 1);
      await version(f.nodes.th!, id, 1);
      const upd = (await update(id, { scope: { addressees: ['th'] }, confidence: 60 })) as {
        sharing: { recipient: string; disclosed: boolean; reason?: string }[];
      };
      expect(upd.sharing).toEqual([
        { recipient: 'th', disclosed: true, agreementId: 'sop-charter' },
        expect.objectContaining({ recipient: 'vn', disclosed: false, reason: 'NOT_IN_SCOPE' }),
      ]);
      const vn = await version(f.nodes.vn!, id, 2);
      expect(vn.indicator.status).toBe('retracted');
      // The tombstone repeats what VN already held, nothing of the version it may not see.
      expect(vn.indicator.confidence).toBe(80);
      expect(vn.indicator.scope).toEqual({ addressees: ['vn', 'th'] });
      const th = await version(f.nodes.th!, id, 2);
      expect(th.indicator.status).toBe('active');
      expect(th.indicator.confidence).toBe(60);
      expect(th.indicator.scope).toEqual({ addressees: ['th'] });
      // A later version goes only where it is allowed: VN, already withdrawn, gets nothing more.
      await update(id, { confidence: 61 });
      await version(f.nodes.th!, id, 3);
      const kr = f.nodes.kr!;
      const d = await eventually(
        async () => {
          const b = await at(kr, id);
          const ds = b?.disclosures as { addressee: string; version: number; status: string }[];
          return ds?.length === 5 && ds.every((x) => x.status === 'acknowledged') ? ds : undefined;
        },
        20000,
        'every disclosure acknowledged',
      );
      expect(d.map((x) => `${x.addressee}@${x.version}`).sort()).toEqual(
        ['th@1', 'th@2', 'th@3', 'vn@1', 'vn@2'].sort(),
      );
      const after = await at(f.nodes.vn!, id);
      expect(after?.indicator.version).toBe(2);
      expect(after?.indicator.status).toBe('retracted');
      // Retracting it later does not send VN another tombstone either.
      await retract(id);
      await version(f.nodes.th!, id, 4);
      expect((await at(f.nodes.vn!, id))?.indicator.version).toBe(2);
    }, 60000);

    it('a retraction reaches every earlier recipient', async () => {
      const id = await create({
        value: `retracted.v${run}.example`,
        tlp: 'GREEN',
        scope: { addressees: ['vn', 'th'] },
      });
      await version(f.nodes.vn!, id, 1);
      await version(f.nodes.th!, id, 1);
      await update(id, { confidence: 50 });
      await version(f.nodes.vn!, id, 2);
      await version(f.nodes.th!, id, 2);
      const r = (await retract(id)) as { indicator: { status: string; version: number } };
      expect(r.indicator).toEqual(expect.objectContaining({ status: 'retracted', version: 3 }));
      for (const n of [f.nodes.vn!, f.nodes.th!]) {
        const b = await version(n, id, 3);
        expect(b.indicator.status).toBe('retracted');
        expect(b.history.map((h) => h.version)).toEqual([1, 2, 3]);
        const listed = await request(n.url)
          .get('/api/v1/indicators')
          .set('X-Purpose', 'investigation')
          .query({ status: 'retracted', type: 'domain', value: `retracted.v${run}.example` })
          .set('Authorization', await auth(n))
          .expect(200);
        expect(listed.body.total).toBe(1);
      }
      const kr = f.nodes.kr!;
      await request(kr.url)
        .post(`/api/v1/indicators/${id}/retract`)
        .set('Authorization', await auth(kr))
        .expect(409);
    }, 60000);
  });
}
