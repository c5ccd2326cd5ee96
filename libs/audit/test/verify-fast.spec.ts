// The verifier's fast path (ADR 0046): its own hashing and entry serialization must give exactly
// what libs/protocol gives, and every line it does not recognise must still be judged strictly.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { canonicalize, leafHash, nodeHash, toB64u } from '../../protocol/src/index.js';
import {
  LogVerifier,
  MemoryTree,
  entryLeafHash,
  recordRef,
  toEntry,
  type AuditEntry,
  type AuditEvent,
  type Checkpoint,
} from '../src/index.js';
import { fastLeafHashText, fastNodeHash } from '../src/hash.js';
import { canonicalEntryText } from '../src/entry.js';

const ID = '0b8a6c2e-1f7d-4c59-9a57-5f0e3c1b2a90';
const AT = '2026-11-28T10:00:00.000Z';

/** Entries using every field and every kind of detail value, in scrambled key order. */
const EVENTS: AuditEvent[] = [
  { at: AT, actor: 'system', op: 'erasure', reason: 'expiry', records: [] },
  { at: AT, actor: 'analyst.kim@kr', op: 'consultation', purpose: 'investigation:KR-1/a_b-c' },
  {
    at: AT,
    actor: 'vn',
    op: 'disclosure',
    partner: 'vn',
    agreement: 'agr-kr-vn.2026',
    bundle: { seq: '9223372036854775807', root: 'A'.repeat(43) },
    records: [recordRef('kr', ID, 1), recordRef('vn', ID, 2147483647)],
    detail: { zeta: 'a b:c/d,e@f=g+h-i_j.k', Alpha: true, alpha: false, n: -7, m: 0, b2: '' },
  },
  {
    at: AT,
    actor: 'hub',
    op: 'combination',
    records: [recordRef('kr', ID, 3)],
    detail: { aggregates: 2, route: 'aggregate' },
    reason: 'ingest',
  },
];

function logOf(events: AuditEvent[]): { lines: string[]; checkpoint: Checkpoint } {
  const es: AuditEntry[] = events.map((e, i) => toEntry('kr', i, e));
  const t = new MemoryTree();
  for (const e of es) t.append(entryLeafHash(e));
  return {
    lines: es.map((e) => canonicalize(e)),
    checkpoint: {
      v: 1,
      type: 'checkpoint',
      log: 'kr',
      size: es.length,
      root: toB64u(t.root()),
      at: AT,
    },
  };
}

function verify(lines: string[], cp: Checkpoint) {
  const v = new LogVerifier('kr', [cp]);
  for (const l of lines) if (!v.push(l)) break;
  return v.finish();
}

describe("the verifier's fast path", () => {
  it('hashes leaves and nodes exactly as libs/protocol does', () => {
    for (const n of [0, 1, 31, 32, 33, 55, 56, 63, 64, 1023, 1024, 1025, 5000]) {
      for (const text of ['a'.repeat(n), 'é€'.repeat(n)]) {
        const want = Buffer.from(leafHash(Buffer.from(text, 'utf8')));
        expect(Buffer.from(fastLeafHashText(text)).equals(want)).toBe(true);
      }
    }
    for (let i = 0; i < 50; i++) {
      const l = new Uint8Array(randomBytes(32));
      const r = new Uint8Array(randomBytes(32));
      expect(Buffer.from(fastNodeHash(l, r)).equals(Buffer.from(nodeHash(l, r)))).toBe(true);
    }
  });

  it('writes every kind of entry exactly as RFC 8785 canonicalization does', () => {
    for (const [i, e] of EVENTS.entries()) {
      const entry = toEntry('kr', i, e);
      expect(canonicalEntryText(entry)).toBe(canonicalize(entry));
    }
  });

  it('accepts a log of every kind of entry', () => {
    const { lines, checkpoint } = logOf(EVENTS);
    expect(verify(lines, checkpoint)).toMatchObject({ ok: true, checkpointsMatched: 1 });
    // Lines given as bytes take the same path.
    const v = new LogVerifier('kr', [checkpoint]);
    for (const l of lines) v.push(Buffer.from(l, 'utf8'));
    expect(v.finish().ok).toBe(true);
  });

  it.each([
    [
      'members out of order',
      (l: string) => l.replace('{"actor":"system",', '{').replace(/}$/, ',"actor":"system"}'),
    ],
    ['whitespace', (l: string) => l.replace('"op":', '"op": ')],
    ['a trailing carriage return', (l: string) => `${l}\r`],
    ['an escaped character', (l: string) => l.replace('"system"', '"\\u0073ystem"')],
    ['a duplicated member', (l: string) => l.replace('"v":1}', '"v":1,"v":1}')],
    ['negative zero', (l: string) => l.replace('"records":[]', '"records":[],"detail":{"n":-0}')],
    ['an empty line', () => ''],
  ])('refuses an entry with %s at its position', (_name, edit) => {
    const { lines, checkpoint } = logOf(EVENTS);
    lines[0] = edit(lines[0]!);
    const r = verify(lines, checkpoint);
    expect(r.ok).toBe(false);
    expect(r.failure?.position).toBe(0);
  });
});
