import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  parseStrictJson,
  publicJwkOf,
  signDirectory,
  verifyDirectory,
  type Directory,
  type OkpJwk,
} from '../../../../libs/protocol/src/index.js';
import {
  addMember,
  describeChange,
  initialDirectory,
  type AnnouncedKey,
  removeMember,
  revokeKey,
  rotateKey,
} from '../../../../libs/governance/src/index.js';
import {
  readGovernanceKeyFile,
  readMemberKeyFile,
  type MemberKeyFile,
} from '../../../../libs/keystore/src/index.js';
import { HUB, subjectFor } from '../../../../libs/broker/src/index.js';
import { MEMBER_ID, UsageError } from '../usage-error.js';

/**
 * `fedctl directory ...` and `fedctl keys rotate`: the governance procedures of a federation's
 * life. Each change reads the signed directory in force, verifies it against the governance trust
 * anchors, applies one change from libs/governance, signs the next version with the governance
 * private key and writes it (atomically) back; `publish` hands it to every member over NATS.
 */

interface GovernanceFiles {
  directory: string;
  governanceKeys: string;
  governancePrivate: string;
}

interface GovernancePrivateKey {
  kid: string;
  privateJwk: OkpJwk;
}

function readText(file: string, option: string): string {
  if (!existsSync(file)) throw new UsageError(option, `${file} does not exist`);
  return readFileSync(file, 'utf8');
}

function readGovernancePrivate(file: string): GovernancePrivateKey {
  const v = parseStrictJson(readText(file, '--governance-key')) as Partial<GovernancePrivateKey>;
  if (typeof v?.kid !== 'string' || typeof v.privateJwk !== 'object' || v.privateJwk === null) {
    throw new UsageError('--governance-key', `${file} is not a governance private key file`);
  }
  return { kid: v.kid, privateJwk: v.privateJwk };
}

/** The verified directory in force (the file at `files.directory`). */
export async function loadDirectory(
  files: Pick<GovernanceFiles, 'directory' | 'governanceKeys'>,
  now: Date,
): Promise<{ directory: Directory; jws: string }> {
  const jws = readText(files.directory, '--directory').trim();
  const trust = readGovernanceKeyFile(files.governanceKeys);
  return { directory: await verifyDirectory(jws, { governanceKeys: trust.keys, now }), jws };
}

function writeAtomically(file: string, text: string, mode?: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  renameSync(tmp, file);
}

/** Sign `next` with the governance key and replace the directory file; returns the change lines. */
export async function commitDirectory(
  files: GovernanceFiles,
  before: Directory,
  next: Directory,
): Promise<{ jws: string; lines: string[] }> {
  const gov = readGovernancePrivate(files.governancePrivate);
  const jws = await signDirectory(next, {
    kid: gov.kid,
    key: importPrivateKey(gov.privateJwk, 'Ed25519'),
  });
  writeAtomically(files.directory, `${jws}\n`);
  return { jws, lines: describeChange(before, next) };
}

/** Parse `7d`, `12h`, `30m`, `45s` or plain milliseconds. */
export function parseDuration(v: string, option: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new UsageError(option, `"${v}" is not a duration such as 7d, 12h, 30m or 45s`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1;
  const ms = n * unit;
  if (ms <= 0) throw new UsageError(option, 'must be positive');
  return ms;
}

function parseInstant(v: string | undefined, option: string, fallback: Date): Date {
  if (v === undefined) return fallback;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) {
    throw new UsageError(option, `"${v}" is not an RFC 3339 instant such as 2026-11-28T10:00:00Z`);
  }
  return new Date(t);
}

function publicOf(k: { kid: string; privateJwk: OkpJwk }): { kid: string; jwk: OkpJwk } {
  return { kid: k.kid, jwk: publicJwkOf(k.privateJwk) };
}

function memberKeys(file: string, member?: string): MemberKeyFile {
  const keys = readMemberKeyFile(file);
  if (member !== undefined && keys.memberId !== member) {
    throw new UsageError('--keys', `${file} holds the keys of "${keys.memberId}", not "${member}"`);
  }
  return keys;
}

/**
 * `fedctl keys rotate`: a new key file for the same member with fresh signing and encryption keys;
 * the old encryption key moves to `retiredEncryption` (to decrypt bundles still in flight), the API
 * key is kept. Written next to the old file unless `out` is given; the old file is not touched.
 */
export async function rotateKeyFile(p: {
  keys: string;
  out: string;
  force?: boolean;
}): Promise<MemberKeyFile> {
  const old = memberKeys(p.keys);
  if (existsSync(p.out) && !p.force) {
    throw new UsageError('--out', `${p.out} exists (use --force to overwrite a key file)`);
  }
  const sig = await generateSigningKey();
  const enc = await generateEncryptionKey();
  const next: MemberKeyFile = {
    memberId: old.memberId,
    signing: { kid: sig.kid, privateJwk: sig.privateJwk },
    encryption: { kid: enc.kid, privateJwk: enc.privateJwk },
    api: old.api,
    retiredEncryption: [old.encryption, ...(old.retiredEncryption ?? [])].slice(0, 4),
  };
  writeAtomically(p.out, `${JSON.stringify(next, null, 2)}\n`, 0o600);
  return next;
}

/** The public halves of a key file: a private key file or the public set `keys generate` prints. */
function foundingKeys(file: string): {
  id: string;
  signing: AnnouncedKey;
  encryption: AnnouncedKey;
} {
  const v = parseStrictJson(readText(file, '--keys')) as Record<string, unknown>;
  if (v && typeof v === 'object' && 'signing' in v) {
    const k = memberKeys(file);
    return { id: k.memberId, signing: publicOf(k.signing), encryption: publicOf(k.encryption) };
  }
  const keys = (v as { keys?: { kid: string; use: string; jwk: OkpJwk }[] }).keys;
  const id = (v as { memberId?: unknown }).memberId;
  const sig = keys?.find((k) => k.use === 'sig');
  const enc = keys?.find((k) => k.use === 'enc');
  if (typeof id !== 'string' || !sig || !enc) {
    throw new UsageError('--keys', `${file} is neither a key file nor a public key set`);
  }
  return {
    id,
    signing: { kid: sig.kid, jwk: sig.jwk },
    encryption: { kid: enc.kid, jwk: enc.jwk },
  };
}

/** `fedctl directory init`: governance keys and version 1 of the directory. */
export async function initFederation(p: {
  federation: string;
  keyFiles: string[];
  countries: string;
  out: string;
  now: Date;
}): Promise<{ files: string[]; members: string[] }> {
  const countries = new Map<string, string>();
  for (const pair of p.countries
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [id, cc] = pair.split('=');
    if (!id || !cc || !/^[A-Z]{2}$/.test(cc)) {
      throw new UsageError('--countries', `"${pair}" is not id=CC (e.g. kr=KR)`);
    }
    countries.set(id, cc);
  }
  const founders = p.keyFiles.map((f) => {
    const k = foundingKeys(f);
    const country = countries.get(k.id);
    if (!country) throw new UsageError('--countries', `no country for ${k.id}`);
    return { ...k, country, name: k.id === HUB ? 'Interpol hub' : `${k.id.toUpperCase()} agency` };
  });
  if (!founders.some((f) => f.id === HUB)) {
    throw new UsageError('--keys', 'the hub\'s key file (member id "hub") is required');
  }
  const files = ['directory.jws', 'governance-keys.json', 'governance.private.json'].map((f) =>
    join(p.out, f),
  );
  for (const f of files) {
    if (existsSync(f)) throw new UsageError('--out', `${f} exists: a federation is founded once`);
  }
  const directory = await initialDirectory({
    federation: p.federation,
    members: founders.map((f) => ({
      id: f.id,
      country: f.country,
      name: f.name,
      signing: f.signing,
      encryption: f.encryption,
    })),
    now: p.now,
  });
  const gov = await generateSigningKey();
  const jws = await signDirectory(directory, {
    kid: gov.kid,
    key: importPrivateKey(gov.privateJwk, 'Ed25519'),
  });
  mkdirSync(p.out, { recursive: true });
  writeAtomically(
    files[2]!,
    `${JSON.stringify({ kid: gov.kid, privateJwk: gov.privateJwk }, null, 2)}\n`,
    0o600,
  );
  writeAtomically(
    files[1]!,
    `${JSON.stringify({ keys: [{ kid: gov.kid, jwk: gov.publicJwk }] }, null, 2)}\n`,
  );
  writeAtomically(files[0]!, `${jws}\n`);
  return { files, members: directory.members.map((m) => m.id) };
}

/** Publish a signed directory to every active member through the hub's outboxes. */
export async function publishDirectory(p: {
  jws: string;
  directory: Directory;
  nats: { url: string; user?: string; password?: string };
}): Promise<string[]> {
  const nc = await connect({
    servers: p.nats.url,
    user: p.nats.user,
    pass: p.nats.password,
    name: 'fedctl-directory-publish',
  });
  try {
    const js = jetstream(nc);
    const sent: string[] = [];
    for (const m of p.directory.members) {
      if (m.id === HUB || !m.roles.includes('member') || m.status !== 'active') continue;
      await js.publish(subjectFor(HUB, m.id, 'directory'), Buffer.from(p.jws, 'utf8'), {
        msgID: `directory.${p.directory.federation}.v${p.directory.version}.${m.id}`,
      });
      sent.push(m.id);
    }
    return sent;
  } finally {
    await nc.close();
  }
}

interface CommonOpts {
  directory: string;
  governanceKeys: string;
  governanceKey: string;
}

function files(o: CommonOpts): GovernanceFiles {
  return {
    directory: o.directory,
    governanceKeys: o.governanceKeys,
    governancePrivate: o.governanceKey,
  };
}

function withGovernanceOptions(cmd: Command, signing: boolean): Command {
  cmd
    .requiredOption('--directory <file>', 'the signed directory in force (JWS); rewritten in place')
    .requiredOption('--governance-keys <file>', 'governance public keys (trust anchors)');
  if (signing) {
    cmd.requiredOption(
      '--governance-key <file>',
      'governance private key that signs the directory',
    );
  }
  return cmd;
}

function memberId(v: string, option: string): string {
  if (!MEMBER_ID.test(v)) throw new UsageError(option, `"${v}" is not a member id`);
  return v;
}

/** Registers `fedctl directory ...` and `fedctl keys rotate` on `program`. */
export function registerDirectoryCommands(
  program: Command,
  line: (t: string) => void,
  clock: () => Date = () => new Date(),
): void {
  const keys = program.commands.find((c) => c.name() === 'keys');
  (keys ?? program.command('keys'))
    .command('rotate')
    .description(
      'write a new key file for the same member: fresh signing and encryption keys, the old ' +
        'encryption key kept as retired (to decrypt bundles in flight), the api key kept',
    )
    .requiredOption('--keys <file>', 'the current key file')
    .requiredOption('--out <file>', 'the new key file to write (mode 0600)')
    .option('--force', 'overwrite an existing file')
    .action(async (o: { keys: string; out: string; force?: boolean }) => {
      const next = await rotateKeyFile(o);
      line(`wrote ${o.out} for ${next.memberId}`);
      line(`  new signing key    ${next.signing.kid}`);
      line(`  new encryption key ${next.encryption.kid}`);
    });

  const dir = program
    .command('directory')
    .description('the signed federation directory: init, show, change (governance), publish');

  dir
    .command('init')
    .description(
      'version 1 of a new federation: a governance key pair and the signed directory listing the ' +
        'founding members and the hub (from their key files or public key files), one charter',
    )
    .requiredOption('--federation <name>', 'federation name, e.g. fedintel-asean')
    .requiredOption(
      '--keys <files>',
      'comma-separated key files (fedctl keys generate: private files or their printed public halves), one per member and one for the hub',
    )
    .requiredOption('--countries <map>', 'id=CC pairs, e.g. kr=KR,vn=VN,th=TH,hub=FR')
    .requiredOption(
      '--out <dir>',
      'writes directory.jws, governance-keys.json, governance.private.json (0600)',
    )
    .action(async (o: { federation: string; keys: string; countries: string; out: string }) => {
      const r = await initFederation({
        federation: o.federation,
        keyFiles: o.keys
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean),
        countries: o.countries,
        out: o.out,
        now: clock(),
      });
      for (const f of r.files) line(`wrote ${f}`);
      line(`${o.federation} version 1: ${r.members.join(', ')}`);
    });

  withGovernanceOptions(
    dir.command('show').description('verify and summarize the directory'),
    false,
  ).action(async (o: CommonOpts) => {
    const { directory: d } = await loadDirectory(o, clock());
    line(`${d.federation} version ${d.version} issued ${d.issuedAt}`);
    for (const m of d.members) {
      line(`  ${m.id.padEnd(6)} ${m.country} ${m.status.padEnd(9)} ${m.roles.join(',')}`);
      for (const k of m.keys) {
        const extra = [
          k.notAfter && `until ${k.notAfter}`,
          k.compromisedAt && `compromised ${k.compromisedAt}`,
        ]
          .filter(Boolean)
          .join(' ');
        line(`         ${k.use} ${k.kid} ${k.status} from ${k.notBefore} ${extra}`.trimEnd());
      }
    }
    for (const a of d.agreements) {
      line(
        `  agreement ${a.id}: ${a.parties.join(',')} up to TLP:${a.maxTlp}${a.validUntil ? ` until ${a.validUntil}` : ''}`,
      );
    }
  });

  withGovernanceOptions(
    dir
      .command('add-member')
      .description('onboarding: add a member with the public keys of its key file'),
    true,
  )
    .requiredOption('--keys <file>', "the new member's key file (only its public halves are used)")
    .requiredOption('--country <cc>', 'ISO 3166-1 alpha-2 country code, e.g. TH')
    .requiredOption('--name <name>', 'agency name')
    .option('--groups <ids>', 'comma-separated groups to join', '')
    .action(
      async (o: CommonOpts & { keys: string; country: string; name: string; groups: string }) => {
        const now = clock();
        const { directory: before } = await loadDirectory(o, now);
        const k = memberKeys(o.keys);
        memberId(k.memberId, '--keys');
        const next = await addMember(
          before,
          {
            id: k.memberId,
            country: o.country,
            name: o.name,
            signing: publicOf(k.signing),
            encryption: publicOf(k.encryption),
          },
          now,
          {
            groups: o.groups
              .split(',')
              .map((g) => g.trim())
              .filter(Boolean),
          },
        );
        for (const l of (await commitDirectory(files(o), before, next)).lines) line(l);
      },
    );

  withGovernanceOptions(
    dir
      .command('rotate-key')
      .description(
        "rotation: announce the member's new keys (from its rotated key file); its old keys " +
          'retire after the overlap',
      ),
    true,
  )
    .requiredOption('--member <id>', 'member id')
    .requiredOption('--keys <file>', 'the rotated key file (fedctl keys rotate)')
    .option('--overlap <duration>', 'how long the old keys keep verifying, e.g. 7d', '7d')
    .action(async (o: CommonOpts & { member: string; keys: string; overlap: string }) => {
      const now = clock();
      const overlap = parseDuration(o.overlap, '--overlap');
      const { directory: before } = await loadDirectory(o, now);
      const k = memberKeys(o.keys, memberId(o.member, '--member'));
      const current = before.members.find((m) => m.id === o.member);
      const known = new Set(current?.keys.map((x) => x.kid) ?? []);
      let next = before;
      if (!known.has(k.signing.kid)) {
        next = await rotateKey(next, o.member, 'sig', publicOf(k.signing), now, overlap);
      }
      if (!known.has(k.encryption.kid)) {
        next = await rotateKey(next, o.member, 'enc', publicOf(k.encryption), now, overlap);
      }
      if (next === before) throw new UsageError('--keys', 'the directory already lists these keys');
      next = { ...next, version: before.version + 1 };
      for (const l of (await commitDirectory(files(o), before, next)).lines) line(l);
    });

  withGovernanceOptions(
    dir
      .command('revoke-key')
      .description('revocation of a compromised key: refused everywhere from the next version on'),
    true,
  )
    .requiredOption('--member <id>', 'member id')
    .requiredOption('--kid <kid>', 'the compromised key id')
    .option(
      '--compromised-at <instant>',
      'first instant the key may have been misused (default now)',
    )
    .action(async (o: CommonOpts & { member: string; kid: string; compromisedAt?: string }) => {
      const now = clock();
      const at = parseInstant(o.compromisedAt, '--compromised-at', now);
      const { directory: before } = await loadDirectory(o, now);
      const next = revokeKey(before, memberId(o.member, '--member'), o.kid, at, now);
      for (const l of (await commitDirectory(files(o), before, next)).lines) line(l);
    });

  withGovernanceOptions(
    dir
      .command('remove-member')
      .description(
        'removal: the member is refused from the next version on; its past stays verifiable',
      ),
    true,
  )
    .requiredOption('--member <id>', 'member id')
    .action(async (o: CommonOpts & { member: string }) => {
      const now = clock();
      const { directory: before } = await loadDirectory(o, now);
      const next = removeMember(before, memberId(o.member, '--member'), now);
      for (const l of (await commitDirectory(files(o), before, next)).lines) line(l);
    });

  withGovernanceOptions(
    dir
      .command('publish')
      .description(
        "send the directory to every active member through the hub's outboxes (run with the hub " +
          "application's NATS credentials at the hub store)",
      ),
    false,
  )
    .requiredOption('--nats-url <url>', 'the hub store, e.g. nats://127.0.0.1:4223')
    .option('--user <user>', 'NATS user (the hub application)')
    .option('--password <password>', 'NATS password')
    .action(async (o: CommonOpts & { natsUrl: string; user?: string; password?: string }) => {
      const { directory, jws } = await loadDirectory(o, clock());
      const sent = await publishDirectory({
        jws,
        directory,
        nats: { url: o.natsUrl, user: o.user, password: o.password },
      });
      line(`published ${directory.federation} v${directory.version} to ${sent.join(', ')}`);
    });
}
