// The `audit` scenario: append throughput of the node's audit log (SQLite, the real store and
// service), proof generation over stored node hashes at 10,000,000 entries, and offline
// verification of a 1,000,000-entry export.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import {
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  leafHash,
  toRfc3339Ms,
  verifyInclusion,
} from '../libs/protocol/src/index.js';
import {
  MemoryTree,
  consistencyPath,
  inclusionPath,
  recordRef,
  treeRoot,
  verifyExport,
} from '../libs/audit/src/index.js';
import { AuditService } from '../apps/node/src/audit/audit.service.js';
import { AuditStore } from '../apps/node/src/audit/audit.store.js';
import type { NodeConfig } from '../apps/node/src/config/node.config.js';
import type { FederationContext } from '../apps/node/src/federation/federation.context.js';
import { openNodeDatabase } from '../apps/node/src/persistence/data-source.js';
import { measure, single, type Figure, type Result, type ScenarioOptions } from './measure.js';

/** Goals of issue 5. */
export const PROOF_GOAL_US = 1000;
export const VERIFY_GOAL_S = 10;

const ID = '0b8a6c2e-1f7d-4c59-9a57-5f0e3c1b2a90';

export async function runAudit(opts: ScenarioOptions = {}): Promise<Result> {
  const quick = opts.quick === true;
  const logSize = opts.n ?? (quick ? 3000 : 1_000_000);
  const treeSize = quick ? 10_000 : 10_000_000;
  const proofOps = quick ? 50 : 2000;
  const figures: Figure[] = [];
  const goals: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-bench-audit-'));
  const sig = await generateSigningKey();
  const signingKey = { kid: sig.kid, key: importPrivateKey(sig.privateJwk, 'Ed25519') };
  const publicKey = importPublicKey(sig.publicJwk, 'Ed25519');
  const ds = await openNodeDatabase({ kind: 'sqlite', path: join(dir, 'audit.sqlite') });
  try {
    // 1. Append: the node's own service and store, callers in waves as the API and sharing make them.
    const federation = {
      memberId: 'kr',
      signingKey,
      directoryJws: 'x.y.z',
    } as unknown as FederationContext;
    const config = { audit: { checkpointIntervalMs: 60000, retentionDays: 1095 } } as NodeConfig;
    const audit = new AuditService(new AuditStore(ds), federation, config);
    await audit.onModuleInit();
    const at = toRfc3339Ms(new Date());
    const wave = 2000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < logSize; i += wave) {
      const work: Promise<void>[] = [];
      for (let k = i; k < Math.min(i + wave, logSize); k++) {
        work.push(
          audit.append({
            at,
            actor: 'analyst.kim',
            op: 'consultation',
            purpose: 'investigation:KNPA-2026-0412',
            records: [recordRef('kr', ID, (k % 1000) + 1)],
            detail: { route: 'get' },
          }),
        );
      }
      await Promise.all(work);
      if (i % 200_000 === 0 && i > 0) await audit.checkpoint();
    }
    const appendUs = Number(process.hrtime.bigint() - t0) / 1000;
    figures.push(
      single(
        `append to the SQLite log (${logSize} entries, waves of ${wave})`,
        'entry',
        logSize,
        appendUs,
      ),
    );
    await audit.checkpoint();

    // 2. Proofs from the database (node hashes fetched in one query) at the log's size.
    figures.push(
      await measure({
        name: `inclusion proof from SQLite at ${logSize} entries`,
        unit: 'proof',
        opsPerRound: quick ? 10 : 200,
        rounds: quick ? 1 : 5,
        warmup: quick ? 0 : 1,
        round: async () => {
          for (let i = 0; i < (quick ? 10 : 200); i++) {
            await audit.inclusion(randomInt(logSize), logSize, { actor: 'bench' });
          }
        },
      }),
    );

    // 3. Verify an export of the whole log offline (the path of `fedctl audit verify`).
    const file = await audit.exportManifest(undefined, { actor: 'bench' });
    const lines: string[] = [];
    const signed = JSON.parse(
      Buffer.from(file.manifest.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { size: number };
    for await (const l of audit.exportLines(signed.size)) lines.push(l.slice(0, -1));
    const v0 = process.hrtime.bigint();
    const verified = await verifyExport({ file, lines, resolveLogKey: () => publicKey });
    const verifyUs = Number(process.hrtime.bigint() - v0) / 1000;
    if (!verified.ok) throw new Error(`bench export does not verify: ${verified.failure?.reason}`);
    figures.push(
      single(`verify an export of ${lines.length} entries`, 'entry', lines.length, verifyUs),
    );
    goals.push(
      `verify of a ${lines.length}-entry log under ${VERIFY_GOAL_S} s: measured ${(verifyUs / 1e6).toFixed(2)} s`,
    );

    // 4. Proofs over stored node hashes at 10,000,000 entries (in memory, 32 bytes a node).
    const tree = new MemoryTree();
    const buf = Buffer.alloc(8);
    const b0 = process.hrtime.bigint();
    for (let i = 0; i < treeSize; i++) {
      buf.writeUInt32BE(i, 4);
      tree.append(leafHash(buf));
    }
    const buildUs = Number(process.hrtime.bigint() - b0) / 1000;
    figures.push(
      single(
        `hash and store ${treeSize} leaves with their nodes (memory)`,
        'leaf',
        treeSize,
        buildUs,
      ),
    );
    const root = treeRoot(tree, treeSize);
    const inc = await measure({
      name: `inclusion proof at ${treeSize} entries (stored nodes)`,
      unit: 'proof',
      opsPerRound: proofOps,
      rounds: quick ? 1 : 7,
      warmup: quick ? 0 : 2,
      round: () => {
        for (let i = 0; i < proofOps; i++) {
          const idx = randomInt(treeSize);
          const path = inclusionPath(tree, idx, treeSize);
          if (path.length === 0) throw new Error('empty proof');
        }
      },
    });
    figures.push(inc);
    const con = await measure({
      name: `consistency proof at ${treeSize} entries (stored nodes)`,
      unit: 'proof',
      opsPerRound: proofOps,
      rounds: quick ? 1 : 7,
      warmup: quick ? 0 : 2,
      round: () => {
        for (let i = 0; i < proofOps; i++)
          consistencyPath(tree, 1 + randomInt(treeSize - 1), treeSize);
      },
    });
    figures.push(con);
    // One proof checked, so the bench cannot time a wrong computation.
    const idx = randomInt(treeSize);
    buf.writeUInt32BE(idx, 4);
    if (!verifyInclusion(leafHash(buf), idx, treeSize, inclusionPath(tree, idx, treeSize), root)) {
      throw new Error('inclusion proof does not verify');
    }
    goals.push(
      `inclusion proof at ${treeSize} entries under ${PROOF_GOAL_US} µs: measured ${inc.usPerOp.toFixed(1)} µs; consistency proof ${con.usPerOp.toFixed(1)} µs`,
    );
  } finally {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    scenario: 'audit',
    at: toRfc3339Ms(new Date()),
    method: [
      `append: apps/node AuditService and AuditStore on SQLite (WAL), ${logSize} consultation entries appended by concurrent callers in waves of 2000; each batch is one transaction with the tree nodes it completes; a checkpoint every 200,000 entries.`,
      'inclusion proof from SQLite: AuditService.inclusion (the auditor API path without HTTP): the O(log n) node hashes it needs fetched in one query, plus logging the auditor read.',
      'verify: libs/audit verifyExport over the exported JSON Lines (manifest and checkpoint signatures, every entry parsed strictly, canonical form, position, leaf hash, roots at each checkpoint, file digest), lines already in memory.',
      `proofs at ${treeSize}: libs/audit MemoryTree (every complete-subtree hash stored, 32 bytes each), inclusion and consistency proofs for random positions, no leaf rehashed.`,
    ],
    figures,
    goals,
  };
}
