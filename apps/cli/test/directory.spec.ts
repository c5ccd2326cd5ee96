// fedctl governance procedures on files: init, show, add-member, keys rotate, rotate-key,
// revoke-key, remove-member; each signed version verifies and only increases.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGovernanceKeyFile, readMemberKeyFile } from '../../../libs/keystore/src/index.js';
import { verifyDirectory, type Directory } from '../../../libs/protocol/src/index.js';
import { run, type CliIo } from '../src/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fedctl-directory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fedctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await run(argv, io);
  return { code, out, err };
}

const f = (name: string) => join(dir, name);
const GOV = () => [
  '--directory',
  f('fed/directory.jws'),
  '--governance-keys',
  f('fed/governance-keys.json'),
];
const SIGN = () => [...GOV(), '--governance-key', f('fed/governance.private.json')];

async function current(): Promise<Directory> {
  return verifyDirectory(readFileSync(f('fed/directory.jws'), 'utf8').trim(), {
    governanceKeys: readGovernanceKeyFile(f('fed/governance-keys.json')).keys,
    now: new Date(),
  });
}

describe('fedctl directory', () => {
  it('founds a federation, onboards, rotates, revokes and removes, each a new signed version', async () => {
    for (const id of ['kr', 'vn', 'th', 'hub']) {
      expect(
        (await fedctl('keys', 'generate', '--member', id, '--out', f(`${id}.keys.json`))).code,
      ).toBe(0);
    }
    const init = await fedctl(
      'directory',
      'init',
      '--federation',
      'fedintel-test',
      '--keys',
      [f('kr.keys.json'), f('vn.keys.json'), f('hub.keys.json')].join(','),
      '--countries',
      'kr=KR,vn=VN,hub=FR',
      '--out',
      f('fed'),
    );
    expect(init).toMatchObject({ code: 0 });
    expect(init.out).toContain('fedintel-test version 1: kr, vn, hub');
    expect(statSync(f('fed/governance.private.json')).mode & 0o777).toBe(0o600);
    expect((await current()).version).toBe(1);
    // founded once
    const again = await fedctl(
      'directory',
      'init',
      '--federation',
      'x',
      '--keys',
      f('kr.keys.json') + ',' + f('hub.keys.json'),
      '--countries',
      'kr=KR,hub=FR',
      '--out',
      f('fed'),
    );
    expect(again.code).toBe(2);

    const show = await fedctl('directory', 'show', ...GOV());
    expect(show.code).toBe(0);
    expect(show.out).toContain('fedintel-test version 1');

    const add = await fedctl(
      'directory',
      'add-member',
      ...SIGN(),
      '--keys',
      f('th.keys.json'),
      '--country',
      'TH',
      '--name',
      'Royal Thai Police',
    );
    expect(add.code).toBe(0);
    expect(add.out).toContain('+ member th (TH, active)');
    expect((await current()).members.map((m) => m.id)).toEqual(['kr', 'vn', 'hub', 'th']);

    expect(
      (await fedctl('keys', 'rotate', '--keys', f('kr.keys.json'), '--out', f('kr.next.json')))
        .code,
    ).toBe(0);
    const next = readMemberKeyFile(f('kr.next.json'));
    const old = readMemberKeyFile(f('kr.keys.json'));
    expect(next.retiredEncryption?.[0]?.kid).toBe(old.encryption.kid);
    expect(next.api.kid).toBe(old.api.kid);
    const rot = await fedctl(
      'directory',
      'rotate-key',
      ...SIGN(),
      '--member',
      'kr',
      '--keys',
      f('kr.next.json'),
      '--overlap',
      '2d',
    );
    expect(rot.code).toBe(0);
    const d3 = await current();
    expect(d3.version).toBe(3);
    const kr = d3.members.find((m) => m.id === 'kr')!;
    expect(kr.keys.find((k) => k.kid === old.signing.kid)?.status).toBe('retired');
    expect(kr.keys.find((k) => k.kid === next.signing.kid)?.status).toBe('active');
    // the same keys again: refused, nothing signed
    expect(
      (
        await fedctl(
          'directory',
          'rotate-key',
          ...SIGN(),
          '--member',
          'kr',
          '--keys',
          f('kr.next.json'),
        )
      ).code,
    ).toBe(2);

    const vnKid = readMemberKeyFile(f('vn.keys.json')).signing.kid;
    const rev = await fedctl(
      'directory',
      'revoke-key',
      ...SIGN(),
      '--member',
      'vn',
      '--kid',
      vnKid,
      '--compromised-at',
      '2026-01-01T00:00:00Z',
    );
    expect(rev.code).toBe(0);
    expect((await current()).members.find((m) => m.id === 'vn')?.keys[0]).toMatchObject({
      status: 'revoked',
      compromisedAt: '2026-01-01T00:00:00.000Z',
    });

    const rm = await fedctl('directory', 'remove-member', ...SIGN(), '--member', 'th');
    expect(rm.code).toBe(0);
    const d5 = await current();
    expect(d5.version).toBe(5);
    expect(d5.members.find((m) => m.id === 'th')?.status).toBe('removed');
  });

  it('refuses bad input with exit code 2 or 1 and a message, and changes nothing', async () => {
    const before = readFileSync(f('fed/directory.jws'), 'utf8');
    expect(
      (
        await fedctl(
          'directory',
          'rotate-key',
          ...SIGN(),
          '--member',
          'kr',
          '--keys',
          f('kr.next.json'),
          '--overlap',
          'soon',
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await fedctl(
          'directory',
          'revoke-key',
          ...SIGN(),
          '--member',
          'kr',
          '--kid',
          'x',
          '--compromised-at',
          'yesterday',
        )
      ).code,
    ).toBe(2);
    const unknown = await fedctl('directory', 'remove-member', ...SIGN(), '--member', 'zz');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('not in the directory');
    expect(
      (
        await fedctl(
          'directory',
          'show',
          '--directory',
          f('nope.jws'),
          '--governance-keys',
          f('fed/governance-keys.json'),
        )
      ).code,
    ).toBe(2);
    expect(readFileSync(f('fed/directory.jws'), 'utf8')).toBe(before);
  });
});
