import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InteropError, importMispEvent, toMispEvent } from '../src/index.js';
import { everyKind, makeRecord } from './records.js';

const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', name), 'utf8'),
  ) as unknown;

const event = (attrs: unknown[], extra: Record<string, unknown> = {}) => ({
  Event: { uuid: 'e1', info: 'test', Attribute: attrs, ...extra },
});

describe('MISP import of the real events in ../shared/data', () => {
  it('misp-event-example: 6 of 12 mapped (4 url, 1 hostname, 1 btc) as TLP:CLEAR from tlp:white', () => {
    const r = importMispEvent(fixture('misp-event-example.json'));
    expect(r.report).toHaveLength(12);
    expect(r.summary).toMatchObject({ mapped: 6, skipped: 6, invalid: 0 });
    expect(r.summary.byKind).toMatchObject({
      url: { mapped: 4, skipped: 1 },
      hostname: { mapped: 1 },
      btc: { mapped: 1 },
      text: { skipped: 3 },
      'filename|sha1': { skipped: 1 },
      'filename|sha256': { skipped: 1 },
    });
    expect(new Set(r.candidates.map((c) => c.tlp))).toEqual(new Set(['CLEAR']));
    expect(r.report.find((e) => e.value === 'decrypttozxybarc.onion')?.detail).toMatch(/scheme/);
  });

  it('misp-event-ursnif-domains: all 5 mapped, and without a tlp tag the default TLP:AMBER applies', () => {
    const r = importMispEvent(fixture('misp-event-ursnif-domains.json'));
    expect(r.summary).toMatchObject({ mapped: 5, skipped: 0, invalid: 0 });
    expect(r.summary.byKind).toMatchObject({ domain: { mapped: 4 }, url: { mapped: 1 } });
    expect(new Set(r.candidates.map((c) => c.tlp))).toEqual(new Set(['AMBER']));
    expect(r.report[0]?.detail).toMatch(/no tlp tag/);
  });

  it('misp-event-osint-asert-emails: 38 of 370 mapped; hashes, files, links and schemeless urls are not', () => {
    const r = importMispEvent(fixture('misp-event-osint-asert-emails.json'));
    expect(r.report).toHaveLength(370);
    expect(r.summary).toMatchObject({ mapped: 38, skipped: 332, invalid: 0 });
    expect(r.summary.byKind).toMatchObject({
      hostname: { mapped: 21 },
      'ip-dst': { mapped: 9 },
      domain: { mapped: 3 },
      url: { mapped: 3, skipped: 11 },
      'email-src': { mapped: 2 },
      link: { skipped: 64 },
      sha1: { skipped: 58 },
    });
    // Every candidate keeps where it came from, locally.
    expect(r.candidates.every((c) => c.local.sources[0]?.startsWith('misp:'))).toBe(true);
  });
});

describe('MISP mapping rules', () => {
  it('takes the strictest of event tag, attribute tag and distribution', () => {
    const r = importMispEvent(
      event(
        [
          { uuid: 'a1', type: 'domain', value: 'a.example', Tag: [{ name: 'tlp:red' }] },
          { uuid: 'a2', type: 'domain', value: 'b.example', distribution: '0' },
          { uuid: 'a3', type: 'domain', value: 'c.example' },
        ],
        { Tag: [{ name: 'tlp:green' }] },
      ),
    );
    expect(r.candidates.map((c) => c.tlp)).toEqual(['RED', 'AMBER+STRICT', 'GREEN']);
  });

  it('refuses attributes under a tlp tag it does not know (never guesses looser)', () => {
    const r = importMispEvent(
      event([{ uuid: 'a1', type: 'domain', value: 'a.example' }], {
        Tag: [{ name: 'tlp:ex:chr' }],
      }),
    );
    expect(r.candidates).toHaveLength(0);
    expect(r.report[0]).toMatchObject({ outcome: 'skipped', code: 'UNKNOWN_MARKING' });
  });

  it('maps ip-src|port, email-src, iban and btc; refuses xmr with a reason', () => {
    const r = importMispEvent(
      event([
        { uuid: 'a1', type: 'ip-src|port', value: '203.0.113.9|8080' },
        { uuid: 'a2', type: 'email-src', value: 'Admin@Toki.Example' },
        { uuid: 'a3', type: 'iban', value: 'GB82 WEST 1234 5698 7654 32' },
        { uuid: 'a4', type: 'btc', value: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2' },
        {
          uuid: 'a5',
          type: 'xmr',
          value:
            '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge',
        },
        { uuid: 'a6', type: 'domain', value: 'a.example', deleted: true },
      ]),
    );
    expect(r.candidates.map((c) => [c.type, c.value])).toEqual([
      ['ip', '203.0.113.9'],
      ['operator-alias', 'admin@toki.example'],
      ['payment-account', 'GB82WEST12345698765432'],
      ['payment-account', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
    ]);
    expect(r.report.slice(4).map((e) => e.code)).toEqual(['UNMAPPABLE', 'DELETED']);
  });

  it('refuses a document that is not a MISP event', () => {
    expect(() => importMispEvent({ hello: 1 })).toThrow(InteropError);
  });

  it('exports records as a MISP event that imports back with the same values and TLPs', () => {
    const records = everyKind().filter((r) => r.status === 'active');
    const ev = toMispEvent(records, { info: 'FedIntel export', date: '2026-11-28T00:00:00.000Z' });
    const back = importMispEvent(ev);
    // Each attribute keeps its own TLP: the event tag is the strictest, so re-import narrows.
    // An IPTV service URL travels as a MISP url (MISP has no IPTV type): documented loss.
    expect(back.candidates.map((c) => [c.type, c.value])).toEqual(
      records.map((r) => [
        r.type === 'iptv-service' && r.value.startsWith('http') ? 'url' : r.type,
        r.value,
      ]),
    );
    const tags = (ev.Event.Tag as { name: string }[]).map((t) => t.name);
    expect(tags).toEqual(['tlp:red']);
    expect(back.candidates.every((c) => c.tlp === 'RED')).toBe(true);
  });

  it('leaves retracted records out of a MISP export', () => {
    const ev = toMispEvent([makeRecord({ status: 'retracted', version: 2 })], {
      info: 'x',
      date: '2026-11-28',
    });
    expect(ev.Event.Attribute).toEqual([]);
  });
});
