import { beforeAll, describe, expect, it } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { KeyObject, createHmac, createSecretKey, sign } from 'node:crypto';
import {
  JWS_TYP,
  type KeyResolver,
  MESSAGE_KINDS,
  type OkpJwk,
  ProtocolError,
  type SigningKey,
  decodeCompactHeader,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  isProtocolError,
  publicJwkOf,
  signCompact,
  verifyCompact,
  verifyCompactFast,
} from '../src/index.js';

// RFC 8037 A.1: the RFC 8032 TEST 1 key; its thumbprint is the kid.
const RFC8037_PRIVATE: OkpJwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const KID = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
const TYP = JWS_TYP.bundle;
const PAYLOAD = new TextEncoder().encode('{"hello":"world"}');

const signer: SigningKey = { kid: KID, key: importPrivateKey(RFC8037_PRIVATE) };
const publicKey = importPublicKey(publicJwkOf(RFC8037_PRIVATE));
const resolve: KeyResolver = (kid) => {
  if (kid === KID) return publicKey;
  throw new ProtocolError('KEY_UNKNOWN', `unknown kid ${kid}`);
};

const b64u = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');

/** A compact JWS with an arbitrary header text, signed with Ed25519 by `key` (or unsigned). */
function forge(headerText: string, payload: Uint8Array = PAYLOAD, key?: KeyObject): string {
  const input = `${b64u(headerText)}.${b64u(payload)}`;
  const sig = key ? sign(null, Buffer.from(input, 'ascii'), key) : Buffer.alloc(0);
  return `${input}.${b64u(sig)}`;
}

const header = (o: Record<string, unknown>): string => JSON.stringify(o);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return 'no error';
}

describe('signCompact', () => {
  it('is deterministic and writes the canonical profile header (golden, cross-checked with openssl pkeyutl)', async () => {
    const jws = await signCompact(PAYLOAD, 'bundle', signer);
    expect(jws).toBe(
      'eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsiLCJ0eXAiOiJmZWRpbnRlbC1idW5kbGUrandzIn0' +
        '.eyJoZWxsbyI6IndvcmxkIn0' +
        '.Vxqa2pKpJocmPJBjfOXMMwFhEYAnsvAvXeWYHVriIpoldyVzw6UgQbErwEgrGpGJEqTKOnJ10JtsRcf-na7lBw',
    );
  });

  it('refuses a public key, an X25519 key and a malformed kid', async () => {
    await expect(
      codeOf(signCompact(PAYLOAD, 'bundle', { kid: KID, key: publicKey })),
    ).resolves.toBe('KEY_NOT_VALID');
    const x = await generateEncryptionKey();
    await expect(
      codeOf(signCompact(PAYLOAD, 'bundle', { kid: KID, key: importPrivateKey(x.privateJwk) })),
    ).resolves.toBe('KEY_NOT_VALID');
    await expect(
      codeOf(signCompact(PAYLOAD, 'bundle', { kid: 'a"b', key: signer.key })),
    ).resolves.toBe('INVALID_VALUE');
    await expect(
      codeOf(signCompact(PAYLOAD, 'bundle', { kid: '', key: signer.key })),
    ).resolves.toBe('INVALID_VALUE');
  });

  it('has a distinct typ for every message kind', () => {
    const typs = MESSAGE_KINDS.map((k) => JWS_TYP[k]);
    expect(new Set(typs).size).toBe(MESSAGE_KINDS.length);
    for (const t of typs) expect(t).toMatch(/^fedintel-[a-z]+\+jws$/);
  });
});

describe.each([
  ['verifyCompact (jose)', verifyCompact],
  ['verifyCompactFast (node:crypto)', verifyCompactFast],
])('%s', (_name, verify) => {
  let good: string;
  beforeAll(async () => {
    good = await signCompact(PAYLOAD, 'bundle', signer);
  });

  it('returns the payload and kid of a valid JWS, for every kind', async () => {
    await expect(verify(good, 'bundle', resolve)).resolves.toEqual({ payload: PAYLOAD, kid: KID });
    for (const kind of MESSAGE_KINDS) {
      const jws = await signCompact(PAYLOAD, kind, signer);
      const out = await verify(jws, kind, resolve);
      expect(Buffer.from(out.payload).equals(Buffer.from(PAYLOAD))).toBe(true);
    }
  });

  it('verifies a JWS that jose signed with a freshly generated key', async () => {
    const k = await generateSigningKey();
    const jws = await signCompact(PAYLOAD, 'receipt', {
      kid: k.kid,
      key: importPrivateKey(k.privateJwk),
    });
    const out = await verify(jws, 'receipt', () => importPublicKey(k.publicJwk));
    expect(out.kid).toBe(k.kid);
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = good.split('.');
    const tampered = `${h}.${b64u('{"hello":"World"}')}.${s}`;
    await expect(codeOf(verify(tampered, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
  });

  it('rejects a tampered signature', async () => {
    const sig = Buffer.from(good.split('.')[2] ?? '', 'base64url');
    sig[10] = (sig[10] ?? 0) ^ 1;
    const tampered = `${good.slice(0, good.lastIndexOf('.'))}.${b64u(sig)}`;
    await expect(codeOf(verify(tampered, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
  });

  it('rejects a signature by another key under the same kid', async () => {
    const other = await generateSigningKey();
    const jws = await signCompact(PAYLOAD, 'bundle', {
      kid: KID,
      key: importPrivateKey(other.privateJwk),
    });
    await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
  });

  it('rejects alg none', async () => {
    const jws = forge(header({ alg: 'none', kid: KID, typ: TYP }));
    await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('rejects HS256 keyed with the public key bytes (raw and SPKI)', async () => {
    for (const secret of [
      Buffer.from(RFC8037_PRIVATE.x, 'base64url'),
      publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })),
    ]) {
      const input = `${b64u(header({ alg: 'HS256', kid: KID, typ: TYP }))}.${b64u(PAYLOAD)}`;
      const mac = createHmac('sha256', secret).update(input).digest();
      const jws = `${input}.${b64u(mac)}`;
      // The resolver even hands back a secret key: the allow-list must stop it first.
      const evil: KeyResolver = () => createSecretKey(secret);
      await expect(codeOf(verify(jws, 'bundle', evil))).resolves.toBe('ALGORITHM_NOT_ALLOWED');
      await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('ALGORITHM_NOT_ALLOWED');
    }
  });

  it('rejects jose\'s fully-specified "Ed25519" alg name (one algorithm, one spelling)', async () => {
    const jws = forge(header({ alg: 'Ed25519', kid: KID, typ: TYP }), PAYLOAD, signer.key);
    await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('rejects an unknown kid, and maps resolver failures to KEY_UNKNOWN', async () => {
    const other = await generateSigningKey();
    const jws = await signCompact(PAYLOAD, 'bundle', {
      kid: other.kid,
      key: importPrivateKey(other.privateJwk),
    });
    await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('KEY_UNKNOWN');
    const broken: KeyResolver = () => {
      throw new Error('database down');
    };
    await expect(codeOf(verify(good, 'bundle', broken))).resolves.toBe('KEY_UNKNOWN');
  });

  it('passes KEY_REVOKED and KEY_NOT_VALID from the resolver through', async () => {
    for (const c of ['KEY_REVOKED', 'KEY_NOT_VALID'] as const) {
      const r: KeyResolver = () => Promise.reject(new ProtocolError(c, 'no'));
      await expect(codeOf(verify(good, 'bundle', r))).resolves.toBe(c);
    }
  });

  it('refuses a resolved key that is not a public Ed25519 key', async () => {
    const x = await generateEncryptionKey();
    await expect(codeOf(verify(good, 'bundle', () => importPublicKey(x.publicJwk)))).resolves.toBe(
      'KEY_NOT_VALID',
    );
    await expect(codeOf(verify(good, 'bundle', () => signer.key))).resolves.toBe('KEY_NOT_VALID');
  });

  it('rejects a missing kid, even when correctly signed', async () => {
    const jws = forge(header({ alg: 'EdDSA', typ: TYP }), PAYLOAD, signer.key);
    await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
    const numeric = forge(header({ alg: 'EdDSA', kid: 7, typ: TYP }), PAYLOAD, signer.key);
    await expect(codeOf(verify(numeric, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
  });

  it('rejects the wrong typ, and a missing typ', async () => {
    const receipt = await signCompact(PAYLOAD, 'receipt', signer);
    await expect(codeOf(verify(receipt, 'bundle', resolve))).resolves.toBe('TYPE_MISMATCH');
    await expect(codeOf(verify(good, 'directory', resolve))).resolves.toBe('TYPE_MISMATCH');
    const none = forge(header({ alg: 'EdDSA', kid: KID }), PAYLOAD, signer.key);
    await expect(codeOf(verify(none, 'bundle', resolve))).resolves.toBe('TYPE_MISMATCH');
    const jwt = forge(header({ alg: 'EdDSA', kid: KID, typ: 'JWT' }), PAYLOAD, signer.key);
    await expect(codeOf(verify(jwt, 'bundle', resolve))).resolves.toBe('TYPE_MISMATCH');
  });

  it('rejects crit (none is understood), even when empty, and b64:false', async () => {
    for (const h of [
      { alg: 'EdDSA', crit: ['exp'], exp: 1, kid: KID, typ: TYP },
      { alg: 'EdDSA', crit: [], kid: KID, typ: TYP },
      { alg: 'EdDSA', b64: false, crit: ['b64'], kid: KID, typ: TYP },
      { alg: 'EdDSA', b64: false, kid: KID, typ: TYP },
    ]) {
      const jws = forge(header(h), PAYLOAD, signer.key);
      await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('CRIT_UNSUPPORTED');
    }
  });

  it('rejects header parameters outside the profile (jwk, jku, x5u, cty)', async () => {
    for (const extra of [
      { jwk: publicJwkOf(RFC8037_PRIVATE) },
      { jku: 'https://evil.example/jwks' },
      { x5u: 'https://evil.example/cert' },
      { cty: 'json' },
    ]) {
      const jws = forge(
        header({ alg: 'EdDSA', kid: KID, typ: TYP, ...extra }),
        PAYLOAD,
        signer.key,
      );
      await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
    }
  });

  it('rejects a non-canonical header: duplicate members, whitespace, member order', async () => {
    for (const text of [
      `{"alg":"EdDSA","kid":"${KID}","typ":"fedintel-receipt+jws","typ":"${TYP}"}`,
      `{"alg":"none","alg":"EdDSA","kid":"${KID}","typ":"${TYP}"}`,
      `{"alg": "EdDSA", "kid": "${KID}", "typ": "${TYP}"}`,
      `{"kid":"${KID}","alg":"EdDSA","typ":"${TYP}"}`,
      `{"alg":"EdDSA","kid":"${KID}","typ":"fedintel-bundle\\u002bjws"}`,
    ]) {
      const jws = forge(text, PAYLOAD, signer.key);
      await expect(codeOf(verify(jws, 'bundle', resolve))).resolves.toBe('SIGNATURE_INVALID');
    }
  });

  it.each<[string, (good: string) => unknown]>([
    ['empty string', () => ''],
    ['not a string', () => 42],
    ['two parts', (g) => g.slice(0, g.lastIndexOf('.'))],
    ['four parts', (g) => `${g}.AAAA`],
    ['empty header', (g) => g.slice(g.indexOf('.'))],
    ['empty (detached) payload', (g) => `${g.split('.')[0]}..${g.split('.')[2]}`],
    ['empty signature', (g) => `${g.slice(0, g.lastIndexOf('.'))}.`],
    ['padding in signature', (g) => `${g}==`],
    ['standard base64 alphabet', (g) => g.replace(/_/g, '/').replace(/-/g, '+') + '+'],
    ['whitespace', (g) => ` ${g}`],
    [
      'non-canonical trailing bits in signature',
      (g) => g.slice(0, -1) + (g.endsWith('A') ? 'B' : 'A'),
    ],
    ['signature of 63 bytes', (g) => `${g.slice(0, g.lastIndexOf('.'))}.${b64u(Buffer.alloc(63))}`],
    ['header not JSON', (g) => `${b64u('{alg:EdDSA}')}${g.slice(g.indexOf('.'))}`],
    ['header a JSON array', (g) => `${b64u('["EdDSA"]')}${g.slice(g.indexOf('.'))}`],
    ['header a JSON string', (g) => `${b64u('"x"')}${g.slice(g.indexOf('.'))}`],
    ['header of length 4k+1', (g) => `A${g}`],
  ])('rejects a malformed compact JWS: %s', async (_name, mutate) => {
    await expect(codeOf(verify(mutate(good) as string, 'bundle', resolve))).resolves.toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('enforces maxLength', async () => {
    await expect(codeOf(verify(good, 'bundle', resolve, { maxLength: good.length }))).resolves.toBe(
      'no error',
    );
    await expect(
      codeOf(verify(good, 'bundle', resolve, { maxLength: good.length - 1 })),
    ).resolves.toBe('SIGNATURE_INVALID');
  });
});

describe('decodeCompactHeader', () => {
  it('exposes the validated header and signing input without verifying', async () => {
    const jws = await signCompact(PAYLOAD, 'checkpoint', signer);
    const d = decodeCompactHeader(jws, 'checkpoint');
    expect(d.header).toEqual({ alg: 'EdDSA', kid: KID, typ: 'fedintel-checkpoint+jws' });
    expect(d.signingInput).toBe(jws.slice(0, jws.lastIndexOf('.')));
    expect(d.signature).toHaveLength(64);
  });
});
