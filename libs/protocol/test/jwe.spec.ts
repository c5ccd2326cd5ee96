import { beforeAll, describe, expect, it } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { CompactEncrypt, GeneralEncrypt, generalDecrypt } from 'jose';
import {
  type EncryptionKey,
  type GeneratedKey,
  decryptFor,
  encryptTo,
  generateEncryptionKey,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  isProtocolError,
} from '../src/index.js';

const PLAINTEXT = new TextEncoder().encode('{"header":"signed.bundle.here","records":[]}');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return 'no error';
}

const pub = (k: GeneratedKey): EncryptionKey => ({ kid: k.kid, key: importPublicKey(k.publicJwk) });
const priv = (k: GeneratedKey): EncryptionKey => ({
  kid: k.kid,
  key: importPrivateKey(k.privateJwk),
});

type Json = Record<string, unknown> & { recipients: Record<string, unknown>[] };

describe('encryptTo / decryptFor', () => {
  let vn: GeneratedKey;
  let kr: GeneratedKey;
  let fr: GeneratedKey;
  let jwe: string;
  beforeAll(async () => {
    [vn, kr, fr] = await Promise.all([
      generateEncryptionKey(),
      generateEncryptionKey(),
      generateEncryptionKey(),
    ]);
    jwe = await encryptTo(PLAINTEXT, [pub(vn), pub(kr)]);
  });

  it('every recipient decrypts the same plaintext', async () => {
    await expect(decryptFor(jwe, priv(vn))).resolves.toEqual(PLAINTEXT);
    await expect(decryptFor(Buffer.from(jwe), priv(kr))).resolves.toEqual(PLAINTEXT);
  });

  it('writes the General JSON profile: protected enc, per-recipient alg, kid and epk', () => {
    const o = JSON.parse(jwe) as Json;
    expect(Object.keys(o).sort()).toEqual(['ciphertext', 'iv', 'protected', 'recipients', 'tag']);
    expect(Buffer.from(o.protected as string, 'base64url').toString()).toBe('{"enc":"A256GCM"}');
    expect(o.recipients).toHaveLength(2);
    const h = o.recipients[0]?.header as Record<string, unknown>;
    expect(h.alg).toBe('ECDH-ES+A256KW');
    expect(h.kid).toBe(vn.kid);
    expect((h.epk as Record<string, unknown>).crv).toBe('X25519');
    expect(JSON.stringify(o)).not.toContain('signed.bundle');
  });

  it('works for a single recipient, whose epk jose puts in the protected header', async () => {
    const one = await encryptTo(PLAINTEXT, [pub(fr)]);
    const o = JSON.parse(one) as Json;
    const prot = JSON.parse(Buffer.from(o.protected as string, 'base64url').toString()) as object;
    expect(Object.keys(prot).sort()).toEqual(['enc', 'epk']);
    await expect(decryptFor(one, priv(fr))).resolves.toEqual(PLAINTEXT);
    await expect(codeOf(decryptFor(one, priv(vn)))).resolves.toBe('DECRYPTION_FAILED');
    // A protected epk shared by two recipient entries is not something encryptTo writes.
    const two = {
      ...o,
      recipients: [
        o.recipients[0],
        { ...o.recipients[0], header: { alg: 'ECDH-ES+A256KW', kid: 'x' } },
      ],
    };
    await expect(codeOf(decryptFor(JSON.stringify(two), priv(fr)))).resolves.toBe(
      'DECRYPTION_FAILED',
    );
  });

  it('interoperates with jose both ways, for one recipient and for several', async () => {
    for (const recipients of [[vn], [vn, kr, fr]]) {
      // jose → decryptFor
      const g = new GeneralEncrypt(PLAINTEXT).setProtectedHeader({ enc: 'A256GCM' });
      for (const r of recipients) {
        g.addRecipient(importPublicKey(r.publicJwk)).setUnprotectedHeader({
          alg: 'ECDH-ES+A256KW',
          kid: r.kid,
        });
      }
      const byJose = JSON.stringify(await g.encrypt());
      for (const r of recipients)
        await expect(decryptFor(byJose, priv(r))).resolves.toEqual(PLAINTEXT);
      // encryptTo → jose
      const ours = JSON.parse(await encryptTo(PLAINTEXT, recipients.map(pub))) as never;
      for (const r of recipients) {
        const { plaintext } = await generalDecrypt(ours, importPrivateKey(r.privateJwk), {
          keyManagementAlgorithms: ['ECDH-ES+A256KW'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
        expect(Buffer.from(plaintext).equals(Buffer.from(PLAINTEXT))).toBe(true);
      }
    }
  });

  it('refuses an ephemeral key of low order, of another curve shape, or named twice', async () => {
    const o = JSON.parse(jwe) as Json;
    const header = o.recipients[0]?.header as Record<string, unknown>;
    const variants: Record<string, unknown>[] = [
      { ...header, epk: { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') } },
      { ...header, epk: { kty: 'OKP', crv: 'Ed25519', x: (header.epk as { x: string }).x } },
      { ...header, epk: { ...(header.epk as object), d: 'AA' } },
      { ...header, epk: undefined },
    ];
    for (const h of variants) {
      const forged = { ...o, recipients: [{ ...o.recipients[0], header: h }, o.recipients[1]] };
      await expect(codeOf(decryptFor(JSON.stringify(forged), priv(vn)))).resolves.toBe(
        'DECRYPTION_FAILED',
      );
    }
    const single = JSON.parse(await encryptTo(PLAINTEXT, [pub(fr)])) as Json;
    const prot = JSON.parse(Buffer.from(single.protected as string, 'base64url').toString()) as {
      epk: unknown;
    };
    const r0 = single.recipients[0] as { header: Record<string, unknown> };
    r0.header = { ...r0.header, epk: prot.epk };
    await expect(codeOf(decryptFor(JSON.stringify(single), priv(fr)))).resolves.toBe(
      'DECRYPTION_FAILED',
    );
  });

  it('accepts the same JWE re-serialized with whitespace (strict path) and refuses a duplicate member', async () => {
    const spaced = JSON.stringify(JSON.parse(jwe), null, 2);
    await expect(decryptFor(spaced, priv(vn))).resolves.toEqual(PLAINTEXT);
    const duplicated = `${jwe.slice(0, -1)},"iv":"AAAAAAAAAAAAAAAA"}`;
    await expect(codeOf(decryptFor(duplicated, priv(vn)))).resolves.toBe('DECRYPTION_FAILED');
  });

  it('refuses a member that is not a recipient, and the right kid with the wrong key', async () => {
    await expect(codeOf(decryptFor(jwe, priv(fr)))).resolves.toBe('DECRYPTION_FAILED');
    await expect(codeOf(decryptFor(jwe, { kid: vn.kid, key: priv(fr).key }))).resolves.toBe(
      'DECRYPTION_FAILED',
    );
  });

  it('detects tampering with the ciphertext, tag, iv, protected header or wrapped key', async () => {
    const flip = (s: string): string => {
      const b = Buffer.from(s, 'base64url');
      b[0] = (b[0] ?? 0) ^ 1;
      return b.toString('base64url');
    };
    for (const field of ['ciphertext', 'tag', 'iv'] as const) {
      const o = JSON.parse(jwe) as Json;
      o[field] = flip(o[field] as string);
      await expect(codeOf(decryptFor(JSON.stringify(o), priv(vn)))).resolves.toBe(
        'DECRYPTION_FAILED',
      );
    }
    const o = JSON.parse(jwe) as Json;
    const r0 = o.recipients[0] as { encrypted_key: string };
    r0.encrypted_key = flip(r0.encrypted_key);
    await expect(codeOf(decryptFor(JSON.stringify(o), priv(vn)))).resolves.toBe(
      'DECRYPTION_FAILED',
    );
    // The other recipient's entry is untouched and still opens: entries are independent.
    await expect(decryptFor(JSON.stringify(o), priv(kr))).resolves.toEqual(PLAINTEXT);
    const p = JSON.parse(jwe) as Json;
    p.protected = Buffer.from('{"enc":"A256GCM","zip":"DEF"}').toString('base64url');
    await expect(codeOf(decryptFor(JSON.stringify(p), priv(vn)))).resolves.toBe(
      'DECRYPTION_FAILED',
    );
  });

  it('refuses algorithms outside the allow-list (ECDH-ES direct, A128GCM, A256CBC-HS512)', async () => {
    const key = importPublicKey(vn.publicJwk);
    for (const [alg, enc] of [
      ['ECDH-ES', 'A256GCM'],
      ['ECDH-ES+A128KW', 'A256GCM'],
      ['ECDH-ES+A256KW', 'A128GCM'],
      ['ECDH-ES+A256KW', 'A256CBC-HS512'],
    ] as const) {
      const g = new GeneralEncrypt(PLAINTEXT).setProtectedHeader({ enc });
      g.addRecipient(key).setUnprotectedHeader({ alg, kid: vn.kid });
      const forged = JSON.stringify(await g.encrypt());
      await expect(codeOf(decryptFor(forged, priv(vn)))).resolves.toBe('DECRYPTION_FAILED');
    }
  });

  it('refuses structures outside the profile', async () => {
    const compact = await new CompactEncrypt(PLAINTEXT)
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: vn.kid })
      .encrypt(importPublicKey(vn.publicJwk));
    const base = JSON.parse(jwe) as Json;
    const variants: unknown[] = [
      compact,
      '[]',
      '{}',
      `${jwe.slice(0, -1)},"ciphertext":"AA"}`,
      { ...base, aad: 'AAAA' },
      { ...base, unprotected: { jku: 'https://evil' } },
      { ...base, recipients: [] },
      { ...base, recipients: 'x' },
      { ...base, tag: undefined },
      { ...base, recipients: [{ ...base.recipients[0], extra: 1 }] },
      {
        ...base,
        recipients: [
          { ...base.recipients[0], header: { ...(base.recipients[0]?.header as object), jwk: {} } },
        ],
      },
      { ...base, recipients: [base.recipients[0], base.recipients[0]] },
    ];
    for (const v of variants) {
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      await expect(codeOf(decryptFor(text, priv(vn)))).resolves.toBe('DECRYPTION_FAILED');
    }
  });

  it('enforces the size limit before parsing', async () => {
    await expect(codeOf(decryptFor(jwe, priv(vn), { maxBytes: jwe.length - 1 }))).resolves.toBe(
      'JSON_TOO_LARGE',
    );
    await expect(decryptFor(jwe, priv(vn), { maxBytes: jwe.length })).resolves.toEqual(PLAINTEXT);
  });

  it('refuses wrong key types and bad recipient lists on encryption', async () => {
    const sig = await generateSigningKey();
    await expect(
      codeOf(encryptTo(PLAINTEXT, [{ kid: 'k', key: importPublicKey(sig.publicJwk) }])),
    ).resolves.toBe('KEY_NOT_VALID');
    await expect(codeOf(encryptTo(PLAINTEXT, [priv(vn)]))).resolves.toBe('KEY_NOT_VALID');
    await expect(codeOf(encryptTo(PLAINTEXT, []))).resolves.toBe('INVALID_VALUE');
    await expect(codeOf(encryptTo(PLAINTEXT, [pub(vn), pub(vn)]))).resolves.toBe('INVALID_VALUE');
    await expect(codeOf(decryptFor(jwe, pub(vn)))).resolves.toBe('KEY_NOT_VALID');
  });
});
