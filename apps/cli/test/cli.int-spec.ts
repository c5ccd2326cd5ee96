import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify } from 'jose';
import { parseMemberKeyFile } from '../../../libs/keystore/src/index.js';
import { publicJwkOf } from '../../../libs/protocol/src/index.js';
import { run, type CliIo } from '../src/cli.js';
import { buildSample, readSampleData } from '../src/demo/sample.js';
import { repoRoot, runDemo, type FederationFile, type RunningDemo } from '../src/demo/demo.js';

function capture(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdout: () => out,
    stderr: () => err,
  };
}

async function fedctl(...argv: string[]) {
  const io = capture();
  const code = await run(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const dir = mkdtempSync(join(tmpdir(), 'fedctl-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fedctl commands', () => {
  it('prints help naming every command, with exit code 0', async () => {
    const r = await fedctl('--help');
    expect(r.code).toBe(0);
    for (const cmd of ['demo', 'keys', 'token', 'nats']) expect(r.out).toContain(cmd);
    const demo = await fedctl('demo', '--help');
    expect(demo.code).toBe(0);
    expect(demo.out).toContain('--data-dir');
    expect(demo.out).toContain('--no-sample');
  });

  it('keys generate writes a valid key file (mode 0600) and prints only public keys', async () => {
    const out = join(dir, 'keys', 'kr.keys.json');
    const r = await fedctl('keys', 'generate', '--member', 'kr', '--out', out);
    expect(r.code).toBe(0);
    const keys = parseMemberKeyFile(readFileSync(out, 'utf8'));
    expect(keys.memberId).toBe('kr');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const pub = JSON.parse(r.out) as {
      memberId: string;
      keys: { kid: string; use: string; jwk: Record<string, string> }[];
      api: { kid: string; jwk: Record<string, string> };
    };
    expect(pub.keys.map((k) => [k.kid, k.use])).toEqual([
      [keys.signing.kid, 'sig'],
      [keys.encryption.kid, 'enc'],
    ]);
    expect(pub.api.kid).toBe(keys.api.kid);
    expect(r.out).not.toContain('"d"');
  });

  it('keys generate refuses to overwrite a key file without --force (exit 2, names --out)', async () => {
    const out = join(dir, 'keep.keys.json');
    writeFileSync(out, 'precious');
    const r = await fedctl('keys', 'generate', '--member', 'kr', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--out');
    expect(readFileSync(out, 'utf8')).toBe('precious');
  });

  it('token issue prints a JWT that verifies with the api public key', async () => {
    const keysFile = join(dir, 'vn.keys.json');
    expect((await fedctl('keys', 'generate', '--member', 'vn', '--out', keysFile)).code).toBe(0);
    const r = await fedctl(
      'token',
      'issue',
      '--keys',
      keysFile,
      '--role',
      'analyst,supervisor',
      '--subject',
      'analyst.nguyen',
      '--ttl',
      '600',
    );
    expect(r.code).toBe(0);
    const keys = parseMemberKeyFile(readFileSync(keysFile, 'utf8'));
    const key = await importJWK({ ...publicJwkOf(keys.api.privateJwk) }, 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(r.out.trim(), key, {
      audience: 'fedintel:vn',
      issuer: 'fedintel:vn',
    });
    expect(protectedHeader.kid).toBe(keys.api.kid);
    expect(payload.sub).toBe('analyst.nguyen');
    expect(payload.roles).toEqual(['analyst', 'supervisor']);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
    // Signed by the api key, not the federation signing key.
    const wrong = await importJWK({ ...publicJwkOf(keys.signing.privateJwk) }, 'EdDSA');
    await expect(jwtVerify(r.out.trim(), wrong)).rejects.toThrow();
  });

  it.each([
    [['keys', 'generate', '--member', 'KR!', '--out', join(dir, 'x.json')], '--member'],
    [['keys', 'generate', '--member', 'kr'], '--out'],
    [
      ['token', 'issue', '--keys', join(dir, 'vn.keys.json'), '--role', 'boss', '--subject', 's'],
      '--role',
    ],
    [
      [
        'token',
        'issue',
        '--keys',
        join(dir, 'missing.json'),
        '--role',
        'analyst',
        '--subject',
        's',
      ],
      '--keys',
    ],
    [['token', 'issue', '--keys', join(dir, 'vn.keys.json'), '--role', 'analyst'], '--subject'],
    [
      [
        'token',
        'issue',
        '--keys',
        join(dir, 'vn.keys.json'),
        '--role',
        'analyst',
        '--subject',
        's',
        '--ttl',
        '1h',
      ],
      '--ttl',
    ],
    [['nats', 'config', '--members', 'kr,KR'], '--members'],
    [['nats', 'config', '--members', 'kr', '--hub-leaf-port', '70000'], '--hub-leaf-port'],
    [['demo', '--members', 'kr,hub'], '--members'],
    [['demo', '--bogus'], '--bogus'],
  ])('bad input %j exits 2 naming %s', async (argv, argument) => {
    const r = await fedctl(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(argument);
  });

  it('an unexpected failure exits 1 with the message, and the stack only with --verbose', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const argv = ['keys', 'generate', '--member', 'kr', '--out', join(blocker, 'kr.json')];
    const quiet = await fedctl(...argv);
    expect(quiet.code).toBe(1);
    expect(quiet.err).toMatch(/^fedctl: (EEXIST|ENOTDIR)/);
    expect(quiet.err).not.toMatch(/\n\s+at /);
    const loud = await fedctl('--verbose', ...argv);
    expect(loud.code).toBe(1);
    expect(loud.err).toMatch(/\n\s+at /);
  });

  it('nats config writes the hub, hub-store and leaf configs and private credentials', async () => {
    const out = join(dir, 'nats');
    const r = await fedctl('nats', 'config', '--members', 'kr,vn', '--out', out);
    expect(r.code).toBe(0);
    for (const f of ['hub.conf', 'hub-store.conf', 'kr.conf', 'vn.conf']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    expect(readFileSync(join(out, 'kr.conf'), 'utf8')).toContain('listen: "127.0.0.1:4231"');
    expect(readFileSync(join(out, 'vn.conf'), 'utf8')).toContain('listen: "127.0.0.1:4232"');
    expect(statSync(join(out, 'credentials.json')).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(readFileSync(join(out, 'credentials.json'), 'utf8')) as {
      nodes: Record<string, { url: string }>;
    };
    expect(creds.nodes.kr?.url).toBe('nats://127.0.0.1:4231');
  });
});

describe('fedctl demo (compiled nodes, real nats-servers)', () => {
  let demo: RunningDemo | undefined;
  const dataDir = join(dir, 'demo');

  beforeAll(async () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: repoRoot(), stdio: 'inherit' });
    demo = await runDemo({ dataDir, members: ['kr', 'vn', 'th'], sample: 'tiny' });
  }, 120_000);

  afterAll(async () => {
    await demo?.stop();
  }, 30_000);

  it('writes federation.json with endpoints and a token per node and role', () => {
    const file = JSON.parse(
      readFileSync(join(dataDir, 'federation.json'), 'utf8'),
    ) as FederationFile;
    expect(demo?.file).toBe(join(dataDir, 'federation.json'));
    expect(Object.keys(file.members).sort()).toEqual(['kr', 'th', 'vn']);
    for (const m of Object.values(file.members)) {
      expect(m.docs).toBe(`http://127.0.0.1:${m.httpPort}/api/docs`);
      for (const role of ['analyst', 'supervisor', 'auditor', 'admin'] as const) {
        expect(m.tokens[role]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      }
    }
    expect(file.hub.natsClientPort).toBeGreaterThan(0);
  });

  it('VN received the KR MoU records, TH only what the charter allows', async () => {
    const file = demo!.federation;
    const vn = file.members.vn!;
    const th = file.members.th!;
    const krToVn = demo!.crossings.find((c) => c.origin === 'kr' && c.recipient === 'vn');
    expect(krToVn?.byAgreement['kr-vn-mou']).toBeGreaterThanOrEqual(2);
    expect(krToVn?.received).toBe(krToVn?.sent);

    const atVn = await fetch(`${vn.api}/indicators?origin=kr&pageSize=500`, {
      headers: { authorization: `Bearer ${vn.tokens.analyst}`, 'x-purpose': 'quality-review' },
    });
    const body = (await atVn.json()) as {
      total: number;
      items: { value: string; scope: { addressees: string[] }; tlp: string; local?: unknown }[];
    };
    expect(body.total).toBe(krToVn?.sent);
    const mou = body.items.filter((i) => i.scope.addressees.includes('group:kr-vn-mou'));
    const planned = buildSample(
      readSampleData(join(repoRoot(), '..', 'shared', 'data')),
      ['kr', 'vn', 'th'],
      'tiny',
    ).filter((i) => i.member === 'kr' && i.body.scope.addressees.includes('group:kr-vn-mou'));
    expect(planned.length).toBeGreaterThanOrEqual(3);
    expect(mou.map((i) => i.value).sort()).toEqual(planned.map((i) => i.body.value).sort());
    expect(mou.some((i) => i.tlp === 'RED')).toBe(true);
    expect(body.items.every((i) => i.local === undefined)).toBe(true);

    const atTh = await fetch(`${th.api}/indicators?origin=kr&pageSize=500`, {
      headers: { authorization: `Bearer ${th.tokens.analyst}`, 'x-purpose': 'quality-review' },
    });
    const thBody = (await atTh.json()) as {
      items: { scope: { addressees: string[] }; tlp: string }[];
    };
    expect(thBody.items.length).toBeGreaterThan(0);
    expect(thBody.items.every((i) => i.scope.addressees.includes('all'))).toBe(true);
    expect(thBody.items.every((i) => i.tlp !== 'RED')).toBe(true);
  });

  it('stop() ends every node it started', async () => {
    const vn = demo!.federation.members.vn!;
    await demo!.stop();
    await expect(fetch(vn.health, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    demo = undefined;
  }, 30_000);
});
