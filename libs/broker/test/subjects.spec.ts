import { describe, expect, it } from '@jest/globals';
import {
  deliverPrefix,
  isBrokerError,
  outboxStreamName,
  parseSubject,
  subjectFor,
  tryParseSubject,
} from '../src/index.js';

describe('subjects', () => {
  it('builds and parses fed.v1.<origin>.<addressee>.<kind>', () => {
    expect(subjectFor('kr', 'vn', 'records')).toBe('fed.v1.kr.vn.records');
    expect(parseSubject('fed.v1.hub.th.feed')).toEqual({
      origin: 'hub',
      addressee: 'th',
      kind: 'feed',
    });
    expect(parseSubject(subjectFor('kr', 'all', 'records')).addressee).toBe('all');
  });

  it.each([
    ['kr', 'kr', 'records'],
    ['hub', 'all', 'feed'],
    ['all', 'vn', 'records'],
    ['KR', 'vn', 'records'],
    ['kr', 'v.n', 'records'],
    ['kr', 'vn', 're*cords'],
    ['kr', 'vn', '>'],
    ['sys', 'vn', 'records'],
  ])('refuses origin %s, addressee %s, kind %s', (o, a, k) => {
    let err: unknown;
    try {
      subjectFor(o, a, k);
    } catch (e) {
      err = e;
    }
    expect(isBrokerError(err, 'INVALID_SUBJECT')).toBe(true);
  });

  it.each([
    'fed.v1.kr.vn',
    'fed.v2.kr.vn.records',
    'fed.v1.kr.vn.records.x',
    'fed.v1.*.vn.records',
    '',
  ])('does not parse %s', (s) => expect(tryParseSubject(s)).toBeUndefined());

  it('names outboxes by origin and addressee, and deliver prefixes per reader', () => {
    expect(outboxStreamName('kr', 'vn')).toBe('KR_OUT_VN');
    expect(outboxStreamName('hub', 'th')).toBe('HUB_OUT_TH');
    expect(deliverPrefix('kr', 'vn', 'vn')).toBe('deliver.kr.vn');
    expect(deliverPrefix('kr', 'all', 'th')).toBe('deliver.kr.all.th');
    expect(() => deliverPrefix('kr', 'vn', 'th')).toThrow();
  });
});
