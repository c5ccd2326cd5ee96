import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

// RFC 8032 §7.1 vectors, run against node:crypto: the platform's Ed25519 must be the RFC's, or
// no signature made here would verify elsewhere.
interface Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL('./vectors/ed25519/rfc8032.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] };

const unhex = (h: string): Buffer => Buffer.from(h, 'hex');

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410 §7): only the seed goes in, so the
// public key below is derived by the platform, not copied from the vector.
const PKCS8_ED25519_PREFIX = unhex('302e020100300506032b657004220420');

function privateKey(seedHex: string): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, unhex(seedHex)]),
    format: 'der',
    type: 'pkcs8',
  });
}

function publicKey(pubHex: string): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: unhex(pubHex).toString('base64url') },
    format: 'jwk',
  });
}

function flipBit(b: Buffer, byte: number, bit: number): Buffer {
  const c = Buffer.from(b);
  c[byte] = (c[byte] as number) ^ (1 << bit);
  return c;
}

describe('Ed25519 in node:crypto (RFC 8032 §7.1)', () => {
  it('holds the five RFC vectors, with the 1023-byte message of TEST 1024', () => {
    expect(vectors.map((v) => v.name)).toEqual([
      'TEST 1',
      'TEST 2',
      'TEST 3',
      'TEST 1024',
      'TEST SHA(abc)',
    ]);
    expect(unhex((vectors[3] as Vector).message)).toHaveLength(1023);
  });

  describe.each(vectors)('$name', (v) => {
    const message = unhex(v.message);
    const signature = unhex(v.signature);

    it('derives the public key from the secret key', () => {
      const derived = createPublicKey(privateKey(v.secretKey)).export({ format: 'jwk' });
      expect(Buffer.from(derived.x as string, 'base64url').toString('hex')).toBe(v.publicKey);
    });

    it('signs to the exact signature', () => {
      expect(sign(null, message, privateKey(v.secretKey)).toString('hex')).toBe(v.signature);
    });

    it('verifies the signature', () => {
      expect(verify(null, message, publicKey(v.publicKey), signature)).toBe(true);
    });

    it('rejects the signature with a flipped bit in R, in S, or in the message', () => {
      const key = publicKey(v.publicKey);
      expect(verify(null, message, key, flipBit(signature, 0, 0))).toBe(false);
      expect(verify(null, message, key, flipBit(signature, 40, 3))).toBe(false);
      const altered = message.length === 0 ? Buffer.from([0]) : flipBit(message, 0, 7);
      expect(verify(null, altered, key, signature)).toBe(false);
    });

    it('rejects the signature under another vector’s public key', () => {
      const other = vectors.find((w) => w.publicKey !== v.publicKey) as Vector;
      expect(verify(null, message, publicKey(other.publicKey), signature)).toBe(false);
    });
  });
});
