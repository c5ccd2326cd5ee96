// Test harness: a real local federation (nats-servers, member nodes in-process) plus the hub app
// in-process, with a hub clock that tests can move forward (to cross an expiry).
import type { INestApplication } from '@nestjs/common';
import { join } from 'node:path';
import request from 'supertest';
import { startHub } from '../../../apps/hub/src/bootstrap.js';
import { loadHubConfig } from '../../../apps/hub/src/config/hub.config.js';
import {
  startTestFederation,
  type DatabaseKind,
  type TestFederation,
} from '../../../apps/node/test/federation.harness.js';
import { issueApiToken, type ApiRole } from '../../../libs/keystore/src/index.js';
import { importPrivateKey, type Directory } from '../../../libs/protocol/src/index.js';
import { freePort } from '../../../libs/testing/src/index.js';

export interface TestHub {
  app: INestApplication;
  url: string;
  /** Move the hub's clock (milliseconds ahead of the wall clock). */
  advance(ms: number): void;
  token(roles?: ApiRole[]): Promise<string>;
  get(path: string, roles?: ApiRole[]): Promise<request.Response>;
}

/**
 * Adds what the hub scenarios need to the demo directory: an agreement that lets members share
 * up to TLP:AMBER+STRICT with the hub (the charter stops at AMBER), so that a strict record
 * reaches the hub and the test can prove it never goes further.
 */
export function withHubAgreement(d: Directory): Directory {
  d.agreements.push({
    id: 'hub-strict',
    name: 'Hub analysis of strict records',
    parties: ['kr', 'vn', 'th', 'hub'],
    types: ['*'],
    maxTlp: 'AMBER+STRICT',
    validFrom: d.agreements[0]?.validFrom ?? d.issuedAt,
  });
  return d;
}

export async function startHubFederation(
  opts: { database?: DatabaseKind } = {},
): Promise<{ f: TestFederation; hub: TestHub; stop(): Promise<void> }> {
  const f = await startTestFederation({
    members: ['kr', 'vn', 'th'],
    database: opts.database,
    editDirectory: withHubAgreement,
  });
  let offset = 0;
  const port = await freePort();
  const creds = f.brokers.hubAppCredentials;
  const suffix = Math.random().toString(36).slice(2, 8);
  const config = loadHubConfig({
    FEDINTEL_HTTP_PORT: String(port),
    FEDINTEL_DATABASE_URL:
      opts.database === 'postgres'
        ? 'postgres://postgres@127.0.0.1:5432/test'
        : `sqlite:${join(f.dir, 'hub.sqlite')}`,
    FEDINTEL_DATABASE_SCHEMA: `hub_e2e_${suffix}`,
    FEDINTEL_NATS_URL: creds.url,
    FEDINTEL_NATS_USER: creds.user,
    FEDINTEL_NATS_PASSWORD: creds.password,
    FEDINTEL_KEYS_FILE: f.fed.members.hub!.keysFile,
    FEDINTEL_DIRECTORY_FILE: f.fed.directoryFile,
    FEDINTEL_GOVERNANCE_KEYS_FILE: f.fed.governanceKeysFile,
    FEDINTEL_HUB_PASS_INTERVAL_MS: '100',
    FEDINTEL_HUB_SWEEP_INTERVAL_MS: '1000',
  });
  const app = await startHub(config, {
    clock: () => new Date(Date.now() + offset),
    logger: process.env.FEDINTEL_TEST_LOG ? ['error', 'warn', 'log'] : ['error'],
  });
  const url = `http://127.0.0.1:${port}`;
  const keys = f.fed.members.hub!.keys;
  const token = (roles: ApiRole[] = ['hub-operator']) =>
    issueApiToken({
      memberId: 'hub',
      subject: `${roles[0]}.test`,
      roles,
      kid: keys.api.kid,
      key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
      now: new Date(),
      ttlSeconds: 3600,
    });
  const hub: TestHub = {
    app,
    url,
    advance: (ms) => {
      offset += ms;
    },
    token,
    async get(path, roles) {
      // Operator reads state a purpose (docs/audit.md); the refusal is tested on its own.
      return request(url)
        .get(path)
        .set('X-Purpose', 'supervision:HUB-TEST-1')
        .set('Authorization', `Bearer ${await token(roles)}`);
    },
  };
  return {
    f,
    hub,
    async stop() {
      await app.close().catch(() => undefined);
      await f.stop();
    },
  };
}
