import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  generateEncryptionKey,
  generateSigningKey,
  publicJwkOf,
  type OkpJwk,
} from '../../../../libs/protocol/src/index.js';
import type { MemberKeyFile } from '../../../../libs/keystore/src/index.js';
import { MEMBER_ID, UsageError } from '../usage-error.js';

/** What a member publishes in the federation directory (and the api key its node trusts). */
export interface PublicKeySet {
  memberId: string;
  keys: { kid: string; use: 'sig' | 'enc'; jwk: OkpJwk }[];
  api: { kid: string; jwk: OkpJwk };
}

/**
 * Generate a member's signing, encryption and API keys, write the private key file (mode 0600)
 * and return the public half for the directory. Refuses to overwrite a key file unless `force`:
 * losing a private key means a key rotation for the whole federation.
 */
export async function generateMemberKeys(p: {
  memberId: string;
  out: string;
  force?: boolean;
}): Promise<{ file: string; keys: MemberKeyFile; publicKeys: PublicKeySet }> {
  if (!MEMBER_ID.test(p.memberId)) {
    throw new UsageError('--member', `"${p.memberId}" is not a member id ([a-z][a-z0-9-]{1,15})`);
  }
  if (existsSync(p.out) && !p.force) {
    throw new UsageError('--out', `${p.out} exists (use --force to overwrite a key file)`);
  }
  const sig = await generateSigningKey();
  const enc = await generateEncryptionKey();
  const api = await generateSigningKey();
  const keys: MemberKeyFile = {
    memberId: p.memberId,
    signing: { kid: sig.kid, privateJwk: sig.privateJwk },
    encryption: { kid: enc.kid, privateJwk: enc.privateJwk },
    api: { kid: api.kid, privateJwk: api.privateJwk },
  };
  mkdirSync(dirname(p.out), { recursive: true });
  writeFileSync(p.out, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return {
    file: p.out,
    keys,
    publicKeys: {
      memberId: p.memberId,
      keys: [
        { kid: sig.kid, use: 'sig', jwk: publicJwkOf(sig.privateJwk) },
        { kid: enc.kid, use: 'enc', jwk: publicJwkOf(enc.privateJwk) },
      ],
      api: { kid: api.kid, jwk: publicJwkOf(api.privateJwk) },
    },
  };
}
