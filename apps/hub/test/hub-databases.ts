// Real databases for the hub's integration tests: a SQLite file in a temporary directory, and
// PostgreSQL at 127.0.0.1:5432 in a schema of its own, dropped afterwards.
import { afterAll, beforeAll } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { IndicatorRecord } from '../../../libs/protocol/src/index.js';
import type { HubConfig } from '../src/config/hub.config.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The two databases a hub test runs on, for `describe.each`; registers the temporary
 * directory's creation and removal with the calling test file.
 */
export function hubDatabases(name: string): [string, () => HubConfig['database']][] {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `${name}-`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const schema = name.replace(/-/g, '_');
  return [
    ['SQLite', () => ({ kind: 'sqlite', path: join(dir, 'hub.sqlite') })],
    [
      'PostgreSQL',
      () => ({ kind: 'postgres', url: PG_URL, schema: `${schema}_${process.pid}_${Date.now()}` }),
    ],
  ];
}

/** Drops a PostgreSQL test schema (nothing to do for SQLite: its directory goes). */
export async function dropHubDatabase(config: HubConfig['database']): Promise<void> {
  if (config.kind !== 'postgres') return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
  await client.end();
}

/** The fields of a KR record the hub's store reads, for tests that skip the protocol. */
export function storedRecord(
  n: number,
  value: string,
  opts: { version?: number; validUntil?: string } = {},
): IndicatorRecord {
  return {
    origin: 'kr',
    id: `0b8a6c2e-1f7d-4c59-9a57-${String(n).padStart(12, '0')}`,
    version: opts.version ?? 1,
    status: 'active',
    type: 'domain',
    value,
    validUntil: opts.validUntil ?? '2026-12-28T10:00:00.000Z',
    relations: [],
  } as unknown as IndicatorRecord;
}
