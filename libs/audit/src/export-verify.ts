import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { fromB64u, toB64u, type KeyResolver } from '../../protocol/src/index.js';
import {
  decodeFrontier,
  openCheckpoint,
  openCosignature,
  openExportManifest,
  type Checkpoint,
  type ExportManifest,
} from './checkpoint.js';
import { isAuditError } from './errors.js';
import { Frontier } from './tree.js';
import { LogVerifier, type VerifyFailure, type VerifyResult } from './verify.js';

/** The manifest file of an export (`<name>.manifest.json`), as the node's API returns it. */
export interface ExportManifestFile {
  /** The signed {@link ExportManifest}. */
  manifest: string;
  /** Every signed checkpoint up to the export's size. */
  checkpoints: string[];
  /** Witnesses' cosignatures of some of them: the hub's of a member's log, members' of the hub's. */
  cosignatures: string[];
  /** The signed federation directory the log's keys are resolved in. */
  directory: string;
}

/**
 * A checkpoint of the log that a witness kept (its witness head, ADR 0062): signed by the log's
 * owner, obtained from the witness and not from the owner, so the owner cannot choose it.
 */
export interface WitnessView {
  /** Who kept it (a member id, or `hub`): for the report only, the checkpoint's signature is the log owner's. */
  witness: string;
  /** The signed checkpoint (compact JWS), as the witness's `GET /api/v1/audit/witness` gives it. */
  checkpoint: string;
}

/** What became of one {@link WitnessView}. */
export interface WitnessViewOutcome {
  witness: string;
  size: number;
  root: string;
  /**
   * `matched`: the export's entries hash to that root at that size; `forked`: they do not, so the
   * owner signed two different logs (verification fails); `beyond`: larger than the export, to be
   * checked against a later one; `pruned`: before the retained entries (not recomputable);
   * `unchecked`: verification stopped before its size (the failure says why).
   */
  status: 'matched' | 'forked' | 'beyond' | 'pruned' | 'unchecked';
}

export interface ExportVerifyResult extends VerifyResult {
  manifest?: ExportManifest;
  /** Checkpoints countersigned by at least one witness (verified, matching a checkpoint). */
  witnessed: number;
  /** The witnesses whose verified cosignatures matched a checkpoint, sorted. */
  witnesses: string[];
  /** Per witness, the largest checkpoint size it countersigned (verified, matching), by name. */
  cosignedUpTo: Record<string, number>;
  /** The largest size a checkpoint in the export signed (0 when there is none). */
  newestCheckpoint: number;
  /** The witness views given, checked against the export's entries, in the order given. */
  views: WitnessViewOutcome[];
}

/** Entry lines one by one, or in chunks (arrays of lines: cheaper to iterate asynchronously). */
type Line = string | Uint8Array | readonly (string | Uint8Array)[];
type Lines = AsyncIterable<Line> | Iterable<Line>;

function failed(position: number, reason: string): ExportVerifyResult {
  return {
    ok: false,
    entries: 0,
    size: 0,
    root: '',
    checkpointsMatched: 0,
    checkpointsBeforeStart: 0,
    uncovered: 0,
    witnessed: 0,
    witnesses: [],
    cosignedUpTo: {},
    newestCheckpoint: 0,
    views: [],
    failure: { position, reason },
  };
}

/**
 * Verifies an export offline: the manifest's signature, every checkpoint's signature, the right
 * edge kept by pruning against the checkpoint at the first retained position, each entry line
 * (position, canonical form) and each checkpoint root as its size is reached, the final root and
 * the file digest. Stops at the first bad position.
 *
 * @param p.lines the JSON Lines file, one entry per item (or arrays of them), without newlines
 * @param p.resolveLogKey resolves the log owner's signing key (via a verified directory)
 * @param p.witnessKeyFor the key resolver of a witness the log accepts (the hub for a member's
 *   log, any member for the hub's), `undefined` for anyone else; without it no cosignature counts
 * @param p.views checkpoints witnesses kept (ADR 0062): each is verified with the log owner's key
 *   and its root compared with the export's at its size; a different root fails verification (the
 *   owner showed that witness another log)
 * @param p.onProgress called every `progressEvery` entries
 */
export async function verifyExport(p: {
  file: ExportManifestFile;
  lines: Lines;
  resolveLogKey: KeyResolver;
  witnessKeyFor?: (witness: string) => KeyResolver | undefined;
  views?: readonly WitnessView[];
  onProgress?: (entries: number, total: number) => void;
  progressEvery?: number;
}): Promise<ExportVerifyResult> {
  let manifest: ExportManifest;
  try {
    manifest = await openExportManifest(p.file.manifest, p.resolveLogKey);
  } catch (e) {
    return failed(0, `manifest: ${e instanceof Error ? e.message : String(e)}`);
  }
  const checkpoints: Checkpoint[] = [];
  for (const [i, jws] of p.file.checkpoints.entries()) {
    try {
      checkpoints.push(await openCheckpoint(jws, p.resolveLogKey));
    } catch (e) {
      return failed(
        manifest.start,
        `checkpoint ${i}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  const viewed: { witness: string; cp: Checkpoint }[] = [];
  for (const [i, view] of (p.views ?? []).entries()) {
    try {
      viewed.push({
        witness: view.witness,
        cp: await openCheckpoint(view.checkpoint, p.resolveLogKey),
      });
    } catch (e) {
      return failed(
        manifest.start,
        `checkpoint kept by ${view.witness} (view ${i}): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const cp = viewed[viewed.length - 1]!.cp;
    if (cp.log !== manifest.log) {
      return failed(
        manifest.start,
        `checkpoint kept by ${view.witness} is of log ${cp.log}, not ${manifest.log}`,
      );
    }
  }
  const witnessedSizes = new Set<number>();
  const cosignedUpTo: Record<string, number> = {};
  if (p.witnessKeyFor) {
    for (const jws of p.file.cosignatures) {
      // Which witness it claims decides whose keys may have signed it: a cosignature verified
      // with the claimed witness's own keys cannot pass for another witness's.
      const claimed = claimedWitness(jws);
      const resolve = claimed === undefined ? undefined : p.witnessKeyFor(claimed);
      if (!resolve) continue;
      try {
        const c = await openCosignature(jws, resolve);
        if (
          c.witness === claimed &&
          checkpoints.some((k) => k.log === c.log && k.size === c.size && k.root === c.root)
        ) {
          witnessedSizes.add(c.size);
          cosignedUpTo[c.witness] = Math.max(cosignedUpTo[c.witness] ?? 0, c.size);
        }
      } catch (e) {
        if (!isAuditError(e)) throw e;
      }
    }
  }
  const witnessed = witnessedSizes.size;
  const witnesses = Object.keys(cosignedUpTo).sort();
  const newestCheckpoint = checkpoints.reduce((m, c) => Math.max(m, c.size), 0);
  const extra = { witnessed, witnesses, cosignedUpTo, newestCheckpoint };
  let prefix: Frontier;
  try {
    prefix = new Frontier(manifest.start, decodeFrontier(manifest.prefix));
  } catch (e) {
    return failed(manifest.start, `manifest prefix: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (manifest.start > 0) {
    // What pruning left must be the root some checkpoint signed at that size.
    const anchor = checkpoints.find((c) => c.size === manifest.start);
    if (!anchor || anchor.root !== toB64u(prefix.root())) {
      return failed(
        manifest.start,
        `the pruned prefix matches no signed checkpoint at size ${manifest.start}`,
      );
    }
  }
  const v = new LogVerifier(
    manifest.log,
    checkpoints,
    prefix,
    viewed.map((x) => x.cp.size),
  );
  const sha = createHash('sha256');
  const total = manifest.size - manifest.start;
  const every = p.progressEvery ?? 100_000;
  let n = 0;
  // The digest is fed in blocks of lines: one update per line costs more than the hash itself.
  let block = '';
  const feed = (line: string | Uint8Array): boolean => {
    if (typeof line === 'string') {
      block += `${line}\n`;
      if (block.length >= 65536) {
        sha.update(block, 'utf8');
        block = '';
      }
    } else {
      if (block !== '') sha.update(block, 'utf8');
      block = '';
      sha.update(line).update('\n');
    }
    if (!v.push(line)) return false;
    n++;
    if (p.onProgress && n % every === 0) p.onProgress(n, total);
    return true;
  };
  outer: for await (const item of p.lines) {
    if (Array.isArray(item)) {
      for (const line of item as readonly (string | Uint8Array)[]) if (!feed(line)) break outer;
    } else if (!feed(item as string | Uint8Array)) break;
  }
  if (block !== '') sha.update(block, 'utf8');
  const r = v.finish({ size: manifest.size, root: manifest.root });
  const views = judgeViews(viewed, v.rootsAt(), manifest);
  const digestOk = Buffer.from(fromB64u(manifest.sha256)).equals(sha.digest());
  const failure = r.ok ? afterEntries(manifest, digestOk, views) : undefined;
  if (failure) return { ...r, ok: false, manifest, ...extra, views, failure };
  return { ...r, manifest, ...extra, views };
}

/** What can still fail once every entry verified: the file digest, then a witness's fork. */
function afterEntries(
  manifest: ExportManifest,
  digestOk: boolean,
  views: readonly WitnessViewOutcome[],
): VerifyFailure | undefined {
  if (!digestOk) {
    return { position: manifest.start, reason: 'the file digest differs from the signed manifest' };
  }
  const fork = views.find((x) => x.status === 'forked');
  if (!fork) return undefined;
  return {
    position: fork.size,
    reason:
      `${manifest.log} signed root ${fork.root} at size ${fork.size} in the checkpoint ${fork.witness} kept, ` +
      `and another root in this export: the log forked (${fork.witness} was shown another log)`,
  };
}

/** Each witness view against the roots the export's entries reached. */
function judgeViews(
  viewed: readonly { witness: string; cp: Checkpoint }[],
  roots: ReadonlyMap<number, string>,
  manifest: ExportManifest,
): WitnessViewOutcome[] {
  return viewed.map(({ witness, cp }) => {
    const base = { witness, size: cp.size, root: cp.root };
    if (cp.size > manifest.size) return { ...base, status: 'beyond' };
    if (cp.size < manifest.start) return { ...base, status: 'pruned' };
    const root = roots.get(cp.size);
    if (root === undefined) return { ...base, status: 'unchecked' };
    return { ...base, status: root === cp.root ? 'matched' : 'forked' };
  });
}

/** The `witness` a cosignature names, read before its signature is checked (to pick the keys). */
function claimedWitness(jws: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { witness?: unknown };
    return typeof payload.witness === 'string' ? payload.witness : undefined;
  } catch {
    return undefined;
  }
}
