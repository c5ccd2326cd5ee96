import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_IMPORT_DEFAULTS,
  InteropError,
  importCsv,
  importList,
  parseCsvRows,
  readCsv,
  readList,
  toCsv,
} from '../src/index.js';
import { everyKind } from './records.js';

describe('CSV and plain lists', () => {
  it('parses RFC 4180 quoting, embedded commas, quotes and line breaks', () => {
    expect(parseCsvRows('a,"b,c","d""e"\r\n"f\ng",h\n')).toEqual([
      { line: 1, fields: ['a', 'b,c', 'd"e'] },
      { line: 2, fields: ['f\ng', 'h'] },
    ]);
  });

  it('reports each bad line with its number and reason, and keeps the good ones', () => {
    const r = importCsv(
      [
        'type,value,tlp,confidence',
        'domain,Toki.Example.,green,70',
        'domain,not a domain,,',
        'ip,203.0.113.5,purple,',
        'url,https://toki.example/x,,101',
        'domain,toki.example,,',
        'domain,only-two-fields',
      ].join('\n'),
      { ...DEFAULT_IMPORT_DEFAULTS },
    );
    expect(r.candidates.map((c) => [c.ref, c.value, c.tlp, c.confidence])).toEqual([
      ['line 2', 'toki.example', 'GREEN', 70],
    ]);
    expect(r.report.slice(1).map((e) => [e.ref, e.outcome, e.code])).toEqual([
      ['line 3', 'invalid', 'INVALID_VALUE'],
      ['line 4', 'invalid', 'INVALID_FIELD'],
      ['line 5', 'invalid', 'INVALID_FIELD'],
      ['line 6', 'skipped', 'DUPLICATE'],
      ['line 7', 'invalid', 'INVALID_FIELD'],
    ]);
    expect(r.report[2]?.detail).toMatch(/tlp: "PURPLE"/);
  });

  it('refuses a header with an unknown or missing column', () => {
    expect(() => importCsv('type,value,colour\n')).toThrow(InteropError);
    expect(() => importCsv('value\nx.example\n')).toThrow(/missing column "type"/);
  });

  it('reads a plain list: comments, blank lines and hosts-file lines', () => {
    const r = importList('# piracy\n\nA.example\n0.0.0.0 b.example\nbad_domain\n', {
      ...DEFAULT_IMPORT_DEFAULTS,
      source: 'list.txt',
    });
    expect(r.candidates.map((c) => c.value)).toEqual(['a.example', 'b.example']);
    expect(r.report.map((e) => [e.ref, e.outcome])).toEqual([
      ['line 3', 'mapped'],
      ['line 4', 'mapped'],
      ['line 5', 'invalid'],
    ]);
    expect(r.candidates[0]?.local.sources).toEqual(['file:list.txt#line 3']);
  });

  it('reads a list a slice at a time: rows after the slice are not read yet', () => {
    const rows = readList('a.example\nbad_domain\nb.example\nA.example\nc.example\nd.example\n');
    expect(rows.total).toBe(6);
    // Two candidates need three rows (line 2 is refused); nothing past line 3 is read.
    expect(rows.next(2).map((c) => c.value)).toEqual(['a.example', 'b.example']);
    expect(rows.read).toBe(3);
    expect(rows.report.map((e) => e.ref)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(rows.done).toBe(false);
    // A repeat of a value from an earlier slice is dropped and names where it was first seen.
    expect(rows.next(2).map((c) => c.value)).toEqual(['c.example', 'd.example']);
    expect(rows.report[3]).toMatchObject({
      ref: 'line 4',
      outcome: 'skipped',
      code: 'DUPLICATE',
      detail: 'same value as line 1',
    });
    expect(rows.done).toBe(true);
    expect(rows.next(2)).toEqual([]);
    expect(rows.all().summary).toMatchObject({ mapped: 4, skipped: 1, invalid: 1 });
  });

  it('checks a CSV header before any row, and reads its rows in slices too', () => {
    expect(() => readCsv('type,value,colour\ndomain,a.example\n')).toThrow(/unknown column/);
    const rows = readCsv('type,value\ndomain,a.example\ndomain\ndomain,b.example\n');
    expect(rows.total).toBe(3);
    expect(rows.next(1).map((c) => c.value)).toEqual(['a.example']);
    expect(rows.read).toBe(1);
    expect(rows.next(5).map((c) => c.value)).toEqual(['b.example']);
    expect(rows.report.map((e) => [e.ref, e.outcome])).toEqual([
      ['line 2', 'mapped'],
      ['line 3', 'invalid'],
      ['line 4', 'mapped'],
    ]);
  });

  it('exports CSV that imports back to the same indicators', () => {
    const records = everyKind();
    const back = importCsv(toCsv(records));
    expect(back.summary.invalid).toBe(0);
    expect(
      back.candidates.map((c) => [
        c.type,
        c.value,
        c.subtype,
        c.chain,
        c.tlp,
        c.handling,
        c.confidence,
      ]),
    ).toEqual(
      records.map((r) => [r.type, r.value, r.subtype, r.chain, r.tlp, r.handling, r.confidence]),
    );
  });
});
