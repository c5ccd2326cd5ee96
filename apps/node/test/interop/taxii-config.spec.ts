import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '../../../../libs/interop/test/records.js';
import { NodeTaxiiSource } from '../../src/interop/node-taxii.source.js';
import { loadTaxiiConfig } from '../../src/interop/taxii.config.js';

const dir = mkdtempSync(join(tmpdir(), 'taxii-config-'));
const write = (doc: unknown): string => {
  const f = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(doc));
  return f;
};
const COL = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const base = (col: Record<string, unknown> = {}, acc: Record<string, unknown> = {}) => ({
  collections: [{ id: COL, title: 'c', ...col }],
  accounts: [{ name: 'a', tokenSha256: 'a'.repeat(64), read: [COL], purpose: 'analysis', ...acc }],
});

describe('node TAXII configuration', () => {
  it('loads the sample configuration of the README', () => {
    const c = loadTaxiiConfig(join(process.cwd(), 'samples', 'interop', 'taxii.json'));
    expect(c.apiRoot).toBe('kr');
    expect(c.collections.map((x) => x.maxTlp)).toEqual(['GREEN', 'AMBER', 'AMBER']);
    expect(c.accounts.map((a) => a.name)).toEqual(['adnet', 'payproc', 'rightsholder']);
  });

  it.each([
    ['a TLP:RED collection', base({ maxTlp: 'RED' }), /never served by TAXII/],
    ['an unknown key', base({ colour: 'red' }), /collections\[0\]\.colour: unknown key/],
    ['a write grant on a read-only collection', base({}, { write: [COL] }), /not writable/],
    [
      'an account without secret',
      base({}, { tokenSha256: undefined }),
      /passwordSha256 or tokenSha256/,
    ],
    ['a clear-text secret', base({}, { tokenSha256: 'secret' }), /tokenSha256/],
    ['an unknown collection id', base({}, { read: ['x'] }), /unknown collection/],
  ])('refuses %s, naming the field', (_name, doc, message) => {
    expect(() => loadTaxiiConfig(write(doc))).toThrow(message);
  });
});

describe('what a node may serve over TAXII', () => {
  const config = loadTaxiiConfig(write(base({ maxTlp: 'AMBER', origins: 'all' })));
  const source = new NodeTaxiiSource(
    config,
    null as never,
    { memberId: 'kr' } as never,
    null as never,
  );
  const col = config.collections[0]!;

  it('serves own shared records and partners H0/H1 records within the TLP ceiling', () => {
    expect(source.admits(col, makeRecord({ origin: 'kr', tlp: 'GREEN' }))).toBe(true);
    expect(source.admits(col, makeRecord({ origin: 'vn', handling: { code: 'H1' } }))).toBe(true);
  });

  it('never serves records held for review, partners H2/H3 records, or above the ceiling', () => {
    expect(source.admits(col, makeRecord({ origin: 'kr', scope: { addressees: ['kr'] } }))).toBe(
      false,
    );
    expect(source.admits(col, makeRecord({ origin: 'vn', handling: { code: 'H2' } }))).toBe(false);
    expect(
      source.admits(col, makeRecord({ origin: 'vn', handling: { code: 'H3', conditions: 'ask' } })),
    ).toBe(false);
    expect(source.admits(col, makeRecord({ origin: 'kr', tlp: 'AMBER+STRICT' }))).toBe(false);
  });
});
