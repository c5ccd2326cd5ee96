// The HTTP door refuses malformed, oversized and unauthorized input, names the offending field,
// and stores nothing; and every HTTP route declares who may call it.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import request from 'supertest';
import { PUBLIC_KEY, ROLES_KEY } from '../../../libs/auth/src/index.js';
import { loadNodeConfig } from '../src/config/node.config.js';
import { NodeModule } from '../src/node.module.js';
import {
  indicatorBody,
  startTestFederation,
  type RunningNode,
  type TestFederation,
} from './federation.harness.js';

describe('HTTP input at the node: refused with the right status, nothing stored', () => {
  let f: TestFederation;
  let kr: RunningNode;
  let analyst: string;

  const total = async (): Promise<number> => {
    const r = await request(kr.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .set('Authorization', analyst)
      .expect(200);
    return r.body.total as number;
  };

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'] });
    kr = f.nodes.kr!;
    analyst = `Bearer ${await kr.token(['analyst'])}`;
    // One valid record, so that "unchanged" is not "still empty".
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .send(indicatorBody({ value: 'baseline-http.example' }))
      .expect(201);
  }, 60000);

  afterAll(async () => {
    await f?.stop();
  });

  const invalid: { name: string; body: () => Record<string, unknown>; field: string }[] = [
    {
      name: 'an unknown top-level field',
      body: () => indicatorBody({ value: 'a1.example', smuggled: 'x' }),
      field: 'smuggled',
    },
    {
      name: 'an unknown nested field',
      body: () => indicatorBody({ value: 'a2.example', handling: { code: 'H1', sneaky: true } }),
      field: 'sneaky',
    },
    {
      name: 'an unknown field inside local',
      body: () =>
        indicatorBody({ value: 'a3.example', local: { caseReference: 'X', informant: 'y' } }),
      field: 'informant',
    },
    {
      name: 'a wrong type',
      body: () => indicatorBody({ value: 'a4.example', confidence: 'high' }),
      field: 'confidence',
    },
    {
      name: 'an invalid enum value',
      body: () => indicatorBody({ value: 'a5.example', tlp: 'PURPLE' }),
      field: 'tlp',
    },
    {
      name: 'an invalid handling code',
      body: () => indicatorBody({ value: 'a6.example', handling: { code: 'H9' } }),
      field: 'handling.code',
    },
    {
      name: 'a malformed addressee',
      body: () => indicatorBody({ value: 'a7.example', scope: { addressees: ['VN!'] } }),
      field: 'addressee',
    },
  ];

  for (const c of invalid) {
    it(`${c.name} → 400 naming ${c.field}`, async () => {
      const before = await total();
      const r = await request(kr.url)
        .post('/api/v1/indicators')
        .set('Authorization', analyst)
        .send(c.body());
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.message)).toContain(c.field);
      expect(await total()).toBe(before);
    });
  }

  it('an IBAN with a bad checksum → 400 naming value (decided by libs/protocol)', async () => {
    const before = await total();
    const r = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .send(
        indicatorBody({
          type: 'payment-account',
          subtype: 'iban',
          value: 'GB82WEST12345698765433',
        }),
      );
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('value');
    expect(await total()).toBe(before);
  });

  it('a body over 2 MB → 413', async () => {
    const before = await total();
    const r = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', analyst)
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify(indicatorBody({ value: 'big.example', sharedNote: 'x'.repeat(2_200_000) })),
      );
    expect(r.status).toBe(413);
    expect(await total()).toBe(before);
  });

  it('a bulk request with one invalid item is refused as a whole', async () => {
    const before = await total();
    const r = await request(kr.url)
      .post('/api/v1/indicators/bulk')
      .set('Authorization', analyst)
      .send({ items: [indicatorBody({ value: 'ok-bulk.example' }), indicatorBody({ tlp: 'X' })] });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.message)).toContain('tlp');
    expect(await total()).toBe(before);
  });

  it('a bulk item without handling → 400 naming handling (BulkItemsPipe), nothing stored', async () => {
    const before = await total();
    const item = indicatorBody({ value: 'no-handling-bulk.example' });
    delete item.handling;
    const r = await request(kr.url)
      .post('/api/v1/indicators/bulk')
      .set('Authorization', analyst)
      .send({ items: [indicatorBody({ value: 'ok-bulk-2.example' }), item] });
    expect(r.status).toBe(400);
    expect(r.body.message).toEqual([
      'items.1.nested property handling must be either object or array',
    ]);
    expect(await total()).toBe(before);
  });

  it('a bulk item that libs/protocol refuses is reported by index; the others are stored', async () => {
    const before = await total();
    const r = await request(kr.url)
      .post('/api/v1/indicators/bulk')
      .set('Authorization', analyst)
      .send({
        items: [
          indicatorBody({ value: 'per-item-1.example' }),
          indicatorBody({
            type: 'payment-account',
            subtype: 'iban',
            value: 'GB82WEST12345698765433',
          }),
          indicatorBody({ value: 'per-item-2.example', validUntil: '2020-01-01T00:00:00.000Z' }),
          indicatorBody({ value: 'Per-Item-3.Example.' }),
        ],
      })
      .expect(200);
    expect(r.body.created).toBe(2);
    expect(r.body.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [1, 'INVALID_VALUE'],
      [2, 'INVALID_FIELD'],
    ]);
    expect(r.body.errors[0].message).toMatch(/^value: /);
    expect(await total()).toBe(before + 2);
    const stored = await request(kr.url)
      .get('/api/v1/indicators?type=domain&value=per-item-3.example')
      .set('X-Purpose', 'investigation')
      .set('Authorization', analyst)
      .expect(200);
    expect(stored.body.total).toBe(1);
    // One audit entry (collection) names exactly the two records stored, not the refused ones.
    const ids: string[] = [];
    for (const value of ['per-item-1.example', 'per-item-3.example']) {
      const s = await request(kr.url)
        .get(`/api/v1/indicators?type=domain&value=${value}`)
        .set('X-Purpose', 'investigation')
        .set('Authorization', analyst)
        .expect(200);
      ids.push(s.body.items[0].id as string);
    }
    const audit = await request(kr.url)
      .get('/api/v1/audit/entries')
      .query({ record: ids[0], op: 'collection' })
      .set('Authorization', `Bearer ${await kr.token(['auditor'])}`)
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].records).toEqual(ids.map((id) => `kr/${id}@1`));
  });

  it('OpenAPI still describes the bulk body (BulkCreateDto) though BulkItemsPipe checks it', async () => {
    const doc = await request(kr.url).get('/api/docs-json').expect(200);
    const body = doc.body.paths['/api/v1/indicators/bulk'].post.requestBody;
    expect(body.content['application/json'].schema.$ref).toBe('#/components/schemas/BulkCreateDto');
    const schema = doc.body.components.schemas.BulkCreateDto;
    expect(schema.properties.items.items.$ref).toBe('#/components/schemas/CreateIndicatorDto');
    // The import-rows body as documented (ADR 0054): rows, shared defaults, file and report.
    const rows = doc.body.components.schemas.ImportItemsDto;
    expect(Object.keys(rows.properties).sort()).toEqual([
      'defaults',
      'dryRun',
      'file',
      'items',
      'report',
    ]);
    const row = doc.body.components.schemas.ImportItemDto;
    expect(row.required).toEqual(['ref', 'value']);
    for (const k of [
      'type',
      'tlp',
      'handling',
      'confidence',
      'categories',
      'firstSeen',
      'source',
    ]) {
      expect(row.properties).toHaveProperty(k);
    }
  });

  it('no token → 401', async () => {
    const before = await total();
    await request(kr.url)
      .post('/api/v1/indicators')
      .send(indicatorBody({ value: 'b1.example' }))
      .expect(401);
    await request(kr.url).get('/api/v1/indicators').expect(401);
    expect(await total()).toBe(before);
  });

  it('a garbage token → 401', async () => {
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', 'Bearer not.a.token')
      .send(indicatorBody({ value: 'b2.example' }))
      .expect(401);
  });

  it('an auditor creating → 403', async () => {
    const before = await total();
    const r = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await kr.token(['auditor'])}`)
      .send(indicatorBody({ value: 'b3.example' }));
    expect(r.status).toBe(403);
    expect(await total()).toBe(before);
  });

  it("a token of another member's node (VN) → 401 at KR", async () => {
    const before = await total();
    await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await f.nodes.vn!.token(['analyst'])}`)
      .send(indicatorBody({ value: 'b4.example' }))
      .expect(401);
    expect(await total()).toBe(before);
  });

  it('an invalid UUID in the path → 400', async () => {
    const before = await total();
    await request(kr.url)
      .put('/api/v1/indicators/not-a-uuid')
      .set('Authorization', analyst)
      .send({ confidence: 10 })
      .expect(400);
    await request(kr.url)
      .post('/api/v1/indicators/123/retract')
      .set('Authorization', analyst)
      .expect(400);
    await request(kr.url)
      .get('/api/v1/indicators/kr/zzz')
      .set('X-Purpose', 'investigation')
      .set('Authorization', analyst)
      .expect(400);
    expect(await total()).toBe(before);
  });

  it('every HTTP route of the node declares @Roles(...) or @Public()', () => {
    const mod = NodeModule.forRoot(loadNodeConfig(kr.env));
    const routes: { route: string; guarded: boolean }[] = [];
    for (const ctrl of mod.controllers ?? []) {
      const proto = (ctrl as { prototype: object }).prototype;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor') continue;
        const handler = (proto as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as number;
        const roles = (Reflect.getMetadata(ROLES_KEY, handler) ??
          Reflect.getMetadata(ROLES_KEY, ctrl)) as string[] | undefined;
        const pub = (Reflect.getMetadata(PUBLIC_KEY, handler) ??
          Reflect.getMetadata(PUBLIC_KEY, ctrl)) as boolean | undefined;
        routes.push({
          route: `${(ctrl as { name: string }).name}.${name} (${method})`,
          guarded: (Array.isArray(roles) && roles.length > 0) || pub === true,
        });
      }
    }
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(routes.map((r) => r.route)).toEqual(
      expect.arrayContaining([expect.stringContaining('IndicatorsController.create')]),
    );
    expect(routes.filter((r) => !r.guarded)).toEqual([]);
  });
});
