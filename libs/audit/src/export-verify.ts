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
import { LogVerifier, type VerifyResult } from './verify.js';

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

export interface ExportVerifyResult extends VerifyResult {
  manifest?: ExportManifest;
  /** Checkpoints countersigned by at least one witness (verified, matching a checkpoint). */
  witnessed: number;
  /** The witnesses whose verified cosignatures matched a checkpoint, sorted. */
  witnesses: string[];
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
 * @param p.onProgress called every `progressEvery` entries
 */
export async function verifyExport(p: {
  file: ExportManifestFile;
  lines: Lines;
  resolveLogKey: KeyResolver;
  witnessKeyFor?: (witness: string) => KeyResolver | undefined;
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
  const witnessedSizes = new Set<number>();
  const witnessSet = new Set<string>();
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
          witnessSet.add(c.witness);
        }
      } catch (e) {
        if (!isAuditError(e)) throw e;
      }
    }
  }
  const witnessed = witnessedSizes.size;
  const witnesses = [...witnessSet].sort();
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
  const v = new LogVerifier(manifest.log, checkpoints, prefix);
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
  if (r.ok && !Buffer.from(fromB64u(manifest.sha256)).equals(sha.digest())) {
    return {
      ...r,
      ok: false,
      manifest,
      witnessed,
      witnesses,
      failure: {
        position: manifest.start,
        reason: 'the file digest differs from the signed manifest',
      },
    };
  }
  return { ...r, manifest, witnessed, witnesses };
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
