import { describe, expect, it } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { createSecretKey, sign } from 'node:crypto';
import {
  type OkpJwk,
  assertKeyObject,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  isProtocolError,
  jwkThumbprint,
  publicJwkOf,
} from '../src/index.js';

// RFC 8037, Appendix A.1/A.2/A.3: the RFC 8032 TEST 1 key as a JWK, and its thumbprint.
const RFC8037_PRIVATE: OkpJwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return 'no error';
}

describe('keys', () => {
  it('computes the RFC 8037 A.3 thumbprint as kid', async () => {
    await expect(jwkThumbprint(RFC8037_PRIVATE)).resolves.toBe(RFC8037_THUMBPRINT);
    await expect(jwkThumbprint(publicJwkOf(RFC8037_PRIVATE))).resolves.toBe(RFC8037_THUMBPRINT);
  });

  it('imports the RFC 8037 key and reproduces the A.4 signature', () => {
    const key = importPrivateKey(RFC8037_PRIVATE);
    const signingInput = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc';
    const sig = sign(null, Buffer.from(signingInput, 'ascii'), key).toString('base64url');
    expect(sig).toBe(
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    );
  });

  it('generates Ed25519 signing keys whose kid is the thumbprint', async () => {
    const k = await generateSigningKey();
    expect(k.publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: k.publicJwk.x,
      kid: k.kid,
      use: 'sig',
      alg: 'EdDSA',
    });
    expect(k.privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(jwkThumbprint(k.publicJwk)).resolves.toBe(k.kid);
    expect(importPublicKey(k.publicJwk).asymmetricKeyType).toBe('ed25519');
    expect(importPrivateKey(k.privateJwk).type).toBe('private');
    expect(publicJwkOf(k.privateJwk)).toEqual(k.publicJwk);
    const other = await generateSigningKey();
    expect(other.kid).not.toBe(k.kid);
  });

  it('generates X25519 encryption keys', async () => {
    const k = await generateEncryptionKey();
    expect(k.publicJwk.crv).toBe('X25519');
    expect(k.publicJwk.use).toBe('enc');
    expect(importPublicKey(k.publicJwk, 'X25519').asymmetricKeyType).toBe('x25519');
    expect(importPrivateKey(k.privateJwk, 'X25519').asymmetricKeyType).toBe('x25519');
    expect(code(() => importPublicKey(k.publicJwk, 'Ed25519'))).toBe('INVALID_VALUE');
  });

  it('returns the same KeyObject for the same public key (cache)', () => {
    const pub = publicJwkOf(RFC8037_PRIVATE);
    expect(importPublicKey(pub)).toBe(importPublicKey({ ...pub }));
  });

  it.each<[string, unknown]>([
    ['not an object', 'x'],
    ['array', []],
    ['wrong kty', { ...publicJwkOf(RFC8037_PRIVATE), kty: 'EC' }],
    ['wrong crv', { ...publicJwkOf(RFC8037_PRIVATE), crv: 'Ed448' }],
    ['short x', { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR' }],
    ['padded x', { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=' }],
    [
      'base64 not url',
      { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
    ],
    [
      'non-zero trailing bits',
      { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp' },
    ],
    ['public with d', RFC8037_PRIVATE],
    ['unknown member', { ...publicJwkOf(RFC8037_PRIVATE), x5u: 'https://evil' }],
    ['wrong use', { ...publicJwkOf(RFC8037_PRIVATE), use: 'enc' }],
    ['wrong alg', { ...publicJwkOf(RFC8037_PRIVATE), alg: 'ES256' }],
    ['non-string kid', { ...publicJwkOf(RFC8037_PRIVATE), kid: 7 }],
  ])('rejects a public JWK: %s', (_name, jwk) => {
    expect(code(() => importPublicKey(jwk as OkpJwk))).toBe('INVALID_VALUE');
  });

  it('rejects a private JWK without d, or whose x is not the public key of d', () => {
    expect(code(() => importPrivateKey(publicJwkOf(RFC8037_PRIVATE)))).toBe('INVALID_VALUE');
    const wrongX = { ...RFC8037_PRIVATE, x: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    expect(code(() => importPrivateKey(wrongX))).toBe('INVALID_VALUE');
    expect(code(() => publicJwkOf(wrongX))).toBe('INVALID_VALUE');
  });

  it('assertKeyObject refuses secrets, wrong curves and wrong kinds', () => {
    const priv = importPrivateKey(RFC8037_PRIVATE);
    const pub = importPublicKey(publicJwkOf(RFC8037_PRIVATE));
    expect(() => assertKeyObject(pub, 'Ed25519', 'public')).not.toThrow();
    expect(code(() => assertKeyObject(priv, 'Ed25519', 'public'))).toBe('KEY_NOT_VALID');
    expect(code(() => assertKeyObject(pub, 'X25519', 'public'))).toBe('KEY_NOT_VALID');
    expect(
      code(() => assertKeyObject(createSecretKey(Buffer.alloc(32)), 'Ed25519', 'public')),
    ).toBe('KEY_NOT_VALID');
    expect(code(() => assertKeyObject({}, 'Ed25519', 'public'))).toBe('KEY_NOT_VALID');
  });
});
