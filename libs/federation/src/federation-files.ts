import { readFileSync, statSync } from 'node:fs';
import { readMemberKeyFile } from '../../keystore/src/index.js';
import type { FederationContext } from './federation.context.js';

interface FileStamp {
  mtimeMs: number;
  size: number;
}

function stamp(file: string): FileStamp | undefined {
  try {
    const s = statSync(file);
    return { mtimeMs: s.mtimeMs, size: s.size };
  } catch {
    return undefined;
  }
}

const same = (a: FileStamp | undefined, b: FileStamp | undefined) =>
  a?.mtimeMs === b?.mtimeMs && a?.size === b?.size;

/** What one look at the files changed. */
export interface FilesOutcome {
  /** version adopted from the directory file, when it was newer */
  directoryVersion?: number;
  /** true when a rotated key file was installed */
  keysReplaced: boolean;
  /** why a changed file was not adopted (rollback, bad signature, unreadable...) */
  errors: string[];
}

/**
 * Watches a member's (or the hub's) directory and key files: when one changed since the last look,
 * a newer signed directory is adopted and a rotated key file installed. Refusals (an older version,
 * a fork, an unknown signer, a key file of another member) leave the context as it was.
 */
export class FederationFiles {
  private directoryStamp: FileStamp | undefined;
  private keysStamp: FileStamp | undefined;

  constructor(
    private readonly federation: FederationContext,
    private readonly files: { directoryFile: string; keysFile: string },
  ) {
    this.directoryStamp = stamp(files.directoryFile);
    this.keysStamp = stamp(files.keysFile);
  }

  /** Forget the directory file's stamp after writing it ourselves (no re-read of our own write). */
  noteDirectoryWritten(): void {
    this.directoryStamp = stamp(this.files.directoryFile);
  }

  async check(now: Date): Promise<FilesOutcome> {
    const out: FilesOutcome = { keysReplaced: false, errors: [] };
    const d = stamp(this.files.directoryFile);
    if (!same(d, this.directoryStamp)) {
      this.directoryStamp = d;
      try {
        const before = this.federation.directory.version;
        const jws = readFileSync(this.files.directoryFile, 'utf8').trim();
        const next = await this.federation.updateDirectory(jws, now);
        if (next.version !== before) out.directoryVersion = next.version;
      } catch (e) {
        out.errors.push(`directory file: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const k = stamp(this.files.keysFile);
    if (!same(k, this.keysStamp)) {
      this.keysStamp = k;
      try {
        out.keysReplaced = this.federation.replaceKeys(readMemberKeyFile(this.files.keysFile));
      } catch (e) {
        out.errors.push(`keys file: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return out;
  }
}
