// Upgrading a node in place (docs/operations.md, "Upgrading"): a database left by the first
// release (schema 0001 only, with its records, outbox and inbound state) is migrated by the
// current release at start-up, and the node carries on exchanging where it stopped.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createNodeDataSource } from '../src/persistence/data-source.js';
import { NODE_DATA_SOURCE } from '../src/persistence/node.store.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

const db = (n: RunningNode) => n.app.get<DataSource>(NODE_DATA_SOURCE);

async function create(n: RunningNode, value: string): Promise<string> {
  const res = await request(n.url)
    .post('/api/v1/indicators')
    .set('Authorization', `Bearer ${await n.token(['analyst'])}`)
    .send(indicatorBody({ value, scope: { addressees: ['vn'] } }));
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.indicator.id as string;
}

async function holds(n: RunningNode, origin: string, id: string): Promise<boolean> {
  const rows: unknown[] = await db(n).query(
    'SELECT 1 FROM indicator WHERE origin = ? AND record_id = ?',
    [origin, id],
  );
  return rows.length > 0;
}

describe('upgrading a node in place', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'] });
  }, 90_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('a database from the first release is migrated at start-up; records, numbering and exchange carry on', async () => {
    const vn = f.nodes.vn!;
    const r1 = await create(f.nodes.kr!, 'upgrade-before.example');
    await eventually(
      async () => ((await holds(vn, 'kr', r1)) ? true : undefined),
      30_000,
      'r1 at VN',
    );
    await f.stopNode('kr');

    // Take KR's database back to the first release's schema with the migrations' own down().
    const path = f.nodes.vn!.env.FEDINTEL_DATABASE_URL!.replace('vn.sqlite', 'kr.sqlite');
    const old = createNodeDataSource({ kind: 'sqlite', path: path.slice('sqlite:'.length) });
    await old.initialize();
    const total = old.migrations.length;
    expect(total).toBeGreaterThan(1);
    for (let i = 1; i < total; i++) await old.undoLastMigration({ transaction: 'all' });
    const applied: { name: string }[] = await old.query('SELECT name FROM migrations');
    expect(applied.map((m) => m.name)).toEqual(['Initial1764300000000']);
    await old.destroy();

    // The current release starts on it: pending migrations run once, nothing is lost.
    const kr = await f.startNode('kr');
    const after: { name: string }[] = await db(kr).query('SELECT name FROM migrations');
    expect(after).toHaveLength(total);
    expect(await holds(kr, 'kr', r1)).toBe(true);

    const r2 = await create(kr, 'upgrade-after.example');
    await eventually(
      async () => ((await holds(vn, 'kr', r2)) ? true : undefined),
      30_000,
      'r2 at VN',
    );
    // KR's inbox keeps working after the restart: a record VN sends now is stored at KR.
    const vnRes = await request(vn.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await vn.token(['analyst'])}`)
      .send(indicatorBody({ value: 'upgrade-from-vn.example', scope: { addressees: ['kr'] } }));
    expect(vnRes.status).toBe(201);
    const v1 = vnRes.body.indicator.id as string;
    await eventually(
      async () => ((await holds(kr, 'vn', v1)) ? true : undefined),
      30_000,
      'v1 at KR',
    );
    const dead: { code: string }[] = await db(vn).query('SELECT code FROM dead_letter');
    expect(dead).toEqual([]);
    const seqs: { seq: string }[] = await db(vn).query(
      "SELECT seq FROM inbound_bundle WHERE origin = 'kr' ORDER BY seq",
    );
    expect(seqs.map((s) => BigInt(s.seq))).toEqual(seqs.map((_, i) => BigInt(i + 1)));
  }, 150_000);
});
