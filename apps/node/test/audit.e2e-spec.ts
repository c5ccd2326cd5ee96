import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import request from 'supertest';
import {
  canonicalBytes,
  directoryKeyResolver,
  fromB64u,
  leafHash,
  parseStrictJson,
  verifyConsistency,
  verifyInclusion,
} from '../../../libs/protocol/src/index.js';
import {
  verifyExport,
  type AuditEntry,
  type ExportManifestFile,
} from '../../../libs/audit/src/index.js';
import { AuditService } from '../src/audit/audit.service.js';
import {
  PG_URL,
  eventually,
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
  textBody,
} from './federation.harness.js';

const VALUE = 'audit-grep-4711.example';

async function bearer(n: RunningNode, role: 'analyst' | 'auditor' | 'supervisor' | 'admin') {
  return `Bearer ${await n.token([role], `${role}.${n.id}`)}`;
}

async function entries(n: RunningNode, query: Record<string, string>): Promise<AuditEntry[]> {
  const r = await request(n.url)
    .get('/api/v1/audit/entries')
    .query(query)
    .set('Authorization', await bearer(n, 'auditor'));
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.items as AuditEntry[];
}

/** Export through the auditor API and verify it offline, as `fedctl audit verify` does. */
async function exportAndVerify(f: TestFederation, n: RunningNode) {
  const auth = await bearer(n, 'auditor');
  const m = await request(n.url).get('/api/v1/audit/export/manifest').set('Authorization', auth);
  if (m.status !== 200) throw new Error(JSON.stringify(m.body));
  const file = m.body as ExportManifestFile;
  const size = manifestSize(file);
  const e = await request(n.url)
    .get('/api/v1/audit/export/entries')
    .query({ size })
    .set('Authorization', auth)
    .buffer(true)
    .parse(textBody);
  const text = e.body as string;
  const directory = f.fed.directory;
  const result = await verifyExport({
    file,
    lines: text.split('\n').filter((l) => l !== ''),
    resolveLogKey: directoryKeyResolver(directory, {
      at: new Date(),
      mode: 'historical',
      member: n.id,
    }),
    witnessKeyFor: (w) =>
      w === 'hub'
        ? directoryKeyResolver(directory, { at: new Date(), mode: 'historical', member: 'hub' })
        : undefined,
  });
  return { result, text, file };
}

describe('the tamper-evident audit log of a node (SQLite)', () => {
  let f: TestFederation;
  let id: string;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'] });
    const kr = f.nodes.kr!;
    const created = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', await bearer(kr, 'analyst'))
      .send(indicatorBody({ value: VALUE }));
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    id = created.body.indicator.id as string;
    await request(kr.url)
      .put(`/api/v1/indicators/${id}`)
      .set('Authorization', await bearer(kr, 'analyst'))
      .send({ confidence: 90 })
      .expect(200);
    await eventually(
      async () => {
        const r = await request(f.nodes.vn!.url)
          .get(`/api/v1/indicators/kr/${id}`)
          .set('X-Purpose', 'investigation:VN-2026-77')
          .set('Authorization', await bearer(f.nodes.vn!, 'analyst'));
        return r.status === 200 && r.body.indicator.version === 2 ? true : undefined;
      },
      30000,
      'version 2 at VN',
    );
    await request(kr.url)
      .post(`/api/v1/indicators/${id}/retract`)
      .set('Authorization', await bearer(kr, 'analyst'))
      .expect(200);
    await eventually(
      async () => {
        const ack = await entries(kr, { op: 'disclosure', partner: 'vn' });
        return ack.filter((e) => e.reason === 'acknowledged').length >= 3 ? true : undefined;
      },
      30000,
      'three acknowledged bundles at KR',
    );
  }, 120000);

  afterAll(async () => {
    await f?.stop();
  });

  it('logs collection, alteration, erasure, consultation with its purpose, disclosure and receipt', async () => {
    const kr = f.nodes.kr!;
    const vn = f.nodes.vn!;
    const krLog = await entries(kr, { record: id });
    const ops = krLog.map((e) => `${e.op}${e.reason ? `:${e.reason}` : ''}`);
    expect(ops).toEqual(
      expect.arrayContaining(['collection', 'alteration', 'erasure:retraction', 'disclosure']),
    );
    const creation = krLog.find((e) => e.op === 'collection')!;
    expect(creation).toMatchObject({ actor: 'analyst.kr', records: [`kr/${id}@1`] });
    const disclosures = krLog.filter((e) => e.op === 'disclosure');
    expect(disclosures).toHaveLength(3);
    for (const d of disclosures) {
      expect(d).toMatchObject({ partner: 'vn', agreement: 'kr-vn-mou' });
      expect(d.bundle?.root).toMatch(/^[\w-]{43}$/);
    }
    const vnLog = await entries(vn, { record: id });
    const receipts = vnLog.filter((e) => e.op === 'receipt');
    expect(receipts.map((e) => e.bundle)).toEqual(disclosures.map((d) => d.bundle));
    const reads = vnLog.filter((e) => e.op === 'consultation');
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads[0]).toMatchObject({ actor: 'analyst.vn', purpose: 'investigation:VN-2026-77' });
  });

  it('refuses a read without a stated purpose, and reads nothing', async () => {
    const vn = f.nodes.vn!;
    const before = (await entries(vn, { op: 'consultation' })).length;
    for (const purpose of [undefined, 'curiosity', `investigation:${VALUE}`]) {
      const req = request(vn.url)
        .get('/api/v1/indicators')
        .set('Authorization', await bearer(vn, 'analyst'));
      const r = await (purpose ? req.set('X-Purpose', purpose) : req);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('PURPOSE_REQUIRED');
      expect(JSON.stringify(r.body)).not.toContain('newtoki');
    }
    const search = await request(vn.url)
      .get('/api/v1/indicators')
      .query({ type: 'domain', value: VALUE })
      .set('X-Purpose', 'deconfliction')
      .set('Authorization', await bearer(vn, 'analyst'))
      .expect(200);
    expect(search.body.total).toBe(1);
    const after = await entries(vn, { op: 'consultation' });
    expect(after).toHaveLength(before + 1);
    expect(after[after.length - 1]).toMatchObject({
      purpose: 'deconfliction',
      records: [`kr/${id}@3`],
      detail: { route: 'search', filters: 'type,value', total: 1 },
    });
  });

  it('lets the auditor read but never write, and only the auditor read the log; its reads are logged', async () => {
    const kr = f.nodes.kr!;
    const auditor = await bearer(kr, 'auditor');
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', auditor)
      .send(indicatorBody())
      .expect(403);
    await request(kr.url)
      .post('/api/v1/indicators/bulk')
      .set('Authorization', auditor)
      .send({ items: [indicatorBody()] })
      .expect(403);
    await request(kr.url)
      .put(`/api/v1/indicators/${id}`)
      .set('Authorization', auditor)
      .send({ confidence: 1 })
      .expect(403);
    await request(kr.url)
      .post(`/api/v1/indicators/${id}/retract`)
      .set('Authorization', auditor)
      .expect(403);
    await request(kr.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'audit')
      .set('Authorization', auditor)
      .expect(403);
    for (const role of ['analyst', 'supervisor', 'admin'] as const) {
      for (const path of [
        'entries',
        'checkpoints',
        'export/manifest',
        'proofs/consistency?from=0',
      ]) {
        await request(kr.url)
          .get(`/api/v1/audit/${path}`)
          .set('Authorization', await bearer(kr, role))
          .expect(403);
      }
    }
    await request(kr.url).get('/api/v1/audit/entries').expect(401);
    // Every route of the audit controller is a GET: nothing there can write.
    const routes = await request(kr.url).get('/api/docs-json');
    const paths = (routes.body?.paths ?? {}) as Record<string, Record<string, unknown>>;
    const auditPaths = Object.entries(paths).filter(([p]) => p.startsWith('/api/v1/audit'));
    expect(auditPaths.length).toBeGreaterThanOrEqual(6);
    for (const [, methods] of auditPaths) expect(Object.keys(methods)).toEqual(['get']);
    const own = await entries(kr, { op: 'audit', actor: 'auditor.kr' });
    expect(own.length).toBeGreaterThanOrEqual(1);
    expect(own[0]).toMatchObject({ purpose: 'audit', detail: { route: 'entries' } });
  });

  it('serves inclusion and consistency proofs that verify against a signed checkpoint', async () => {
    const kr = f.nodes.kr!;
    const svc = kr.app.get(AuditService);
    const first = await svc.checkpoint();
    expect(first).toBeDefined();
    await request(kr.url)
      .get('/api/v1/audit/entries')
      .set('Authorization', await bearer(kr, 'auditor'));
    await svc.checkpoint();
    const cps = await request(kr.url)
      .get('/api/v1/audit/checkpoints')
      .set('Authorization', await bearer(kr, 'auditor'));
    const [a, b] = (cps.body.items as { size: number; root: string }[]).slice(-2);
    const inc = await request(kr.url)
      .get('/api/v1/audit/proofs/inclusion')
      .query({ seq: 1, size: b!.size })
      .set('Authorization', await bearer(kr, 'auditor'))
      .expect(200);
    expect(inc.body.root).toBe(b!.root);
    const leaf = leafHash(canonicalBytes(inc.body.entry));
    expect(verifyInclusion(leaf, 1, b!.size, inc.body.path.map(fromB64u), fromB64u(b!.root))).toBe(
      true,
    );
    const con = await request(kr.url)
      .get('/api/v1/audit/proofs/consistency')
      .query({ from: a!.size, to: b!.size })
      .set('Authorization', await bearer(kr, 'auditor'))
      .expect(200);
    expect(
      verifyConsistency(
        a!.size,
        b!.size,
        fromB64u(a!.root),
        fromB64u(b!.root),
        con.body.path.map(fromB64u),
      ),
    ).toBe(true);
    await request(kr.url)
      .get('/api/v1/audit/proofs/inclusion')
      .query({ seq: 10 ** 6 })
      .set('Authorization', await bearer(kr, 'auditor'))
      .expect(400);
  });

  it('exports JSON Lines with a signed manifest that verifies offline, with no indicator value anywhere', async () => {
    const kr = f.nodes.kr!;
    const vn = f.nodes.vn!;
    for (const n of [kr, vn]) {
      await n.app.get(AuditService).checkpoint();
      const { result, text, file } = await exportAndVerify(f, n);
      expect(result).toMatchObject({ ok: true });
      expect(result.checkpointsMatched).toBeGreaterThanOrEqual(1);
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain('KNPA-2026-0412');
      expect(JSON.stringify(file)).not.toContain(VALUE);
      const db = new Database(join(f.dir, `${n.id}.sqlite`), { readonly: true });
      try {
        for (const t of ['audit_entry', 'audit_node', 'audit_checkpoint', 'audit_state']) {
          const rows = db.prepare(`SELECT * FROM ${t}`).all();
          expect(JSON.stringify(rows)).not.toContain(VALUE);
        }
        // The grep proves something: the value is in the node's database, outside the log.
        expect(JSON.stringify(db.prepare('SELECT value FROM indicator').all())).toContain(VALUE);
      } finally {
        db.close();
      }
    }
  });

  describe('verification finds each kind of tampering with the stored rows', () => {
    let db: Database.Database;
    let file: ExportManifestFile;
    let size: number;
    const kr = (): RunningNode => f.nodes.kr!;

    beforeAll(async () => {
      await kr().app.get(AuditService).checkpoint();
      ({ file } = await exportAndVerify(f, kr()));
      size = manifestSize(file);
      db = new Database(join(f.dir, 'kr.sqlite'));
    });

    afterAll(() => {
      db?.close();
    });

    /** Verify the rows as stored now against the manifest and checkpoints signed before. */
    async function verifyRows() {
      const rows = db
        .prepare('SELECT entry_json FROM audit_entry WHERE seq < ? ORDER BY seq')
        .all(size) as { entry_json: string }[];
      const directory = f.fed.directory;
      return verifyExport({
        file,
        lines: rows.map((r) => r.entry_json),
        resolveLogKey: directoryKeyResolver(directory, {
          at: new Date(),
          mode: 'historical',
          member: 'kr',
        }),
      });
    }

    function shift(from: number, by: number): void {
      // Through a far offset, so that no two rows ever share a position on the way.
      db.prepare('UPDATE audit_entry SET seq = seq + 1000000000 WHERE seq >= ?').run(from);
      db.prepare('UPDATE audit_entry SET seq = seq - 1000000000 + ? WHERE seq >= 1000000000').run(
        by,
      );
    }

    it('starts from a log that verifies', async () => {
      expect((await verifyRows()).ok).toBe(true);
    });

    it('a rewritten row', async () => {
      const old = (
        db.prepare('SELECT entry_json FROM audit_entry WHERE seq = 2').get() as {
          entry_json: string;
        }
      ).entry_json;
      db.prepare('UPDATE audit_entry SET entry_json = ? WHERE seq = 2').run(
        old.replace('"actor":"', '"actor":"x'),
      );
      const r = await verifyRows();
      expect(r.ok).toBe(false);
      // A rewrite that keeps the position shows as the signed interval that contains it.
      expect(r.failure?.position).toBeLessThanOrEqual(2);
      expect(r.failure?.reason).toMatch(/do not hash to the root signed/);
      db.prepare('UPDATE audit_entry SET entry_json = ? WHERE seq = 2').run(old);
      expect((await verifyRows()).ok).toBe(true);
    });

    it('a deleted row', async () => {
      const row = db.prepare('SELECT * FROM audit_entry WHERE seq = 3').get() as Record<
        string,
        unknown
      >;
      db.prepare('DELETE FROM audit_entry WHERE seq = 3').run();
      expect((await verifyRows()).failure).toMatchObject({
        position: 3,
        reason: expect.stringContaining('says it is entry 4'),
      });
      db.prepare(
        'INSERT INTO audit_entry (seq, at, actor, op, partner, agreement, records, entry_json) VALUES (@seq, @at, @actor, @op, @partner, @agreement, @records, @entry_json)',
      ).run(row);
      expect((await verifyRows()).ok).toBe(true);
    });

    it('an inserted row', async () => {
      const row = db.prepare('SELECT * FROM audit_entry WHERE seq = 2').get() as Record<
        string,
        unknown
      >;
      shift(2, 1);
      const forged = {
        ...row,
        actor: 'forger',
        entry_json: (row.entry_json as string).replace(/"actor":"[^"]*"/, '"actor":"forger"'),
      };
      db.prepare(
        'INSERT INTO audit_entry (seq, at, actor, op, partner, agreement, records, entry_json) VALUES (@seq, @at, @actor, @op, @partner, @agreement, @records, @entry_json)',
      ).run(forged);
      // The forged row claims position 2 and is self-consistent: the break shows at the genuine
      // row it pushed down (and the signed root no longer matches either).
      expect((await verifyRows()).failure).toMatchObject({
        position: 3,
        reason: expect.stringContaining('says it is entry 2'),
      });
      db.prepare('DELETE FROM audit_entry WHERE seq = 2').run();
      shift(3, -1);
      expect((await verifyRows()).ok).toBe(true);
    });

    it('reordered rows', async () => {
      db.prepare('UPDATE audit_entry SET seq = -4 WHERE seq = 4').run();
      db.prepare('UPDATE audit_entry SET seq = 4 WHERE seq = 5').run();
      db.prepare('UPDATE audit_entry SET seq = 5 WHERE seq = -4').run();
      expect((await verifyRows()).failure).toMatchObject({
        position: 4,
        reason: expect.stringContaining('says it is entry 5'),
      });
      db.prepare('UPDATE audit_entry SET seq = -4 WHERE seq = 4').run();
      db.prepare('UPDATE audit_entry SET seq = 4 WHERE seq = 5').run();
      db.prepare('UPDATE audit_entry SET seq = 5 WHERE seq = -4').run();
      expect((await exportAndVerify(f, kr())).result.ok).toBe(true);
    });
  });

  it('prunes entries past retention at a checkpoint, logs the pruning, and the export still verifies', async () => {
    const kr = f.nodes.kr!;
    const svc = kr.app.get(AuditService);
    await svc.checkpoint();
    const later = new Date(Date.now() + 1096 * 24 * 3600 * 1000);
    const { start, deleted } = await svc.prune(later);
    expect(start).toBeGreaterThan(0);
    expect(deleted).toBe(start);
    const { result } = await exportAndVerify(f, kr);
    expect(result).toMatchObject({ ok: true, checkpointsBeforeStart: expect.any(Number) });
    expect(result.manifest?.start).toBe(start);
    const pruning = await entries(kr, { op: 'erasure', afterSeq: String(start - 1) });
    expect(pruning.at(-1)).toMatchObject({
      reason: 'log-retention',
      detail: { before: start, deleted },
    });
    // Proofs of pruned positions still come from the kept node hashes.
    await request(kr.url)
      .get('/api/v1/audit/proofs/inclusion')
      .query({ seq: 0 })
      .set('Authorization', await bearer(kr, 'auditor'))
      .expect(200);
  });
});

const pgClient = pg.Client;

function manifestSize(file: ExportManifestFile): number {
  return (
    parseStrictJson(Buffer.from(file.manifest.split('.')[1]!, 'base64url')) as { size: number }
  ).size;
}

describe('the audit log on PostgreSQL', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'], database: 'postgres' });
  }, 120000);

  afterAll(async () => {
    await f?.stop();
  });

  it('verifies, and finds a row rewritten in PostgreSQL', async () => {
    const kr = f.nodes.kr!;
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', await bearer(kr, 'analyst'))
      .send(indicatorBody({ value: VALUE }))
      .expect(201);
    await request(kr.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'analysis')
      .set('Authorization', await bearer(kr, 'analyst'))
      .expect(200);
    await kr.app.get(AuditService).checkpoint();
    const before = await exportAndVerify(f, kr);
    expect(before.result.ok).toBe(true);
    expect(before.text).not.toContain(VALUE);
    const pg = new pgClient({ connectionString: PG_URL });
    await pg.connect();
    try {
      const schema = kr.env.FEDINTEL_DATABASE_SCHEMA!;
      const t = `"${schema}".audit_entry`;
      const { rows } = await pg.query<{ entry_json: string }>(
        `SELECT entry_json FROM ${t} WHERE seq = 0`,
      );
      const old = rows[0]!.entry_json;
      await pg.query(`UPDATE ${t} SET entry_json = $1 WHERE seq = 0`, [
        old.replace('"actor":"', '"actor":"x'),
      ]);
      const after = await exportAndVerify(f, kr);
      expect(after.result.ok).toBe(false);
      expect(after.result.failure?.position).toBe(0);
      await pg.query(`UPDATE ${t} SET entry_json = $1 WHERE seq = 0`, [old]);
      expect((await exportAndVerify(f, kr)).result.ok).toBe(true);
    } finally {
      await pg.end();
    }
  });
});
