import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { canonicalize, toB64u, type KeyResolver } from '../../protocol/src/index.js';
import {
  Frontier,
  LogVerifier,
  MemoryTree,
  consistencyPath,
  entryLeafHash,
  judgeCheckpoint,
  openCheckpoint,
  openCosignature,
  parseAuditEntry,
  recordRef,
  signStatement,
  toEntry,
  type AuditEntry,
  type Checkpoint,
} from '../src/index.js';

const ID = '0b8a6c2e-1f7d-4c59-9a57-5f0e3c1b2a90';

function entries(n: number, log = 'kr'): AuditEntry[] {
  return Array.from({ length: n }, (_, i) =>
    toEntry(log, i, {
      at: `2026-11-28T10:00:${String(i % 60).padStart(2, '0')}.000Z`,
      actor: 'analyst.kim',
      op: i % 2 ? 'consultation' : 'collection',
      ...(i % 2 ? { purpose: 'investigation:KNPA-2026-0412' } : {}),
      records: [recordRef('kr', ID, i + 1)],
    }),
  );
}

const lines = (es: AuditEntry[]): string[] => es.map((e) => canonicalize(e));

function checkpointAt(es: AuditEntry[], size: number): Checkpoint {
  const t = new MemoryTree();
  for (const e of es.slice(0, size)) t.append(entryLeafHash(e));
  return {
    v: 1,
    type: 'checkpoint',
    log: 'kr',
    size,
    root: toB64u(t.root()),
    at: '2026-11-28T10:01:00.000Z',
  };
}

function verify(ls: string[], cps: Checkpoint[]): ReturnType<LogVerifier['finish']> {
  const v = new LogVerifier('kr', cps);
  for (const l of ls) if (!v.push(l)) break;
  return v.finish();
}

describe('audit entries', () => {
  it('refuse fields outside the model, so no indicator value can be stored in one', () => {
    const e = { ...entries(1)[0]!, value: 'newtoki469.com' };
    expect(() => parseAuditEntry(e)).toThrow(/value: is not an entry field/);
  });

  it('refuse a consultation without a purpose and a purpose that could carry a domain', () => {
    const [, c] = entries(2);
    const { purpose: _p, ...noPurpose } = c!;
    expect(() => parseAuditEntry(noPurpose)).toThrow(/a consultation needs one/);
    expect(() => parseAuditEntry({ ...c, purpose: 'investigation:newtoki469.com' })).toThrow(
      /not a valid purpose/,
    );
    expect(() => parseAuditEntry({ ...c, detail: { q: 'http://x.example' } })).not.toThrow();
    expect(() => parseAuditEntry({ ...c, detail: { q: 'a b\n' } })).toThrow(/short metadata/);
  });
});

describe('verification of a log against its signed checkpoints', () => {
  const es = entries(20);
  const cps = [checkpointAt(es, 4), checkpointAt(es, 12), checkpointAt(es, 20)];

  it('accepts the untouched log', () => {
    const r = verify(lines(es), cps);
    expect(r).toMatchObject({ ok: true, size: 20, checkpointsMatched: 3, uncovered: 0 });
  });

  it('finds a rewritten entry at its position', () => {
    const ls = lines(es);
    ls[7] = canonicalize({ ...es[7], actor: 'analyst.lee' });
    expect(verify(ls, cps).failure?.position).toBe(4); // first entry after the last good checkpoint
    ls[7] = ls[7].replace('"seq":7', '"seq":8');
    expect(verify(ls, cps).failure?.position).toBe(7);
  });

  it('finds a deleted entry where the positions break', () => {
    const ls = lines(es);
    ls.splice(9, 1);
    expect(verify(ls, cps).failure).toMatchObject({ position: 9 });
  });

  it('finds an inserted entry and reordered entries', () => {
    const ins = lines(es);
    ins.splice(5, 0, canonicalize({ ...es[5], actor: 'intruder' }));
    // The forged row is self-consistent; the break shows at the genuine row it pushed down.
    expect(verify(ins, cps).failure).toMatchObject({
      position: 6,
      reason: expect.stringContaining('says it is entry 5'),
    });
    const swap = lines(es);
    [swap[13], swap[14]] = [swap[14]!, swap[13]!];
    expect(verify(swap, cps).failure).toMatchObject({ position: 13 });
  });

  it('finds a truncated tail that a checkpoint had signed', () => {
    const r = verify(lines(es).slice(0, 15), cps);
    expect(r.failure?.position).toBe(15);
  });

  it('reports entries not yet covered by a checkpoint without failing', () => {
    expect(verify(lines(es), cps.slice(0, 2))).toMatchObject({ ok: true, uncovered: 8 });
  });

  it('verifies a pruned log from the right edge kept at the prune point', () => {
    const t = new MemoryTree();
    for (const e of es.slice(0, 12)) t.append(entryLeafHash(e));
    const v = new LogVerifier('kr', cps, Frontier.fromReader(t, 12));
    for (const l of lines(es).slice(12)) v.push(l);
    expect(v.finish()).toMatchObject({
      ok: true,
      checkpointsMatched: 2,
      checkpointsBeforeStart: 1,
    });
    const bad = new Frontier(12, [undefined, undefined, t.node(2, 2), t.node(3, 0)]);
    const w = new LogVerifier('kr', cps, bad);
    expect(w.finish().failure?.position).toBe(12);
  });
});

describe('signed checkpoints and the witness rule', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = {
    kid: 'kr-sign',
    key: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })),
  };
  const resolve: KeyResolver = () => publicKey;
  const es = entries(30);
  const tree = new MemoryTree();
  for (const e of es) tree.append(entryLeafHash(e));
  const at = (size: number): Checkpoint => checkpointAt(es, size);
  const proof = (from: number, to: number) => ({
    from,
    path: consistencyPath(tree, from, to).map(toB64u),
  });

  it('round-trip, and a cosignature cannot pass for a checkpoint', async () => {
    const jws = await signStatement(at(10), key);
    expect(await openCheckpoint(jws, resolve)).toEqual(at(10));
    const cosig = await signStatement(
      { ...at(10), type: 'cosignature', witness: 'hub', witnessedAt: '2026-11-28T10:02:00.000Z' },
      key,
    );
    await expect(openCheckpoint(cosig, resolve)).rejects.toThrow(/fields must be exactly/);
    expect((await openCosignature(cosig, resolve)).witness).toBe('hub');
    const other = generateKeyPairSync('ed25519').publicKey;
    await expect(openCheckpoint(jws, () => other)).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('countersigns the first checkpoint and each consistent extension', () => {
    const first = judgeCheckpoint(undefined, at(10), []);
    expect(first).toMatchObject({ ok: true, first: true });
    const next = judgeCheckpoint({ size: 10, root: at(10).root, at: at(10).at }, at(25), [
      proof(4, 25),
      proof(10, 25),
    ]);
    expect(next).toMatchObject({ ok: true, first: false, head: { size: 25 } });
  });

  it('refuses a rollback to a smaller size', () => {
    const v = judgeCheckpoint({ size: 25, root: at(25).root, at: at(25).at }, at(10), []);
    expect(v).toMatchObject({ ok: false, code: 'CHECKPOINT_ROLLBACK' });
  });

  it('refuses a fork: the same size with another root', () => {
    const forked = { ...at(25), root: at(24).root };
    const v = judgeCheckpoint({ size: 25, root: at(25).root, at: at(25).at }, forked, []);
    expect(v).toMatchObject({ ok: false, code: 'CHECKPOINT_FORK' });
  });

  it('refuses a fork: a larger tree that does not extend the witnessed one', () => {
    const rewritten = entries(30).map((e, i) => (i === 3 ? { ...e, actor: 'someone.else' } : e));
    const t2 = new MemoryTree();
    for (const e of rewritten) t2.append(entryLeafHash(e));
    const cp = { ...at(30), root: toB64u(t2.root()) };
    const claim = { from: 10, path: consistencyPath(t2, 10, 30).map(toB64u) };
    const v = judgeCheckpoint({ size: 10, root: at(10).root, at: at(10).at }, cp, [claim]);
    expect(v).toMatchObject({ ok: false, code: 'CHECKPOINT_FORK' });
  });

  it('does not countersign an extension it cannot check', () => {
    const v = judgeCheckpoint({ size: 10, root: at(10).root, at: at(10).at }, at(25), [
      proof(4, 25),
    ]);
    expect(v).toMatchObject({ ok: false, code: 'CHECKPOINT_INCONSISTENT' });
  });
});
