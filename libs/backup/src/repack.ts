import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SQLITE_PAGE_SIZE } from '../../persistence/src/index.js';
import { assertSqliteFile, BackupError } from './backup.js';

/** What {@link repackDatabase} found and did. */
export interface RepackResult {
  readonly pageSizeBefore: number;
  readonly pageSizeAfter: number;
  /** Database file plus its WAL, before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** False when the file already had the page size: nothing was written. */
  readonly rewritten: boolean;
}

function bytes(path: string): number {
  return [path, `${path}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
}

/**
 * Rewrite a STOPPED node's or hub's SQLite database with the page size new databases get
 * (16 KiB, ADR 0060): SQLite sets a file's page size when it is created, and a file in WAL mode
 * changes it only through a VACUUM outside WAL. The file is checked (SQLite's integrity check)
 * before and after; a database another process still has open is refused, untouched, because
 * leaving WAL mode needs the only connection.
 */
export function repackDatabase(path: string, pageSize = SQLITE_PAGE_SIZE): RepackResult {
  if (!existsSync(path)) throw new BackupError(`${path} does not exist`);
  assertSqliteFile(path);
  const before = bytes(path);
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    const pageSizeBefore = Number(db.pragma('page_size', { simple: true }));
    if (pageSizeBefore === pageSize) {
      return {
        pageSizeBefore,
        pageSizeAfter: pageSize,
        bytesBefore: before,
        bytesAfter: before,
        rewritten: false,
      };
    }
    const check = (when: string) => {
      const r = db.pragma('integrity_check', { simple: true });
      if (r !== 'ok') {
        throw new BackupError(`${path} fails SQLite's integrity check ${when}: ${String(r)}`);
      }
    };
    check('before the rewrite');
    const journal = String(db.pragma('journal_mode', { simple: true }));
    try {
      db.pragma('journal_mode = DELETE');
      try {
        db.pragma(`page_size = ${pageSize}`);
        db.exec('VACUUM');
      } finally {
        // Also after a failed VACUUM (which SQLite rolls back): the file stays as it was.
        if (journal === 'wal') db.pragma('journal_mode = WAL');
      }
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new BackupError(`${path} is in use: stop the node (or hub) that has it open first`);
      }
      throw e;
    }
    check('after the rewrite');
    const pageSizeAfter = Number(db.pragma('page_size', { simple: true }));
    if (pageSizeAfter !== pageSize) {
      throw new BackupError(`${path} kept ${pageSizeAfter}-byte pages after VACUUM`);
    }
    db.close();
    return {
      pageSizeBefore,
      pageSizeAfter,
      bytesBefore: before,
      bytesAfter: bytes(path),
      rewritten: true,
    };
  } finally {
    if (db.open) db.close();
  }
}
