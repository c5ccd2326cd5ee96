import { describe, expect, it } from '@jest/globals';
import { recordRef, reconcile, toEntry, type AuditEntry } from '../src/index.js';

const at = '2026-11-28T10:00:00.000Z';
const ROOT_A = 'A'.repeat(43);
const ROOT_B = 'B'.repeat(43);
const rec = (n: number): string =>
  recordRef('kr', `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, 1);

function sent(seq: string, root: string, records: string[], i = 0): AuditEntry {
  return toEntry('kr', i, {
    at,
    actor: 'system',
    op: 'disclosure',
    partner: 'vn',
    agreement: 'kr-vn-mou',
    bundle: { seq, root },
    records,
  });
}
function got(
  seq: string,
  root: string,
  records: string[],
  op: 'receipt' | 'rejection' = 'receipt',
): AuditEntry {
  return toEntry('vn', 0, {
    at,
    actor: 'kr',
    op,
    partner: 'kr',
    bundle: { seq, root },
    records,
    ...(op === 'rejection' ? { reason: 'SCOPE_DENIED' } : {}),
  });
}

describe('reconciliation of a sender with a receiver', () => {
  it('matches every record received or rejected once under the disclosed root', () => {
    const r = reconcile({
      sender: 'kr',
      receiver: 'vn',
      senderEntries: [sent('1', ROOT_A, [rec(1), rec(2)])],
      receiverEntries: [got('1', ROOT_A, [rec(1)]), got('1', ROOT_A, [rec(2)], 'rejection')],
    });
    expect(r).toMatchObject({ recordsDisclosed: 2, recordsMatched: 2, findings: [] });
  });

  it('classifies lost, duplicated, unexpected and digest mismatch', () => {
    const r = reconcile({
      sender: 'kr',
      receiver: 'vn',
      senderEntries: [
        sent('1', ROOT_A, [rec(1)]),
        sent('2', ROOT_A, [rec(2)]),
        sent('3', ROOT_A, [rec(3)]),
        sent('5', ROOT_A, [rec(5)]),
      ],
      receiverEntries: [
        got('1', ROOT_A, [rec(1)]),
        got('1', ROOT_A, [rec(1)]),
        got('3', ROOT_B, [rec(3)]),
        got('4', ROOT_A, [rec(4)]),
        got('5', ROOT_A, [rec(5), rec(6)]),
      ],
    });
    const by = (k: string): string[] => r.findings.filter((f) => f.kind === k).map((f) => f.record);
    expect(by('lost')).toEqual([rec(2)]);
    expect(by('duplicated')).toEqual([rec(1)]);
    expect(by('digest-mismatch')).toEqual([rec(3)]);
    expect(by('unexpected').sort()).toEqual([rec(4), rec(6)].sort());
    expect(r.recordsMatched).toBe(1);
  });

  it('ignores other partners on both sides', () => {
    const other = toEntry('kr', 0, {
      at,
      actor: 'system',
      op: 'disclosure',
      partner: 'th',
      bundle: { seq: '1', root: ROOT_A },
      records: [rec(9)],
    });
    const r = reconcile({
      sender: 'kr',
      receiver: 'vn',
      senderEntries: [other],
      receiverEntries: [],
    });
    expect(r.findings).toEqual([]);
  });
});
