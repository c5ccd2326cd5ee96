import { fromB64u, verifyConsistency } from '../../protocol/src/index.js';
import type { Checkpoint } from './checkpoint.js';

/** The last checkpoint a witness accepted for a log. */
export interface WitnessedHead {
  size: number;
  root: string;
  at: string;
}

/** A consistency proof the log offers from one of its earlier sizes to the new checkpoint. */
export interface ConsistencyClaim {
  from: number;
  /** RFC 9162 consistency proof, base64url hashes. */
  path: string[];
}

export type WitnessVerdict =
  | { ok: true; head: WitnessedHead; first: boolean }
  | {
      ok: false;
      code: 'CHECKPOINT_ROLLBACK' | 'CHECKPOINT_FORK' | 'CHECKPOINT_INCONSISTENT';
      reason: string;
    };

function decodePath(path: readonly string[]): Uint8Array[] | undefined {
  try {
    return path.map((p) => fromB64u(p));
  } catch {
    return undefined;
  }
}

/**
 * The witness rule (pure; the signature is checked before): countersign a checkpoint only when it
 * extends the last one seen for the same log. A smaller size is a rollback; the same size with
 * another root, or a larger size whose consistency proof from the last seen head fails, is a fork;
 * a larger size without a proof from the last seen size cannot be judged and is not countersigned.
 * The first checkpoint of a log is accepted on first use.
 */
export function judgeCheckpoint(
  last: WitnessedHead | undefined,
  cp: Checkpoint,
  claims: readonly ConsistencyClaim[],
): WitnessVerdict {
  const head = { size: cp.size, root: cp.root, at: cp.at };
  if (!last) return { ok: true, head, first: true };
  if (cp.size < last.size) {
    return {
      ok: false,
      code: 'CHECKPOINT_ROLLBACK',
      reason: `size ${cp.size} is below the last witnessed size ${last.size}`,
    };
  }
  if (cp.size === last.size) {
    if (cp.root === last.root) return { ok: true, head, first: false };
    return {
      ok: false,
      code: 'CHECKPOINT_FORK',
      reason: `size ${cp.size} was witnessed with another root`,
    };
  }
  const claim = claims.find((c) => c.from === last.size);
  if (!claim) {
    return {
      ok: false,
      code: 'CHECKPOINT_INCONSISTENT',
      reason: `no consistency proof from the last witnessed size ${last.size}`,
    };
  }
  const path = decodePath(claim.path);
  const ok =
    path !== undefined &&
    verifyConsistency(last.size, cp.size, fromB64u(last.root), fromB64u(cp.root), path);
  if (!ok) {
    return {
      ok: false,
      code: 'CHECKPOINT_FORK',
      reason: `size ${cp.size} is not an extension of the witnessed size ${last.size}`,
    };
  }
  return { ok: true, head, first: false };
}
