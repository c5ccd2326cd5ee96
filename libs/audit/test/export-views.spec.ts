// verifyExport with checkpoints that witnesses kept (ADR 0062): a view must match the export's
// tree at its size, and the report says how far each witness countersigned.
import { describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { canonicalize, toB64u, type KeyResolver } from '../../protocol/src/index.js';
import {
  MemoryTree,
  encodeFrontier,
  entryLeafHash,
  recordRef,
  signStatement,
  toEntry,
  verifyExport,
  type AuditEntry,
  type ExportManifestFile,
} from '../src/index.js';

const ID = '0b8a6c2e-1f7d-4c59-9a57-5f0e3c1b2a90';
const AT = '2026-11-29T10:00:00.000Z';

function keys(kid: string): { sign: { kid: string; key: KeyObject }; resolve: KeyResolver } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { sign: { kid, key: privateKey }, resolve: () => publicKey };
}

const hub = keys('hub-sign');
const witnesses = { kr: keys('kr-sign'), vn: keys('vn-sign') };

/** The hub's log: `n` entries, one per record version. */
function entries(n: number): AuditEntry[] {
  return Array.from({ length: n }, (_, i) =>
    toEntry('hub', i, {
      at: AT,
      actor: 'kr',
      op: 'receipt',
      partner: 'kr',
      records: [recordRef('kr', ID, i + 1)],
    }),
  );
}

function rootOf(es: readonly AuditEntry[], size: number): string {
  const t = new MemoryTree();
  for (const e of es.slice(0, size)) t.append(entryLeafHash(e));
  return toB64u(t.root());
}

const checkpoint = (size: number, root: string) =>
  signStatement({ v: 1, type: 'checkpoint', log: 'hub', size, root, at: AT }, hub.sign);

const cosign = (witness: 'kr' | 'vn', size: number, root: string) =>
  signStatement(
    { v: 1, type: 'cosignature', witness, log: 'hub', size, root, at: AT, witnessedAt: AT },
    witnesses[witness].sign,
  );

/** An export of the whole log with checkpoints at `sizes`; kr cosigned all, vn only the first. */
async function exportOf(es: readonly AuditEntry[], sizes: readonly number[]) {
  const lines = es.map((e) => canonicalize(e));
  const manifest = await signStatement(
    {
      v: 1,
      type: 'audit-export',
      log: 'hub',
      start: 0,
      size: es.length,
      root: rootOf(es, es.length),
      sha256: createHash('sha256')
        .update(lines.map((l) => `${l}\n`).join(''))
        .digest('base64url'),
      prefix: encodeFrontier([]),
      exportedAt: AT,
      exportedBy: 'auditor.lee',
    },
    hub.sign,
  );
  const file: ExportManifestFile = {
    manifest,
    checkpoints: await Promise.all(sizes.map((s) => checkpoint(s, rootOf(es, s)))),
    cosignatures: [
      ...(await Promise.all(sizes.map((s) => cosign('kr', s, rootOf(es, s))))),
      await cosign('vn', sizes[0]!, rootOf(es, sizes[0]!)),
    ],
    directory: 'not read by verifyExport',
  };
  return { file, lines };
}

const witnessKeyFor = (w: string) => (w === 'kr' || w === 'vn' ? witnesses[w].resolve : undefined);

describe('an export checked against the checkpoints its witnesses kept', () => {
  const es = entries(30);

  it('reports how far each witness countersigned', async () => {
    const { file, lines } = await exportOf(es, [10, 20, 30]);
    const r = await verifyExport({ file, lines, resolveLogKey: hub.resolve, witnessKeyFor });
    expect(r.ok).toBe(true);
    expect(r.newestCheckpoint).toBe(30);
    expect(r.cosignedUpTo).toEqual({ kr: 30, vn: 10 });
    expect(r.witnesses).toEqual(['kr', 'vn']);
    expect(r.witnessed).toBe(3);
    expect(r.views).toEqual([]);
  });

  it('matches the checkpoints the witnesses hold, and leaves those beyond the export for later', async () => {
    const { file, lines } = await exportOf(es, [10, 20, 30]);
    // vn was shown size 15 (no checkpoint of that size is in the export) and size 40 (later).
    const views = [
      { witness: 'vn', checkpoint: await checkpoint(15, rootOf(es, 15)) },
      { witness: 'kr', checkpoint: await checkpoint(30, rootOf(es, 30)) },
      { witness: 'th', checkpoint: await checkpoint(40, rootOf(entries(40), 40)) },
    ];
    const r = await verifyExport({ file, lines, resolveLogKey: hub.resolve, views });
    expect(r.ok).toBe(true);
    expect(r.views.map((v) => [v.witness, v.size, v.status])).toEqual([
      ['vn', 15, 'matched'],
      ['kr', 30, 'matched'],
      ['th', 40, 'beyond'],
    ]);
  });

  it('fails when the log owner signed another root at a size a witness holds: a fork', async () => {
    const { file, lines } = await exportOf(es, [10, 20, 30]);
    // The hub showed vn a log whose entry 12 differs: its own signature, another tree.
    const other = entries(30);
    other[12] = toEntry('hub', 12, {
      at: AT,
      actor: 'vn',
      op: 'receipt',
      partner: 'vn',
      records: [recordRef('vn', ID, 1)],
    });
    const views = [{ witness: 'vn', checkpoint: await checkpoint(25, rootOf(other, 25)) }];
    const r = await verifyExport({ file, lines, resolveLogKey: hub.resolve, views });
    expect(r.ok).toBe(false);
    expect(r.views[0]).toMatchObject({ witness: 'vn', size: 25, status: 'forked' });
    expect(r.failure?.position).toBe(25);
    expect(r.failure?.reason).toMatch(/forked \(vn was shown another log\)/);
    // The export alone is sound: only the witness's checkpoint shows the fork.
    expect((await verifyExport({ file, lines, resolveLogKey: hub.resolve })).ok).toBe(true);
  });

  it('refuses a view not signed by the log owner, or of another log', async () => {
    const { file, lines } = await exportOf(es, [10]);
    const forged = await signStatement(
      { v: 1, type: 'checkpoint', log: 'hub', size: 5, root: rootOf(es, 5), at: AT },
      witnesses.kr.sign,
    );
    const r = await verifyExport({
      file,
      lines,
      resolveLogKey: hub.resolve,
      views: [{ witness: 'kr', checkpoint: forged }],
    });
    expect(r.ok).toBe(false);
    expect(r.failure?.reason).toMatch(/checkpoint kept by kr/);
    const otherLog = await signStatement(
      { v: 1, type: 'checkpoint', log: 'kr', size: 5, root: rootOf(es, 5), at: AT },
      hub.sign,
    );
    const r2 = await verifyExport({
      file,
      lines,
      resolveLogKey: hub.resolve,
      views: [{ witness: 'vn', checkpoint: otherLog }],
    });
    expect(r2.ok).toBe(false);
    expect(r2.failure?.reason).toMatch(/is of log kr, not hub/);
  });
});
