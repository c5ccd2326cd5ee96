import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  eventually,
  indicatorBody,
  startTestFederation,
  type TestFederation,
} from './federation.harness.js';

describe('sovereign exchange between national nodes (SQLite)', () => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation({});
  }, 60000);

  afterAll(async () => {
    await f?.stop();
  });

  it('an indicator created at KR for the KR–VN MoU arrives verified at VN and never at TH', async () => {
    const kr = f.nodes.kr!;
    const vn = f.nodes.vn!;
    const th = f.nodes.th!;
    const res = await request(kr.url)
      .post('/api/v1/indicators')
      .set('Authorization', `Bearer ${await kr.token(['analyst'])}`)
      .send(indicatorBody({ value: 'NewToki469.COM.' }));
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    const id = res.body.indicator.id as string;
    expect(res.body.indicator.value).toBe('newtoki469.com');
    expect(res.body.sharing).toEqual([
      { recipient: 'vn', disclosed: true, agreementId: 'kr-vn-mou' },
    ]);

    const vnToken = await vn.token(['analyst']);
    const got = await eventually(
      async () => {
        const r = await request(vn.url)
          .get(`/api/v1/indicators/kr/${id}`)
          .set('X-Purpose', 'investigation')
          .set('Authorization', `Bearer ${vnToken}`);
        return r.status === 200 ? r.body : undefined;
      },
      20000,
      'the record at VN',
    );
    expect(got.indicator.value).toBe('newtoki469.com');
    expect(got.indicator.receivedFrom).toBe('kr');
    expect(got.indicator.local).toBeUndefined();
    expect(JSON.stringify(got)).not.toContain('KNPA-2026-0412');
    expect(got.history[0].proof.header).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    // KR's provenance shows the disclosure acknowledged by VN's signed receipt.
    const krToken = await kr.token(['analyst']);
    const prov = await eventually(
      async () => {
        const r = await request(kr.url)
          .get(`/api/v1/indicators/kr/${id}`)
          .set('X-Purpose', 'investigation')
          .set('Authorization', `Bearer ${krToken}`);
        return r.body.disclosures?.[0]?.status === 'acknowledged' ? r.body : undefined;
      },
      20000,
      'the receipt at KR',
    );
    expect(prov.disclosures).toEqual([
      expect.objectContaining({ addressee: 'vn', version: 1, status: 'acknowledged' }),
    ]);
    expect(prov.indicator.local.caseReference).toBe('KNPA-2026-0412');

    const thRes = await request(th.url)
      .get('/api/v1/indicators')
      .set('X-Purpose', 'investigation')
      .set('Authorization', `Bearer ${await th.token(['analyst'])}`)
      .expect(200);
    expect(thRes.body.total).toBe(0);
  }, 60000);
});
