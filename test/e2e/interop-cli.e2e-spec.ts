// `fedctl import` / `fedctl export` against a real node: the sample files import with a per-line
// report, a dry run stores nothing, a re-import creates nothing new, and the exports re-read.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fedctl } from './fedctl.js';
import {
  startTestFederation,
  type TestFederation,
} from '../../apps/node/test/federation.harness.js';
import { importCsv } from '../../libs/interop/src/index.js';
import { stixSchemaErrors } from '../../libs/interop/test/stix-validator.js';

const SAMPLES = join(process.cwd(), 'samples', 'interop');

describe('fedctl import and export against a running node', () => {
  let f: TestFederation;
  let node: string;
  let token: string;
  let tmp: string;

  beforeAll(async () => {
    f = await startTestFederation({ members: ['kr', 'vn'], nodes: ['kr'] });
    node = f.nodes.kr!.url;
    token = await f.nodes.kr!.token(['analyst'], 'analyst.import');
    tmp = mkdtempSync(join(tmpdir(), 'fedctl-interop-'));
  }, 90000);

  afterAll(async () => {
    await f?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const total = async (): Promise<number> => {
    const r = await fetch(`${node}/api/v1/indicators?pageSize=1`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Purpose': 'quality-review' },
    });
    return ((await r.json()) as { total: number }).total;
  };

  it('a dry run of the piracy list validates every line and stores nothing', async () => {
    const r = await fedctl([
      'import',
      join(SAMPLES, 'piracy-domains.txt'),
      '--format',
      'list',
      '--node',
      node,
      '--token',
      token,
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dry run: 2154 rows read: \d+ would be created, 0 already held/);
    expect(r.err).toMatch(/\[#+\] 2154\/2154 rows|\[#+\.*\] \d+\/\d+ rows/);
    expect(await total()).toBe(0);
  }, 60000);

  it('imports the piracy list once; importing it again creates nothing new', async () => {
    const args = [
      'import',
      join(SAMPLES, 'piracy-domains.txt'),
      '--format',
      'list',
      '--node',
      node,
      '--token',
      token,
      '--categories',
      'film',
      '--batch',
      '1000',
    ];
    const first = await fedctl(args);
    expect(first.code).toBe(0);
    const m = /2154 rows read: (\d+) created, 0 already held, (\d+) invalid/.exec(first.out);
    expect(m).not.toBeNull();
    const created = Number(m![1]);
    expect(created + Number(m![2])).toBe(2154);
    expect(await total()).toBe(created);
    const second = await fedctl(args);
    expect(second.out).toContain(`0 created, ${created} already held`);
    expect(await total()).toBe(created);
  }, 120000);

  it('a CSV imports with a per-line error report naming the line and the reason', async () => {
    const report = join(tmp, 'report.json');
    const r = await fedctl([
      'import',
      join(SAMPLES, 'indicators.csv'),
      '--format',
      'csv',
      '--node',
      node,
      '--token',
      token,
      '--report',
      report,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/6 rows read: 5 created, 0 already held, 1 invalid/);
    expect(r.err).toMatch(/line 7: invalid INVALID_VALUE/);
    const problems = JSON.parse(readFileSync(report, 'utf8')) as { ref: string }[];
    expect(problems.map((p) => p.ref)).toEqual(['line 7']);
  }, 60000);

  it('a MISP event imports with its mapping account', async () => {
    const r = await fedctl([
      'import',
      join(SAMPLES, 'misp-event-ursnif-domains.json'),
      '--format',
      'misp',
      '--node',
      // federation.json gives the API URL; fedctl accepts it as well as the base URL.
      `${node}/api/v1`,
      '--token',
      token,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/5 attributes read: 5 created, 0 already held, 0 invalid, 0 skipped/);
  }, 60000);

  it('exports CSV that re-imports to the same values, and STIX that validates', async () => {
    const csv = await fedctl([
      'export',
      '--format',
      'csv',
      '--node',
      node,
      '--token',
      token,
      '--type',
      'payment-account',
    ]);
    expect(csv.code).toBe(0);
    const back = importCsv(csv.out);
    expect(back.candidates.map((c) => c.value).sort()).toEqual([
      '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
      'GB82WEST12345698765432',
    ]);
    const out = join(tmp, 'export.json');
    const stix = await fedctl([
      'export',
      '--format',
      'stix',
      '--node',
      node,
      '--token',
      token,
      '--out',
      out,
    ]);
    expect(stix.code).toBe(0);
    const bundle = JSON.parse(readFileSync(out, 'utf8')) as { objects: { type: string }[] };
    expect(bundle.objects.length).toBeGreaterThan(2000);
    expect(stixSchemaErrors(bundle as never)).toEqual([]);
  }, 120000);

  it('bad arguments exit 2 and name the option', async () => {
    const r = await fedctl([
      'import',
      join(SAMPLES, 'indicators.csv'),
      '--format',
      'csv',
      '--node',
      node,
      '--token',
      token,
      '--tlp',
      'PURPLE',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--tlp/);
    const missing = await fedctl([
      'import',
      join(tmp, 'nope.csv'),
      '--format',
      'csv',
      '--node',
      node,
      '--token',
      token,
    ]);
    expect(missing.code).toBe(2);
  });
});
