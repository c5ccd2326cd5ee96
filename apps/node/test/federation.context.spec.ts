import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionFederation, type ProvisionedFederation } from '../../../libs/devnet/src/index.js';
import {
  encryptTo,
  generateEncryptionKey,
  generateSigningKey,
  importPublicKey,
  publicJwkOf,
} from '../../../libs/protocol/src/index.js';
import type { MemberKeyFile } from '../../../libs/keystore/src/index.js';
import { FederationContext } from '../src/federation/federation.context.js';

describe('FederationContext key replacement', () => {
  let dir: string;
  let fed: ProvisionedFederation;
  let ctx: FederationContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fedintel-ctx-'));
    fed = await provisionFederation({ dir, now: new Date() });
    const vn = fed.members.vn!;
    ctx = await FederationContext.load({
      memberId: 'vn',
      keysFile: vn.keysFile,
      governanceKeysFile: fed.governanceKeysFile,
      directoryFile: fed.directoryFile,
      now: new Date(),
    });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const to = (k: { kid: string; privateJwk: MemberKeyFile['encryption']['privateJwk'] }) => ({
    kid: k.kid,
    key: importPublicKey(publicJwkOf(k.privateJwk), 'X25519'),
  });

  it('after a rotation, a bundle encrypted to the retired key still decrypts; an unknown key does not', async () => {
    const old = fed.members.vn!.keys;
    const sig = await generateSigningKey();
    const enc = await generateEncryptionKey();
    const rotated: MemberKeyFile = {
      ...old,
      signing: { kid: sig.kid, privateJwk: sig.privateJwk },
      encryption: { kid: enc.kid, privateJwk: enc.privateJwk },
      retiredEncryption: [old.encryption],
    };
    const inFlight = await encryptTo(new TextEncoder().encode('sent before the rotation'), [
      to(old.encryption),
    ]);
    expect(ctx.replaceKeys(rotated)).toBe(true);
    expect(ctx.replaceKeys(rotated)).toBe(false);
    expect(ctx.signingKey.kid).toBe(sig.kid);
    expect(new TextDecoder().decode(await ctx.decrypt(inFlight))).toBe('sent before the rotation');
    const fresh = await encryptTo(new TextEncoder().encode('after'), [to(rotated.encryption)]);
    expect(new TextDecoder().decode(await ctx.decrypt(fresh))).toBe('after');

    const stranger = await generateEncryptionKey();
    const notForUs = await encryptTo(new TextEncoder().encode('x'), [
      to({ kid: stranger.kid, privateJwk: stranger.privateJwk }),
    ]);
    await expect(ctx.decrypt(notForUs)).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
  });

  it("refuses another member's key file", () => {
    expect(() => ctx.replaceKeys(fed.members.kr!.keys)).toThrow(/keys of "kr"/);
  });
});
