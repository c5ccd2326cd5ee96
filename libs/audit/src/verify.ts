import { Buffer } from 'node:buffer';
import { leafHash, parseStrictJson, toB64u } from '../../protocol/src/index.js';
import type { Checkpoint } from './checkpoint.js';
import { canonicalEntryText, entryBytes, parseAuditEntry, type AuditEntry } from './entry.js';
import { fastLeafHashText } from './hash.js';
import { Frontier } from './tree.js';

/** The first problem found, with the position (entry index in the log) where it shows. */
export interface VerifyFailure {
  position: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Entries read. */
  entries: number;
  /** Tree size reached and its root (base64url). */
  size: number;
  root: string;
  /** Signed checkpoints whose root was recomputed and matched. */
  checkpointsMatched: number;
  /** Checkpoints before the retained entries (pruned), not recomputable here. */
  checkpointsBeforeStart: number;
  /** Entries after the last matched checkpoint (covered by no signed statement yet). */
  uncovered: number;
  failure?: VerifyFailure;
}

/**
 * Streaming verifier of a log: feed entry lines in order with {@link push}; each line must be the
 * canonical JSON of a valid entry of this log at its position. Roots are recomputed with a frontier
 * (O(log n) memory) and compared with every signed checkpoint as its size is reached. Stops at the
 * first problem. A rewrite, a deleted or inserted row and a reordering each break either the
 * position of an entry or a checkpoint root.
 */
export class LogVerifier {
  private readonly frontier: Frontier;
  private readonly pending: Checkpoint[];
  private matched = 0;
  private lastMatched: number;
  private readonly beforeStart: number;
  private failure: VerifyFailure | undefined;
  private read = 0;
  /** Sizes whose root is kept as it is reached (see {@link rootsAt}). */
  private readonly watch: Set<number>;
  private readonly watched = new Map<number, string>();

  /**
   * @param log the log's id (member id or `hub`)
   * @param checkpoints checkpoints whose signatures were verified by the caller
   * @param prefix the frontier at the first retained position (pruned logs), default empty
   * @param watch sizes whose root to keep as they are reached, for statements signed elsewhere
   *   (checkpoints a witness holds); read them with {@link rootsAt}
   */
  constructor(
    private readonly log: string,
    checkpoints: readonly Checkpoint[],
    prefix: Frontier = new Frontier(),
    watch: Iterable<number> = [],
  ) {
    this.frontier = prefix.clone();
    this.watch = new Set(watch);
    this.lastMatched = prefix.size;
    const start = prefix.size;
    const mine = checkpoints.filter((c) => c.log === log);
    const wrongLog = checkpoints.find((c) => c.log !== log);
    if (wrongLog) this.fail(start, `a checkpoint of log ${wrongLog.log} was given for ${log}`);
    this.beforeStart = mine.filter((c) => c.size < start).length;
    this.pending = mine.filter((c) => c.size >= start).sort((a, b) => a.size - b.size);
    this.checkReached();
  }

  /** Position of the next entry. */
  get position(): number {
    return this.frontier.size;
  }

  get failed(): VerifyFailure | undefined {
    return this.failure;
  }

  /** The root (base64url) at each watched size reached so far (the prefix's size included). */
  rootsAt(): ReadonlyMap<number, string> {
    return this.watched;
  }

  private fail(position: number, reason: string): void {
    this.failure ??= { position, reason };
  }

  private checkReached(): void {
    if (this.watch.has(this.frontier.size) && !this.watched.has(this.frontier.size)) {
      this.watched.set(this.frontier.size, toB64u(this.frontier.root()));
    }
    while (
      !this.failure &&
      this.pending.length > 0 &&
      this.pending[0]!.size <= this.frontier.size
    ) {
      const cp = this.pending.shift() as Checkpoint;
      if (cp.size < this.frontier.size) continue; // only possible for duplicates of a size
      const root = toB64u(this.frontier.root());
      if (root !== cp.root) {
        this.fail(
          this.lastMatched,
          `entries ${this.lastMatched}..${cp.size - 1} do not hash to the root signed at size ${cp.size} (${cp.at}): rewritten, inserted, deleted or reordered rows`,
        );
        return;
      }
      this.matched++;
      this.lastMatched = cp.size;
    }
  }

  /**
   * The common case, checked cheaply: the line is a valid entry of this log at `position`, in
   * exactly the form {@link canonicalEntryText} writes. Anything else (including a valid line this
   * misses) goes through the strict path, which alone decides what to report.
   */
  private fast(text: string, position: number): boolean {
    let entry: AuditEntry;
    try {
      entry = parseAuditEntry(JSON.parse(text));
    } catch {
      return false;
    }
    return entry.log === this.log && entry.seq === position && canonicalEntryText(entry) === text;
  }

  /** Feed the next entry line (without its newline). Returns false once verification failed. */
  push(line: string | Uint8Array): boolean {
    if (this.failure) return false;
    const position = this.frontier.size;
    this.read++;
    const text =
      typeof line === 'string'
        ? line
        : Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
    // Latin-1 decoding is byte for byte: a line the fast path accepts is ASCII, so the same text.
    if (this.fast(text, position)) {
      this.frontier.push(fastLeafHashText(text));
    } else {
      const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
      if (!this.strict(bytes, position)) return false;
      this.frontier.push(leafHash(bytes));
    }
    this.checkReached();
    return !this.failure;
  }

  /** Parse strictly and report the first problem of a line (the authority on what is valid). */
  private strict(bytes: Uint8Array, position: number): boolean {
    let entry;
    try {
      entry = parseAuditEntry(parseStrictJson(bytes));
    } catch (e) {
      this.fail(position, `not a valid entry: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    if (entry.log !== this.log) {
      this.fail(position, `entry of log ${entry.log} in the log of ${this.log}`);
      return false;
    }
    if (entry.seq !== position) {
      this.fail(
        position,
        `entry at position ${position} says it is entry ${entry.seq}: rows were deleted, inserted or reordered`,
      );
      return false;
    }
    if (!Buffer.from(entryBytes(entry)).equals(Buffer.from(bytes))) {
      this.fail(position, 'entry is not in canonical form (RFC 8785)');
      return false;
    }
    return true;
  }

  /**
   * End of input. `expected` is the signed size and root that the input must reach exactly (an
   * export's manifest); without it, the input must reach at least the last checkpoint.
   */
  finish(expected?: { size: number; root: string }): VerifyResult {
    const size = this.frontier.size;
    const root = toB64u(this.frontier.root());
    if (!this.failure && expected) {
      if (size !== expected.size) {
        this.fail(size, `the input ends at ${size} entries, the signature covers ${expected.size}`);
      } else if (root !== expected.root) {
        this.fail(
          this.lastMatched,
          `entries ${this.lastMatched}..${size - 1} do not hash to the signed root`,
        );
      } else {
        this.lastMatched = size;
      }
    }
    if (!this.failure && this.pending.length > 0) {
      const cp = this.pending[0] as Checkpoint;
      this.fail(
        size,
        `the log ends at ${size} entries but a checkpoint signed size ${cp.size}: entries were deleted`,
      );
    }
    return {
      ok: !this.failure,
      entries: this.read,
      size,
      root,
      checkpointsMatched: this.matched,
      checkpointsBeforeStart: this.beforeStart,
      uncovered: size - this.lastMatched,
      ...(this.failure ? { failure: this.failure } : {}),
    };
  }
}
