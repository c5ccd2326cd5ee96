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
  /** The hub witness's cosignatures of some of them. */
  cosignatures: string[];
  /** The signed federation directory the log's keys are resolved in. */
  directory: string;
}

export interface ExportVerifyResult extends VerifyResult {
  manifest?: ExportManifest;
  /** Checkpoints countersigned by the witness (verified signatures matching a checkpoint). */
  witnessed: number;
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
 * @param p.resolveWitnessKey resolves the witness's key; cosignatures are not counted without it
 * @param p.onProgress called every `progressEvery` entries
 */
export async function verifyExport(p: {
  file: ExportManifestFile;
  lines: Lines;
  resolveLogKey: KeyResolver;
  resolveWitnessKey?: KeyResolver;
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
  let witnessed = 0;
  if (p.resolveWitnessKey) {
    for (const jws of p.file.cosignatures) {
      try {
        const c = await openCosignature(jws, p.resolveWitnessKey);
        if (checkpoints.some((k) => k.log === c.log && k.size === c.size && k.root === c.root)) {
          witnessed++;
        }
      } catch (e) {
        if (!isAuditError(e)) throw e;
      }
    }
  }
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
      failure: {
        position: manifest.start,
        reason: 'the file digest differs from the signed manifest',
      },
    };
  }
  return { ...r, manifest, witnessed };
}
