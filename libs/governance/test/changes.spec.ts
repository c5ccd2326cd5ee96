import { describe, expect, it, beforeAll } from '@jest/globals';
import {
  directoryKeyResolver,
  generateEncryptionKey,
  generateSigningKey,
  isProtocolError,
  resolveVerificationKey,
  toRfc3339Ms,
  type Directory,
} from '../../protocol/src/index.js';
import {
  addMember,
  describeChange,
  initialDirectory,
  removeMember,
  revokeKey,
  rotateKey,
} from '../src/index.js';

const T0 = new Date('2026-11-01T00:00:00.000Z');
const HOUR = 3600_000;
const at = (h: number) => new Date(T0.getTime() + h * HOUR);

async function baseDirectory(): Promise<Directory> {
  const members = [];
  for (const id of ['kr', 'vn', 'hub']) {
    const sig = await generateSigningKey();
    const enc = await generateEncryptionKey();
    members.push({
      id,
      country: id === 'hub' ? 'FR' : id.toUpperCase(),
      name: `${id} agency`,
      roles: [id === 'hub' ? ('hub' as const) : ('member' as const)],
      status: 'active' as const,
      nats: { account: id.toUpperCase(), user: `${id}-leaf` },
      keys: [
        {
          kid: sig.kid,
          use: 'sig' as const,
          jwk: sig.publicJwk,
          notBefore: toRfc3339Ms(T0),
          status: 'active' as const,
        },
        {
          kid: enc.kid,
          use: 'enc' as const,
          jwk: enc.publicJwk,
          notBefore: toRfc3339Ms(T0),
          status: 'active' as const,
        },
      ],
    });
  }
  return {
    federation: 'fedintel-test',
    version: 3,
    issuedAt: toRfc3339Ms(T0),
    members,
    groups: [{ id: 'kr-vn-mou', name: 'KR-VN MoU', members: ['kr', 'vn'] }],
    agreements: [
      {
        id: 'kr-vn-mou',
        name: 'KR-VN MoU',
        parties: ['kr', 'vn'],
        types: ['*'],
        maxTlp: 'RED',
        validFrom: toRfc3339Ms(T0),
      },
      {
        id: 'charter',
        name: 'charter',
        parties: ['*'],
        types: ['*'],
        maxTlp: 'AMBER',
        validFrom: toRfc3339Ms(T0),
      },
    ],
  };
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return isProtocolError(e) ? e.code : 'OTHER';
  }
  return undefined;
};

const asyncCode = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (e) {
    return isProtocolError(e) ? e.code : 'OTHER';
  }
  return undefined;
};

describe('directory changes', () => {
  let d: Directory;
  beforeAll(async () => {
    d = await baseDirectory();
  });

  it('onboarding adds an active member with keys valid from now and bumps the version', async () => {
    const sig = await generateSigningKey();
    const enc = await generateEncryptionKey();
    const out = await addMember(
      d,
      {
        id: 'th',
        country: 'TH',
        name: 'Royal Thai Police',
        signing: { kid: sig.kid, jwk: sig.publicJwk },
        encryption: { kid: enc.kid, jwk: enc.publicJwk },
      },
      at(1),
      { groups: ['kr-vn-mou'] },
    );
    expect(out.version).toBe(4);
    expect(out.issuedAt).toBe(toRfc3339Ms(at(1)));
    const th = out.members.find((m) => m.id === 'th');
    expect(th).toMatchObject({
      status: 'active',
      roles: ['member'],
      nats: { account: 'TH', user: 'th-leaf' },
    });
    expect(th?.keys.map((k) => [k.use, k.status, k.notBefore])).toEqual([
      ['sig', 'active', toRfc3339Ms(at(1))],
      ['enc', 'active', toRfc3339Ms(at(1))],
    ]);
    expect(out.groups[0]?.members).toEqual(['kr', 'vn', 'th']);
    expect(d.version).toBe(3); // the input is not modified
    expect(describeChange(d, out)).toContain('+ member th (TH, active)');
  });

  it('onboarding refuses a duplicate id, a kid that is not the thumbprint and an unknown group', async () => {
    const sig = await generateSigningKey();
    const enc = await generateEncryptionKey();
    const m = {
      id: 'kr',
      country: 'KR',
      name: 'x',
      signing: { kid: sig.kid, jwk: sig.publicJwk },
      encryption: { kid: enc.kid, jwk: enc.publicJwk },
    };
    expect(await asyncCode(addMember(d, m, at(1)))).toBe('DIRECTORY_INVALID');
    expect(
      await asyncCode(
        addMember(d, { ...m, id: 'th', signing: { kid: enc.kid, jwk: sig.publicJwk } }, at(1)),
      ),
    ).toBe('DIRECTORY_INVALID');
    expect(await asyncCode(addMember(d, { ...m, id: 'th' }, at(1), { groups: ['nope'] }))).toBe(
      'DIRECTORY_INVALID',
    );
  });

  it('rotation keeps the old key verifying during the overlap and only in history after it', async () => {
    const fresh = await generateSigningKey();
    const oldKid = d.members[0]!.keys[0]!.kid;
    const out = await rotateKey(
      d,
      'kr',
      'sig',
      { kid: fresh.kid, jwk: fresh.publicJwk },
      at(2),
      24 * HOUR,
    );
    const kr = out.members.find((m) => m.id === 'kr')!;
    expect(kr.keys.find((k) => k.kid === oldKid)).toMatchObject({
      status: 'retired',
      notAfter: toRfc3339Ms(at(26)),
    });
    expect(kr.keys.find((k) => k.kid === fresh.kid)).toMatchObject({ status: 'active' });
    // during the overlap both verify on receipt
    for (const kid of [oldKid, fresh.kid]) {
      expect(() =>
        directoryKeyResolver(out, { at: at(3), mode: 'receive', member: 'kr' })(kid, {
          kid,
          typ: 'x',
          alg: 'EdDSA',
        }),
      ).not.toThrow();
    }
    // after it, the old one is refused on receipt but still verifies what it signed earlier
    expect(code(() => resolveVerificationKey(out, oldKid, { at: at(27), mode: 'receive' }))).toBe(
      'KEY_NOT_VALID',
    );
    expect(() =>
      resolveVerificationKey(out, oldKid, { at: at(3), mode: 'historical' }),
    ).not.toThrow();
    expect(
      await asyncCode(
        rotateKey(d, 'kr', 'sig', { kid: fresh.kid, jwk: fresh.publicJwk }, at(2), 0),
      ),
    ).toBe('DIRECTORY_INVALID');
  });

  it('revocation refuses the key at once, and in history only from compromisedAt', () => {
    const kid = d.members[1]!.keys[0]!.kid;
    const out = revokeKey(d, 'vn', kid, at(5), at(6));
    expect(out.members[1]!.keys[0]).toMatchObject({
      status: 'revoked',
      compromisedAt: toRfc3339Ms(at(5)),
    });
    expect(code(() => resolveVerificationKey(out, kid, { at: at(4), mode: 'receive' }))).toBe(
      'KEY_REVOKED',
    );
    expect(() => resolveVerificationKey(out, kid, { at: at(4), mode: 'historical' })).not.toThrow();
    expect(code(() => resolveVerificationKey(out, kid, { at: at(5.5), mode: 'historical' }))).toBe(
      'KEY_REVOKED',
    );
    expect(code(() => revokeKey(out, 'vn', kid, at(5), at(7)))).toBe('DIRECTORY_INVALID');
    expect(code(() => revokeKey(d, 'vn', kid, at(8), at(7)))).toBe('DIRECTORY_INVALID');
    expect(code(() => revokeKey(d, 'vn', 'x'.repeat(43), at(5), at(7)))).toBe('DIRECTORY_INVALID');
  });

  it('removal ends membership, groups and bilateral agreements but keeps the keys', () => {
    const out = removeMember(d, 'vn', at(9));
    const vn = out.members.find((m) => m.id === 'vn')!;
    expect(vn.status).toBe('removed');
    expect(vn.keys).toHaveLength(2);
    expect(out.groups[0]!.members).toEqual(['kr']);
    expect(out.agreements.find((a) => a.id === 'kr-vn-mou')?.validUntil).toBe(toRfc3339Ms(at(9)));
    expect(out.agreements.find((a) => a.id === 'charter')?.validUntil).toBeUndefined();
    expect(
      code(() =>
        resolveVerificationKey(out, vn.keys[0]!.kid, { at: at(10), mode: 'receive', member: 'vn' }),
      ),
    ).toBeDefined();
    expect(() =>
      resolveVerificationKey(out, vn.keys[0]!.kid, { at: at(1), mode: 'historical' }),
    ).not.toThrow();
    expect(code(() => removeMember(out, 'vn', at(10)))).toBe('DIRECTORY_INVALID');
    expect(code(() => removeMember(d, 'hub', at(10)))).toBe('DIRECTORY_INVALID');
    expect(describeChange(d, out)).toContain('~ member vn: active -> removed');
  });

  it('version 1: founding members and the hub with keys from now, one charter up to AMBER', async () => {
    const keys = async (id: string) => {
      const sig = await generateSigningKey();
      const enc = await generateEncryptionKey();
      return {
        id,
        country: id === 'hub' ? 'FR' : id.toUpperCase(),
        name: `${id} agency`,
        signing: { kid: sig.kid, jwk: sig.publicJwk },
        encryption: { kid: enc.kid, jwk: enc.publicJwk },
      };
    };
    const founders = [await keys('kr'), await keys('vn'), await keys('hub')];
    const d = await initialDirectory({ federation: 'fedintel-prod', members: founders, now: T0 });
    expect(d.version).toBe(1);
    expect(d.members.map((m) => [m.id, m.roles, m.status])).toEqual([
      ['kr', ['member'], 'active'],
      ['vn', ['member'], 'active'],
      ['hub', ['hub'], 'active'],
    ]);
    expect(d.agreements).toEqual([
      expect.objectContaining({ parties: ['*'], maxTlp: 'AMBER', validFrom: toRfc3339Ms(T0) }),
    ]);
    const dup = [founders[0]!, founders[0]!];
    expect(await asyncCode(initialDirectory({ federation: 'x', members: dup, now: T0 }))).toBe(
      'DIRECTORY_INVALID',
    );
  });
});
