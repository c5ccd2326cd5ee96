import { Buffer } from 'node:buffer';
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Directory,
  type DirectoryKey,
  type GovernanceKey,
  type KeyResolutionOptions,
  type OkpJwk,
  type SigningKey,
  canonicalBytes,
  currentSigningKey,
  directoryKeyResolver,
  encryptionKeysOf,
  generateSigningKey,
  importPrivateKey,
  isProtocolError,
  memberById,
  parseDirectory,
  parseStrictJson,
  resolveVerificationKey,
  signCompact,
  signDirectory,
  verifyCompact,
  verifyDirectory,
} from '../src/index.js';

const vectorUrl = (name: string): URL => new URL(`./vectors/directory/${name}`, import.meta.url);

interface VectorKey {
  label: string;
  crv: 'Ed25519' | 'X25519';
  seed: string;
  kid: string;
  x: string;
}
const VECTOR_KEYS: VectorKey[] = (
  JSON.parse(readFileSync(vectorUrl('keys.json'), 'utf8')) as { keys: VectorKey[] }
).keys;
const DIRECTORY_JSON: unknown = JSON.parse(readFileSync(vectorUrl('directory.json'), 'utf8'));
const CANONICAL = readFileSync(vectorUrl('directory.canonical.json'));
const SIGNED = readFileSync(vectorUrl('directory.jws'), 'utf8').trim();

const PKCS8_PREFIX = {
  Ed25519: '302e020100300506032b657004220420',
  X25519: '302e020100300506032b656e04220420',
};

function vectorKey(label: string): VectorKey {
  const k = VECTOR_KEYS.find((x) => x.label === label);
  if (!k) throw new Error(`no vector key ${label}`);
  return k;
}

/** The private key of a vector key, from its documented seed. */
function signingKeyOf(label: string): SigningKey {
  const k = vectorKey(label);
  const der = Buffer.concat([Buffer.from(PKCS8_PREFIX[k.crv], 'hex'), Buffer.from(k.seed, 'hex')]);
  return { kid: k.kid, key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
}

function governanceAnchor(label: string): GovernanceKey {
  const k = vectorKey(label);
  return { kid: k.kid, jwk: { kty: 'OKP', crv: 'Ed25519', x: k.x } };
}

const GOVERNANCE = signingKeyOf('governance');
const ANCHORS = [governanceAnchor('governance')];
const NOW = new Date('2026-11-28T12:00:00.000Z');

/** A mutable deep copy of the golden directory, for factories. */
function golden(): Directory {
  return JSON.parse(JSON.stringify(DIRECTORY_JSON)) as Directory;
}

function withVersion(version: number, edit: (d: Directory) => void = () => undefined): Directory {
  const d = golden();
  d.version = version;
  edit(d);
  return d;
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    return isProtocolError(e) ? e.code : `non-protocol error: ${String(e)}`;
  }
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e, 'DIRECTORY_INVALID')) return e.field;
    throw e;
  }
  return 'no error';
}

describe('golden directory vector', () => {
  it('derives every vector key from its documented seed', () => {
    for (const k of VECTOR_KEYS) {
      const expectedSeed = createHash('sha256')
        .update(`fedintel-test-vector/${k.label}`)
        .digest('hex');
      expect(k.seed).toBe(expectedSeed);
      const sk = signingKeyOf(k.label);
      const jwk = sk.key.export({ format: 'jwk' });
      expect(jwk.x).toBe(k.x);
      const thumb = createHash('sha256')
        .update(JSON.stringify({ crv: k.crv, kty: 'OKP', x: k.x }))
        .digest('base64url');
      expect(thumb).toBe(k.kid);
    }
  });

  it('parses, and its canonical bytes are directory.canonical.json byte for byte', () => {
    const d = parseDirectory(DIRECTORY_JSON);
    expect(Buffer.from(canonicalBytes(d)).equals(CANONICAL)).toBe(true);
    expect(d).toEqual(DIRECTORY_JSON);
  });

  it('signing it with the governance key yields directory.jws exactly (Ed25519 is deterministic)', async () => {
    const jws = await signDirectory(parseDirectory(DIRECTORY_JSON), GOVERNANCE);
    expect(jws).toBe(SIGNED);
    const [h, p] = SIGNED.split('.');
    expect(Buffer.from(h!, 'base64url').toString('utf8')).toBe(
      `{"alg":"EdDSA","kid":"${GOVERNANCE.kid}","typ":"fedintel-directory+jws"}`,
    );
    expect(Buffer.from(p!, 'base64url').equals(CANONICAL)).toBe(true);
  });

  it('verifies against the governance trust anchor', async () => {
    const d = await verifyDirectory(SIGNED, { governanceKeys: ANCHORS, now: NOW });
    expect(d).toEqual(DIRECTORY_JSON);
    expect(Object.isFrozen(d.members[0]!.keys[0]!.jwk)).toBe(true);
  });
});

describe('verifyDirectory', () => {
  let current: Directory;
  beforeAll(async () => {
    current = await verifyDirectory(SIGNED, { governanceKeys: ANCHORS, now: NOW });
  });

  it('accepts a newer version and refuses an older one (DIRECTORY_ROLLBACK)', async () => {
    const v4 = await signDirectory(
      withVersion(4, (d) => (d.issuedAt = '2026-11-20T00:00:00.000Z')),
      GOVERNANCE,
    );
    const v2 = await signDirectory(withVersion(2), GOVERNANCE);
    expect(
      (await verifyDirectory(v4, { governanceKeys: ANCHORS, current, now: NOW })).version,
    ).toBe(4);
    expect(await codeOf(verifyDirectory(v2, { governanceKeys: ANCHORS, current, now: NOW }))).toBe(
      'DIRECTORY_ROLLBACK',
    );
  });

  it('accepts the same version with identical content, refuses it with other content', async () => {
    expect(
      await codeOf(verifyDirectory(SIGNED, { governanceKeys: ANCHORS, current, now: NOW })),
    ).toBe('ok');
    const forked = await signDirectory(
      withVersion(3, (d) => (d.members[0]!.name = 'Someone else')),
      GOVERNANCE,
    );
    expect(
      await codeOf(verifyDirectory(forked, { governanceKeys: ANCHORS, current, now: NOW })),
    ).toBe('DIRECTORY_ROLLBACK');
  });

  it('refuses a newer version issued before the current one, or in the future', async () => {
    const backdated = await signDirectory(
      withVersion(4, (d) => (d.issuedAt = '2026-10-01T00:00:00.000Z')),
      GOVERNANCE,
    );
    expect(
      await codeOf(verifyDirectory(backdated, { governanceKeys: ANCHORS, current, now: NOW })),
    ).toBe('DIRECTORY_ROLLBACK');
    const future = await signDirectory(
      withVersion(4, (d) => (d.issuedAt = '2026-11-28T12:05:00.001Z')),
      GOVERNANCE,
    );
    expect(await codeOf(verifyDirectory(future, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'DIRECTORY_INVALID',
    );
  });

  it('refuses a directory of another federation', async () => {
    const other = await signDirectory(
      withVersion(4, (d) => (d.federation = 'elsewhere')),
      GOVERNANCE,
    );
    expect(
      await codeOf(verifyDirectory(other, { governanceKeys: ANCHORS, current, now: NOW })),
    ).toBe('DIRECTORY_INVALID');
  });

  it('refuses an unknown signer (KEY_UNKNOWN), even one whose key is a member key', async () => {
    const stranger = await generateSigningKey();
    const jws = await signDirectory(golden(), {
      kid: stranger.kid,
      key: importPrivateKey(stranger.privateJwk),
    });
    expect(await codeOf(verifyDirectory(jws, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'KEY_UNKNOWN',
    );
    const memberSigned = await signDirectory(golden(), signingKeyOf('kr/sig/2026'));
    expect(
      await codeOf(verifyDirectory(memberSigned, { governanceKeys: ANCHORS, current, now: NOW })),
    ).toBe('KEY_UNKNOWN');
  });

  it('accepts a next version signed by a governance key the current one announces', async () => {
    const next = signingKeyOf('governance-next');
    const v4 = await signDirectory(withVersion(4), next);
    expect(await codeOf(verifyDirectory(v4, { governanceKeys: ANCHORS, current, now: NOW }))).toBe(
      'ok',
    );
    // Without the current directory the announced key is not trusted.
    expect(await codeOf(verifyDirectory(v4, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'KEY_UNKNOWN',
    );
  });

  it('refuses another message kind signed by the governance key (TYPE_MISMATCH)', async () => {
    const asBundle = await signCompact(new Uint8Array(CANONICAL), 'bundle', GOVERNANCE);
    expect(await codeOf(verifyDirectory(asBundle, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'TYPE_MISMATCH',
    );
  });

  it('refuses a tampered payload and a tampered signature (SIGNATURE_INVALID)', async () => {
    const [h, , s] = SIGNED.split('.');
    const tamperedJson = CANONICAL.toString('utf8').replace('"version":3', '"version":9');
    expect(tamperedJson).not.toBe(CANONICAL.toString('utf8'));
    const tampered = `${h}.${Buffer.from(tamperedJson).toString('base64url')}.${s}`;
    expect(await codeOf(verifyDirectory(tampered, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'SIGNATURE_INVALID',
    );
    const sig = Buffer.from(s!, 'base64url');
    sig[10] = sig[10]! ^ 1;
    const badSig = `${SIGNED.slice(0, SIGNED.lastIndexOf('.'))}.${sig.toString('base64url')}`;
    expect(await codeOf(verifyDirectory(badSig, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('refuses a correctly signed payload that is not in canonical form', async () => {
    const pretty = Buffer.from(JSON.stringify(DIRECTORY_JSON, null, 2));
    const jws = await signCompact(new Uint8Array(pretty), 'directory', GOVERNANCE);
    expect(await codeOf(verifyDirectory(jws, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'DIRECTORY_INVALID',
    );
  });

  it('refuses a signed payload with duplicate keys (strict JSON)', async () => {
    const dup = CANONICAL.toString('utf8').replace('{"agreements"', '{"version":1,"agreements"');
    const jws = await signCompact(new Uint8Array(Buffer.from(dup)), 'directory', GOVERNANCE);
    expect(await codeOf(verifyDirectory(jws, { governanceKeys: ANCHORS, now: NOW }))).toBe(
      'JSON_DUPLICATE_KEY',
    );
  });
});

describe('parseDirectory', () => {
  it('refuses a private JWK in a member key', () => {
    const d = golden() as unknown as { members: { keys: { jwk: OkpJwk }[] }[] };
    d.members[0]!.keys[0]!.jwk.d = Buffer.from(vectorKey('kr/sig/2026').seed, 'hex').toString(
      'base64url',
    );
    expect(fieldOf(() => parseDirectory(d))).toBe('members[0].keys[0].jwk');
  });

  const cases: [string, (d: Directory) => void, string][] = [
    ['unknown top-level member', (d) => Object.assign(d, { extra: 1 }), 'directory.extra'],
    ['version 0', (d) => (d.version = 0), 'version'],
    ['issuedAt without ms', (d) => (d.issuedAt = '2026-11-01T09:00:00Z'), 'issuedAt'],
    ['lower-case country', (d) => (d.members[0]!.country = 'kr'), 'members[0].country'],
    ['duplicate member id', (d) => (d.members[1]!.id = 'kr'), 'members[1].id'],
    ['bad member id', (d) => (d.members[0]!.id = 'KR'), 'members[0].id'],
    [
      'duplicate NATS account',
      (d) => (d.members[1]!.nats.account = d.members[0]!.nats.account),
      'members[1].nats.account',
    ],
    ['hub role on a member', (d) => (d.members[0]!.roles = ['member', 'hub']), 'members[0].roles'],
    ['hub without the hub role', (d) => (d.members[3]!.roles = ['member']), 'members[3].roles'],
    [
      'duplicate kid across members',
      (d) => d.members[1]!.keys.push({ ...d.members[0]!.keys[0]! }),
      'members[1].keys[3].kid',
    ],
    [
      'kid that is not the thumbprint',
      (d) => (d.members[0]!.keys[0]!.kid = d.members[0]!.keys[1]!.kid),
      'members[0].keys[0].kid',
    ],
    ['sig key on X25519', (d) => (d.members[0]!.keys[2]!.use = 'sig'), 'members[0].keys[2].jwk'],
    [
      'retired key without notAfter',
      (d) => delete (d.members[0]!.keys[1] as Partial<DirectoryKey>).notAfter,
      'members[0].keys[1].notAfter',
    ],
    [
      'compromisedAt on an active key',
      (d) => (d.members[0]!.keys[0]!.compromisedAt = '2026-01-01T00:00:00.000Z'),
      'members[0].keys[0].compromisedAt',
    ],
    [
      'notAfter before notBefore',
      (d) => (d.members[0]!.keys[0]!.notAfter = '2026-01-01T00:00:00.000Z'),
      'members[0].keys[0].notAfter',
    ],
    [
      'group naming an unknown member',
      (d) => d.groups[0]!.members.push('xx'),
      'groups[0].members[2]',
    ],
    ['duplicate group id', (d) => d.groups.push({ ...d.groups[0]! }), 'groups[1]'],
    [
      'agreement with an unknown party',
      (d) => (d.agreements[0]!.parties = ['kr', 'xx']),
      'agreements[0].parties[1]',
    ],
    [
      'agreement with "*" and others',
      (d) => (d.agreements[1]!.parties = ['*', 'kr']),
      'agreements[1].parties',
    ],
    [
      'agreement with one party',
      (d) => (d.agreements[0]!.parties = ['kr']),
      'agreements[0].parties',
    ],
    [
      'agreement with an unknown type',
      (d) => ((d.agreements[0]!.types as string[])[0] = 'phone'),
      'agreements[0].types[0]',
    ],
    [
      'agreement with a bad TLP',
      (d) => Object.assign(d.agreements[0]!, { maxTlp: 'WHITE' }),
      'agreements[0].maxTlp',
    ],
    [
      'governance key with a wrong kid',
      (d) => (d.governanceKeys![0]!.kid = vectorKey('governance').kid),
      'governanceKeys[0].kid',
    ],
  ];

  cases.push(
    ['a member that is not an object', (d) => ((d.members as unknown[])[1] = null), 'members[1]'],
    ['an empty member name', (d) => (d.members[0]!.name = ''), 'members[0].name'],
    [
      'a jwk.kid that differs from kid',
      (d) => (d.members[0]!.keys[0]!.jwk.kid = d.members[0]!.keys[1]!.kid),
      'members[0].keys[0].jwk.kid',
    ],
    [
      'an agreement ending before it starts',
      (d) => (d.agreements[0]!.validUntil = d.agreements[0]!.validFrom),
      'agreements[0].validUntil',
    ],
    [
      'an X25519 governance key',
      (d) => (d.governanceKeys![0]!.jwk = { ...d.members[0]!.keys[2]!.jwk }),
      'governanceKeys[0].jwk',
    ],
  );

  it.each(cases)('refuses %s', (_name, edit, field) => {
    const d = golden();
    edit(d);
    expect(fieldOf(() => parseDirectory(d))).toBe(field);
  });

  it('accepts the untouched golden directory (so the cases above fail for their own reason)', () => {
    expect(fieldOf(() => parseDirectory(golden()))).toBe('no error');
  });
});

describe('key resolution', () => {
  const d = parseDirectory(DIRECTORY_JSON);
  const kid = (label: string): string => vectorKey(label).kid;
  const at = (iso: string): Date => new Date(iso);
  const resolve = (label: string, opts: KeyResolutionOptions): string => {
    try {
      const { member, key } = resolveVerificationKey(d, kid(label), opts);
      return `ok ${member.id} ${key.kid === kid(label)}`;
    } catch (e) {
      return isProtocolError(e) ? e.code : 'other';
    }
  };

  it('resolves an active key of an active member in both modes', () => {
    expect(resolve('kr/sig/2026', { at: NOW, mode: 'receive' })).toBe('ok kr true');
    expect(resolve('kr/sig/2026', { at: NOW, mode: 'historical' })).toBe('ok kr true');
  });

  it('refuses an unknown kid, a key of another member, and an enc key used to verify', () => {
    expect(resolveVerificationKeyCode(d, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(
      'KEY_UNKNOWN',
    );
    expect(resolve('kr/sig/2026', { at: NOW, mode: 'receive', member: 'vn' })).toBe(
      'KEY_NOT_VALID',
    );
    expect(resolve('kr/enc/2026', { at: NOW, mode: 'receive' })).toBe('KEY_NOT_VALID');
    expect(resolve('kr/enc/2026', { at: NOW, mode: 'receive', use: 'enc' })).toBe('ok kr true');
  });

  it('enforces [notBefore, notAfter)', () => {
    expect(resolve('kr/sig/2026', { at: at('2026-05-31T23:59:59.999Z'), mode: 'receive' })).toBe(
      'KEY_NOT_VALID',
    );
    expect(resolve('kr/sig/2026', { at: at('2026-06-01T00:00:00.000Z'), mode: 'receive' })).toBe(
      'ok kr true',
    );
  });

  it('lets a retired key overlap with its successor until notAfter, in both modes', async () => {
    const overlap = at('2026-06-15T00:00:00.000Z');
    expect(resolve('kr/sig/2025', { at: overlap, mode: 'receive' })).toBe('ok kr true');
    expect(resolve('kr/sig/2026', { at: overlap, mode: 'receive' })).toBe('ok kr true');
    expect(resolve('kr/sig/2025', { at: at('2026-06-30T23:59:59.999Z'), mode: 'historical' })).toBe(
      'ok kr true',
    );
    expect(resolve('kr/sig/2025', { at: at('2026-07-01T00:00:00.000Z'), mode: 'receive' })).toBe(
      'KEY_NOT_VALID',
    );
    expect(resolve('kr/sig/2025', { at: at('2026-07-01T00:00:00.000Z'), mode: 'historical' })).toBe(
      'KEY_NOT_VALID',
    );
    // The successor is the one to sign with during the overlap.
    expect(currentSigningKey(d, 'kr', overlap).kid).toBe(kid('kr/sig/2026'));
    // A retired key never signs, even inside its window.
    expect(await codeOf(() => currentSigningKey(d, 'kr', at('2026-03-01T00:00:00.000Z')))).toBe(
      'KEY_UNKNOWN',
    );
  });

  it('refuses a revoked key at once on receive, and historically only from compromisedAt', () => {
    expect(
      resolve('vn/sig/2025-compromised', { at: at('2026-08-01T00:00:00.000Z'), mode: 'receive' }),
    ).toBe('KEY_REVOKED');
    expect(
      resolve('vn/sig/2025-compromised', {
        at: at('2026-08-14T23:59:59.999Z'),
        mode: 'historical',
      }),
    ).toBe('ok vn true');
    expect(
      resolve('vn/sig/2025-compromised', {
        at: at('2026-08-15T00:00:00.000Z'),
        mode: 'historical',
      }),
    ).toBe('KEY_REVOKED');
  });

  it('refuses a revoked key without compromisedAt in historical mode too', () => {
    const g = golden();
    delete g.members[1]!.keys[1]!.compromisedAt;
    const d2 = parseDirectory(g);
    expect(
      resolveVerificationKeyCode(d2, kid('vn/sig/2025-compromised'), {
        at: at('2025-06-01T00:00:00.000Z'),
        mode: 'historical',
      }),
    ).toBe('KEY_REVOKED');
  });

  it('refuses the key of a suspended or removed member on receive, not historically', () => {
    const t = at('2026-10-01T00:00:00.000Z');
    expect(resolve('th/sig/2026', { at: t, mode: 'receive' })).toBe('KEY_NOT_VALID');
    expect(resolve('th/sig/2026', { at: t, mode: 'historical' })).toBe('ok th true');
    const g = golden();
    g.members[0]!.status = 'removed';
    const removed = parseDirectory(g);
    expect(
      resolveVerificationKeyCode(removed, kid('kr/sig/2026'), { at: t, mode: 'receive' }),
    ).toBe('KEY_NOT_VALID');
    expect(
      resolveVerificationKeyCode(removed, kid('kr/sig/2026'), { at: t, mode: 'historical' }),
    ).toBe('ok');
  });

  it('gives verifyCompact a resolver that applies the same rules and reuses KeyObjects', async () => {
    const payload = new TextEncoder().encode('{"hello":"federation"}');
    const jws = await signCompact(payload, 'bundle', signingKeyOf('kr/sig/2026'));
    const resolver = directoryKeyResolver(d, { at: NOW, mode: 'receive', member: 'kr' });
    const k1 = await resolver(kid('kr/sig/2026'), {
      kid: kid('kr/sig/2026'),
      typ: 'x',
      alg: 'EdDSA',
    });
    const k2 = await directoryKeyResolver(d, { at: NOW, mode: 'historical' })(kid('kr/sig/2026'), {
      kid: kid('kr/sig/2026'),
      typ: 'x',
      alg: 'EdDSA',
    });
    expect(k1).toBe(k2);
    const out = await verifyCompact(jws, 'bundle', resolver);
    expect(Buffer.from(out.payload).equals(Buffer.from(payload))).toBe(true);
    const compromised = await signCompact(
      payload,
      'bundle',
      signingKeyOf('vn/sig/2025-compromised'),
    );
    expect(
      await codeOf(
        verifyCompact(compromised, 'bundle', directoryKeyResolver(d, { at: NOW, mode: 'receive' })),
      ),
    ).toBe('KEY_REVOKED');
    expect(
      await codeOf(
        verifyCompact(
          jws,
          'bundle',
          directoryKeyResolver(d, { at: NOW, mode: 'receive', member: 'vn' }),
        ),
      ),
    ).toBe('KEY_NOT_VALID');
  });
});

describe('lookups', () => {
  const d = parseDirectory(DIRECTORY_JSON);

  it('finds members by id', () => {
    expect(memberById(d, 'vn')?.country).toBe('VN');
    expect(memberById(d, 'xx')).toBeUndefined();
  });

  it('lists the encryption keys to use, and fails when there are none', async () => {
    expect(encryptionKeysOf(d, 'vn', NOW).map((k) => k.kid)).toEqual([
      vectorKey('vn/enc/2026').kid,
    ]);
    expect(await codeOf(() => encryptionKeysOf(d, 'th', NOW))).toBe('KEY_UNKNOWN');
    expect(await codeOf(() => encryptionKeysOf(d, 'xx', NOW))).toBe('MEMBER_UNKNOWN');
    expect(
      await codeOf(() => currentSigningKey(d, 'vn', new Date('2026-08-20T00:00:00.000Z'))),
    ).toBe('KEY_UNKNOWN');
  });
});

function resolveVerificationKeyCode(
  d: Directory,
  kid: string,
  opts: KeyResolutionOptions = { at: NOW, mode: 'receive' },
): string {
  try {
    resolveVerificationKey(d, kid, opts);
    return 'ok';
  } catch (e) {
    return isProtocolError(e) ? e.code : 'other';
  }
}

// parseStrictJson is what a node runs on received bytes; the vector must survive it unchanged.
it('the canonical vector parses strictly to the same value', () => {
  expect(parseStrictJson(CANONICAL)).toEqual(DIRECTORY_JSON);
});
