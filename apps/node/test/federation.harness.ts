// Test harness: a real local federation (nats-servers from the project's configs, nodes with
// real databases) for the node's end-to-end tests.
import type { INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  provisionFederation,
  nodeEnv,
  type ProvisionedFederation,
} from '../../../libs/devnet/src/index.js';
import {
  importPrivateKey,
  signDirectory,
  type Directory,
} from '../../../libs/protocol/src/index.js';
import { issueApiToken, type ApiRole } from '../../../libs/keystore/src/index.js';
import { freePort, startFederation, type Federation } from '../../../libs/testing/src/index.js';
import { startNode } from '../src/bootstrap.js';
import { loadNodeConfig } from '../src/config/node.config.js';

export interface RunningNode {
  id: string;
  app: INestApplication;
  url: string;
  env: Record<string, string>;
  token(roles: ApiRole[], subject?: string): Promise<string>;
}

export interface TestFederation {
  dir: string;
  fed: ProvisionedFederation;
  brokers: Federation;
  nodes: Record<string, RunningNode>;
  startNode(id: string): Promise<RunningNode>;
  stopNode(id: string): Promise<void>;
  stop(): Promise<void>;
}

export type DatabaseKind = 'sqlite' | 'postgres';

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Start brokers and the given nodes; each node gets its own SQLite file or PostgreSQL schema. */
export async function startTestFederation(opts: {
  members?: string[];
  nodes?: string[];
  database?: DatabaseKind;
  /**
   * Change the provisioned directory before any node starts (e.g. add a revoked key); the
   * result is signed again with the governance key and becomes the directory of every node.
   */
  editDirectory?: (directory: Directory) => Directory | Promise<Directory>;
  /**
   * Give each node its own copy of the directory file (as in production, where each country
   * holds its own), so a version reaches a node only through distribution or its own file.
   */
  ownDirectoryFiles?: boolean;
  /** Directory and key file polling interval of the nodes (ms; the node's default is 1000). */
  directoryPollMs?: number;
  /** Extra FEDINTEL_* variables for every node. */
  env?: Record<string, string>;
}): Promise<TestFederation> {
  const members = opts.members ?? ['kr', 'vn', 'th'];
  const dir = mkdtempSync(join(tmpdir(), 'fedintel-e2e-'));
  const now = new Date();
  const fed = await provisionFederation({
    dir: join(dir, 'keys'),
    now,
    members: members.map((id) => ({ id, country: id.toUpperCase(), name: `${id} test agency` })),
  });
  if (opts.editDirectory) {
    const edited = await opts.editDirectory(structuredClone(fed.directory));
    const jws = await signDirectory(edited, {
      kid: fed.governance.kid,
      key: importPrivateKey(fed.governance.privateJwk, 'Ed25519'),
    });
    writeFileSync(fed.directoryFile, jws);
    fed.directory = edited;
  }
  const brokers = await startFederation({ members, dir: join(dir, 'nats') });
  const suffix = Math.random().toString(36).slice(2, 8);
  const nodes: Record<string, RunningNode> = {};
  const ports: Record<string, number> = {};

  const start = async (id: string): Promise<RunningNode> => {
    ports[id] ??= await freePort();
    const creds = brokers.nodeCredentials[id];
    if (!creds) throw new Error(`no credentials for ${id}`);
    const database = opts.database === 'postgres' ? PG_URL : `sqlite:${join(dir, `${id}.sqlite`)}`;
    const env = nodeEnv({
      fed,
      id,
      httpPort: ports[id],
      database,
      databaseSchema: opts.database === 'postgres' ? `e2e_${suffix}_${id}` : undefined,
      nats: creds,
    });
    if (opts.ownDirectoryFiles) {
      const own = join(dir, `${id}.directory.jws`);
      if (!existsSync(own)) copyFileSync(fed.directoryFile, own);
      env.FEDINTEL_DIRECTORY_FILE = own;
    }
    if (opts.directoryPollMs !== undefined) {
      env.FEDINTEL_DIRECTORY_POLL_MS = String(opts.directoryPollMs);
    }
    Object.assign(env, opts.env ?? {});
    const app = await startNode(loadNodeConfig({ ...env, FEDINTEL_RELAY_INTERVAL_MS: '100' }), {
      logger: process.env.FEDINTEL_TEST_LOG ? ['error', 'warn', 'log'] : ['error'],
    });
    const keys = fed.members[id]!.keys;
    const node: RunningNode = {
      id,
      app,
      env,
      url: `http://127.0.0.1:${ports[id]}`,
      token: (roles, subject = `${roles[0] ?? 'user'}.test`) =>
        issueApiToken({
          memberId: id,
          subject,
          roles,
          kid: keys.api.kid,
          key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
          now: new Date(),
          ttlSeconds: 3600,
        }),
    };
    nodes[id] = node;
    return node;
  };

  for (const id of opts.nodes ?? members) await start(id);

  return {
    dir,
    fed,
    brokers,
    nodes,
    startNode: start,
    async stopNode(id) {
      await nodes[id]?.app.close();
      delete nodes[id];
    },
    async stop() {
      for (const n of Object.values(nodes)) await n.app.close().catch(() => undefined);
      await brokers.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A supertest body parser that keeps a response as text whatever its type (JSON Lines exports):
 * `.buffer(true).parse(textBody)`.
 */
export const textBody: (res: Response, cb: (err: Error | null, body: string) => void) => void = (
  res,
  cb,
) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.on('end', () => cb(null, text));
};

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out waiting for ${what}${why}`);
}

/** A valid indicator body for the REST API. */
export function indicatorBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'domain',
    value: 'newtoki469.com',
    categories: ['webtoon'],
    confidence: 80,
    tlp: 'AMBER',
    handling: { code: 'H1' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['group:kr-vn-mou'] },
    local: { caseReference: 'KNPA-2026-0412', notes: 'informant tip, do not share' },
    ...overrides,
  };
}
