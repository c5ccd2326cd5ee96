// The import-rows wire format (ADR 0054) end to end in one process: what `fedctl import` sends
// (apps/cli rowsBody) must come out of the node's ImportRowsPipe as exactly the candidates the
// CLI read, defaults and all, whatever mix of fields the rows have.
import { describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { rowsBody } from '../../apps/cli/src/interop/import-file.js';
import { ImportRowsPipe } from '../../apps/node/src/interop/import-rows.pipe.js';
import { DEFAULT_IMPORT_DEFAULTS, importCsv, importList } from '../../libs/interop/src/index.js';

const pipe = new ImportRowsPipe();
const through = (body: string) => pipe.transform(JSON.parse(body));

function refusal(body: unknown): string[] {
  try {
    pipe.transform(body);
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestException);
    return ((e as BadRequestException).getResponse() as { message: string[] }).message;
  }
  throw new Error('not refused');
}

const CSV = [
  'type,value,subtype,chain,categories,confidence,tlp,handling,handling_conditions,reliability,accuracy,first_seen,valid_until,shared_note',
  'domain,toki-a.example,,,webtoon,80,GREEN,H0,,B,2,,,',
  'domain,toki-b.example,,,,,,,,,,,,',
  'url,https://toki-c.example/ep/1,,,drama;webtoon,60,AMBER,H3,no onward sharing,A,1,2026-01-02T03:04:05.000Z,2027-01-02T03:04:05.000Z,seen in a takedown',
  'payment-account,GB82 WEST 1234 5698 7654 32,iban,,,,,,,,,,,',
  'payment-account,bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,crypto-address,bitcoin,,,RED,,,,,,,',
  'domain,toki-a.example,,,,,,,,,,,,',
  'domain,toki-d.example,,,live-tv,90,GREEN,H1,,C,4,2026-02-01T00:00:00.000Z,,',
].join('\n');

describe('import-rows wire format', () => {
  it('brings every CSV row through rowsBody and the pipe unchanged', () => {
    const parsed = importCsv(`${CSV}\n`, {
      ...DEFAULT_IMPORT_DEFAULTS,
      categories: ['film'],
      source: 'cases.csv',
    });
    expect(parsed.candidates.length).toBe(6);
    // Every window start: the defaults come from a different first row each time.
    for (let start = 0; start < parsed.candidates.length; start++) {
      const part = [...parsed.candidates.slice(start), ...parsed.candidates.slice(0, start)];
      const out = through(rowsBody(part, 'cases.csv', false));
      expect(out.candidates).toEqual(part);
      expect(out).toMatchObject({ dryRun: false, report: 'invalid' });
    }
    expect(through(rowsBody(parsed.candidates, 'cases.csv', true)).dryRun).toBe(true);
  });

  it('states shared fields once: a list row is its ref and value', () => {
    const list = importList('a.example\nb.example\n', {
      ...DEFAULT_IMPORT_DEFAULTS,
      listType: 'domain',
      source: 'l.txt',
    });
    const body = JSON.parse(rowsBody(list.candidates, 'l.txt', false));
    expect(body.items).toEqual([
      { ref: 'line 1', value: 'a.example' },
      { ref: 'line 2', value: 'b.example' },
    ]);
    expect(body.defaults).toMatchObject({ type: 'domain', tlp: 'AMBER', confidence: 50 });
    expect(through(JSON.stringify(body)).candidates).toEqual(list.candidates);
  });

  it('keeps the full form: rows with every field and their own source, no defaults', () => {
    const item = {
      ref: 'r1',
      type: 'domain',
      value: 'x.example',
      categories: [],
      confidence: 10,
      tlp: 'CLEAR',
      handling: { code: 'H0' },
      reliability: 'X',
      accuracy: 3,
      source: 'misc',
    };
    const out = pipe.transform({ items: [item] });
    expect(out.report).toBe('all');
    // Every field as given; the source moves into the local fields.
    const { source: _s, ...bare } = item;
    expect(out.candidates[0]).toEqual({ ...bare, local: { sources: ['misc'] } });
    // Without source or file, the ref is the source.
    expect(pipe.transform({ items: [bare] }).candidates[0]!.local).toEqual({ sources: ['r1'] });
  });

  it('names what is wrong, in the defaults and on the row that lacks a field', () => {
    expect(
      refusal({
        defaults: { tlp: 'PURPLE', confidence: 101, ref: 'x' },
        items: [{ ref: 'a', value: 'a.example' }],
      }),
    ).toEqual([
      'defaults.ref is not allowed',
      'defaults.confidence must be an integer 0..100',
      'defaults.tlp is not a TLP level',
    ]);
    expect(
      refusal({
        defaults: { type: 'domain', categories: [], confidence: 1, handling: { code: 'H0' } },
        items: [
          { ref: 'a', value: 'a.example', tlp: 'GREEN', reliability: 'A', accuracy: 1 },
          { ref: 'b', value: 'b.example', reliability: 'A', accuracy: 1, scope: 'all' },
        ],
      }),
    ).toEqual(['items.1.scope is not allowed', 'items.1.tlp is not a TLP level']);
    expect(refusal({ items: [{ ref: 'a', value: 'a.example' }], report: 'some' })).toContain(
      'report must be all or invalid',
    );
    expect(refusal({ items: [], defaults: [] })).toEqual([
      'items must be an array of 1..5000 rows',
    ]);
    expect(refusal({ items: [{ ref: 1, value: 'x' }], defaults: [] })).toEqual([
      'defaults must be an object',
    ]);
    expect(refusal({ items: [{ ref: 'a', value: 'a' }], file: 'x'.repeat(256) })).toEqual([
      'file must be a string of at most 255 characters',
    ]);
  });
});
