import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  signDirectory,
  toRfc3339Ms,
  type Agreement,
  type Directory,
  type Group,
  type Member,
} from '../../protocol/src/index.js';
import type { MemberKeyFile } from '../../keystore/src/index.js';

/** A member of a local federation: id, country, display name. */
export interface DevMember {
  id: string;
  country: string;
  name: string;
}

export const DEFAULT_MEMBERS: DevMember[] = [
  { id: 'kr', country: 'KR', name: 'Korea National Police Agency (demo)' },
  { id: 'vn', country: 'VN', name: 'Vietnam Ministry of Public Security (demo)' },
  { id: 'th', country: 'TH', name: 'Royal Thai Police (demo)' },
];

/** Files written for one member (or the hub). */
export interface ProvisionedMember {
  id: string;
  keysFile: string;
  keys: MemberKeyFile;
}

export interface ProvisionedFederation {
  dir: string;
  directory: Directory;
  directoryFile: string;
  governanceKeysFile: string;
  governance: { kid: string; privateJwk: import('../../protocol/src/index.js').OkpJwk };
  members: Record<string, ProvisionedMember>;
}

/**
 * The default agreements of a demo federation: a bilateral KR–VN MoU (up to TLP:RED) and a
 * federation-wide charter (up to TLP:AMBER) that also covers the hub.
 */
export function defaultAgreements(
  now: Date,
  members: DevMember[],
): { groups: Group[]; agreements: Agreement[] } {
  const from = toRfc3339Ms(new Date(now.getTime() - 24 * 3600 * 1000));
  const ids = members.map((m) => m.id);
  const groups: Group[] = [];
  const agreements: Agreement[] = [
    {
      id: 'sop-charter',
      name: 'Stop Online Piracy cooperation charter',
      parties: ['*'],
      types: ['*'],
      maxTlp: 'AMBER',
      validFrom: from,
    },
  ];
  if (ids.includes('kr') && ids.includes('vn')) {
    groups.push({
      id: 'kr-vn-mou',
      name: 'Korea–Vietnam MoU on online piracy',
      members: ['kr', 'vn'],
    });
    // Directory order matters: the first agreement that covers a disclosure is the one cited.
    agreements.unshift({
      id: 'kr-vn-mou',
      name: 'Korea–Vietnam MoU on online piracy',
      parties: ['kr', 'vn'],
      types: ['*'],
      maxTlp: 'RED',
      validFrom: from,
    });
  }
  return { groups, agreements };
}

/**
 * Generate every key of a local federation (governance, each member, the hub), build and sign
 * the directory, and write key files (mode 0600), the governance trust anchors and the signed
 * directory under `dir`. What `fedctl` does for a real federation, in one call.
 */
export async function provisionFederation(p: {
  dir: string;
  members?: DevMember[];
  now: Date;
  agreements?: { groups: Group[]; agreements: Agreement[] };
}): Promise<ProvisionedFederation> {
  const members = p.members ?? DEFAULT_MEMBERS;
  mkdirSync(p.dir, { recursive: true });
  const notBefore = toRfc3339Ms(new Date(p.now.getTime() - 24 * 3600 * 1000));
  const governance = await generateSigningKey();
  const out: Record<string, ProvisionedMember> = {};
  const dirMembers: Member[] = [];
  for (const m of [...members, { id: 'hub', country: 'FR', name: 'Interpol hub (demo)' }]) {
    const sig = await generateSigningKey();
    const enc = await generateEncryptionKey();
    const api = await generateSigningKey();
    const keys: MemberKeyFile = {
      memberId: m.id,
      signing: { kid: sig.kid, privateJwk: sig.privateJwk },
      encryption: { kid: enc.kid, privateJwk: enc.privateJwk },
      api: { kid: api.kid, privateJwk: api.privateJwk },
    };
    const keysFile = join(p.dir, `${m.id}.keys.json`);
    writeFileSync(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
    out[m.id] = { id: m.id, keysFile, keys };
    dirMembers.push({
      id: m.id,
      country: m.country,
      name: m.name,
      roles: [m.id === 'hub' ? 'hub' : 'member'],
      status: 'active',
      nats: { account: m.id.toUpperCase(), user: `${m.id}-leaf` },
      keys: [
        { kid: sig.kid, use: 'sig', jwk: sig.publicJwk, notBefore, status: 'active' },
        { kid: enc.kid, use: 'enc', jwk: enc.publicJwk, notBefore, status: 'active' },
      ],
    });
  }
  const { groups, agreements } = p.agreements ?? defaultAgreements(p.now, members);
  const directory: Directory = {
    federation: 'fedintel-demo',
    version: 1,
    issuedAt: toRfc3339Ms(p.now),
    members: dirMembers,
    groups,
    agreements,
  };
  const jws = await signDirectory(directory, {
    kid: governance.kid,
    key: importPrivateKey(governance.privateJwk, 'Ed25519'),
  });
  const directoryFile = join(p.dir, 'directory.jws');
  writeFileSync(directoryFile, jws);
  const governanceKeysFile = join(p.dir, 'governance.json');
  writeFileSync(
    governanceKeysFile,
    JSON.stringify({ keys: [{ kid: governance.kid, jwk: governance.publicJwk }] }, null, 2),
  );
  writeFileSync(
    join(p.dir, 'governance.private.json'),
    JSON.stringify({ kid: governance.kid, privateJwk: governance.privateJwk }, null, 2),
    { mode: 0o600 },
  );
  return {
    dir: p.dir,
    directory,
    directoryFile,
    governanceKeysFile,
    governance: { kid: governance.kid, privateJwk: governance.privateJwk },
    members: out,
  };
}

/** The environment of a node process for member `id` (what `loadNodeConfig` reads). */
export function nodeEnv(p: {
  fed: ProvisionedFederation;
  id: string;
  httpPort: number;
  database: string;
  databaseSchema?: string;
  nats: { url: string; user: string; password: string };
}): Record<string, string> {
  const env: Record<string, string> = {
    FEDINTEL_MEMBER_ID: p.id,
    FEDINTEL_HTTP_PORT: String(p.httpPort),
    FEDINTEL_HTTP_HOST: '127.0.0.1',
    FEDINTEL_DATABASE_URL: p.database,
    FEDINTEL_NATS_URL: p.nats.url,
    FEDINTEL_NATS_USER: p.nats.user,
    FEDINTEL_NATS_PASSWORD: p.nats.password,
    FEDINTEL_KEYS_FILE: p.fed.members[p.id]?.keysFile ?? '',
    FEDINTEL_DIRECTORY_FILE: p.fed.directoryFile,
    FEDINTEL_GOVERNANCE_KEYS_FILE: p.fed.governanceKeysFile,
  };
  if (p.databaseSchema) env.FEDINTEL_DATABASE_SCHEMA = p.databaseSchema;
  return env;
}
