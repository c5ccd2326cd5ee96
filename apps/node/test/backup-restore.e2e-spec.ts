// Backup and restore of a node (docs/operations.md): a node restored from an older backup gets
// back what partners sent it since, reuses no bundle number, and its partners refuse nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import {
  backupDatabase,
  databaseLocation,
  restoreDatabase,
} from '../../../libs/backup/src/index.js';
import { NODE_DATA_SOURCE } from '../src/persistence/node.store.js';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

const db = (n: RunningNode) => n.app.get<DataSource>(NODE_DATA_SOURCE);

async function create(n: RunningNode, value: string, to: string): Promise<string> {
  const res = await request(n.url)
    .post('/api/v1/indicators')
    .set('Authorization', `Bearer ${await n.token(['analyst'])}`)
    .send(indicatorBody({ value, scope: { addressees: [to] } }));
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

const arrives = (n: RunningNode, origin: string, id: string) =>
  eventually(
    async () => ((await holds(n, origin, id)) ? true : undefined),
    30_000,
    `${id} at ${n.id}`,
  );

async function deadLetterCodes(n: RunningNode): Promise<string[]> {
  const rows: { code: string }[] = await db(n).query('SELECT code FROM dead_letter');
  return rows.map((r) => r.code);
}

describe('backup and restore of a node (SQLite)', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'] });
  }, 90_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('KR restored from an older backup gets back what VN sent since, reuses no bundle number, and VN refuses nothing', async () => {
    const vn = f.nodes.vn!;
    const r1 = await create(f.nodes.kr!, 'backup-r1.example', 'vn');
    const v1 = await create(vn, 'backup-v1.example', 'kr');
    await arrives(vn, 'kr', r1);
    await arrives(f.nodes.kr!, 'vn', v1);

    // Online backup while KR runs.
    const krDb = databaseLocation(f.nodes.kr!.env.FEDINTEL_DATABASE_URL!);
    const backup = join(f.dir, 'kr.backup.sqlite');
    expect(await backupDatabase(krDb, backup)).toBeGreaterThan(0);

    // Life goes on after the backup.
    const r2 = await create(f.nodes.kr!, 'backup-r2.example', 'vn');
    const v2 = await create(vn, 'backup-v2.example', 'kr');
    await arrives(vn, 'kr', r2);
    await arrives(f.nodes.kr!, 'vn', v2);

    // KR's disk dies; the operator restores the backup and starts KR again.
    await f.stopNode('kr');
    await restoreDatabase(krDb, backup, new Date());
    const kr = await f.startNode('kr');
    expect(await holds(kr, 'kr', r2)).toBe(false); // created after the backup: lost at KR (RPO)

    // What VN sent after the backup comes back from KR's inbox.
    await arrives(kr, 'vn', v2);
    expect(await holds(kr, 'vn', v1)).toBe(true);

    // KR's next bundle to VN does not reuse r2's number: VN stores it, no REPLAY anywhere.
    const r3 = await create(kr, 'backup-r3.example', 'vn');
    await arrives(vn, 'kr', r3);
    const seqs: { seq: string }[] = await db(vn).query(
      "SELECT seq FROM inbound_bundle WHERE origin = 'kr' ORDER BY seq",
    );
    expect(new Set(seqs.map((s) => s.seq)).size).toBe(seqs.length);
    const gaps: unknown[] = await db(vn).query("SELECT * FROM sequence_gap WHERE origin = 'kr'");
    expect(gaps).toEqual([]);
    expect(await deadLetterCodes(vn)).toEqual([]);
    // At KR, only VN's receipt for the bundle KR lost with the restore (r2's) is set aside: the
    // evidence, for the operator, of what the backup did not hold.
    const krDead: { code: string; detail: string }[] = await db(kr).query(
      'SELECT code, detail FROM dead_letter',
    );
    expect(krDead).toEqual([
      { code: 'BUNDLE_MALFORMED', detail: expect.stringContaining('receipt for unknown bundle') },
    ]);
    // The marker is cleared: a later restart does not replay again.
    const marker: { value: string }[] = await db(kr).query(
      "SELECT value FROM node_state WHERE key = 'restore.pending'",
    );
    expect(marker[0]?.value ?? '').toBe('');
  }, 150_000);

  it('restore refuses a file that is not a node database', async () => {
    const krDb = databaseLocation(f.nodes.kr!.env.FEDINTEL_DATABASE_URL!);
    const bogus = join(f.dir, 'keys', 'directory.jws');
    await expect(restoreDatabase(krDb, bogus, new Date())).rejects.toThrow();
    await expect(backupDatabase(krDb, bogus)).rejects.toThrow(/exists/);
  });
});
