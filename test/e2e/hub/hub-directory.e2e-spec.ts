// The hub follows new directory versions without a restart, as the nodes do (docs/operations.md).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { removeMember } from '../../../libs/governance/src/index.js';
import { FederationContext } from '../../../libs/federation/src/index.js';
import { importPrivateKey, signDirectory } from '../../../libs/protocol/src/index.js';
import { eventually, type TestFederation } from '../../../apps/node/test/federation.harness.js';
import { startHubFederation, type TestHub } from './hub.harness.js';

describe('the hub follows the directory', () => {
  let f: TestFederation;
  let hub: TestHub;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ f, hub, stop } = await startHubFederation());
  }, 120_000);

  afterAll(async () => {
    await stop?.();
  });

  it('a new version in its directory file is adopted within seconds; an older one is refused', async () => {
    const ctx = hub.app.get(FederationContext);
    const v1 = readFileSync(f.fed.directoryFile, 'utf8');
    expect(ctx.directory.version).toBe(f.fed.directory.version);
    const next = removeMember(f.fed.directory, 'th', new Date());
    const jws = await signDirectory(next, {
      kid: f.fed.governance.kid,
      key: importPrivateKey(f.fed.governance.privateJwk, 'Ed25519'),
    });
    writeFileSync(f.fed.directoryFile, jws);
    await eventually(
      () => Promise.resolve(ctx.directory.version === next.version ? true : undefined),
      15_000,
      'the hub adopts the new version',
    );
    expect(ctx.directory.members.find((m) => m.id === 'th')?.status).toBe('removed');
    // The nodes share this file in the harness: they follow too.
    for (const id of ['kr', 'vn']) {
      await eventually(
        () =>
          Promise.resolve(
            f.nodes[id]!.app.get(FederationContext).directory.version === next.version
              ? true
              : undefined,
          ),
        15_000,
        `${id} adopts the new version`,
      );
    }
    // Writing the older version back is a rollback: ignored.
    writeFileSync(f.fed.directoryFile, v1);
    await new Promise((r) => setTimeout(r, 2500));
    expect(ctx.directory.version).toBe(next.version);
  }, 60_000);
});
