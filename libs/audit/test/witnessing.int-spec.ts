// The shared witness (ADR 0061): message kinds, parsing, and witnessCheckpoint on a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  toB64u,
  type KeyResolver,
  type SigningKey,
} from '../../protocol/src/index.js';
import {
  isCheckpointMessage,
  openCosignature,
  parseCheckpointMessage,
  signStatement,
  SqlWitnessStore,
  witnessCheckpoint,
} from '../src/index.js';

const enc = (s: string) => Buffer.from(s, 'utf8');
const root = (fill: number) => toB64u(new Uint8Array(32).fill(fill));

describe('telling checkpoint messages from cosignatures', () => {
  it('is a checkpoint message when the first non-blank byte opens an object', () => {
    expect(isCheckpointMessage(enc('{"checkpoint":"a.b.c","proofs":[]}'))).toBe(true);
    expect(isCheckpointMessage(enc(' \n\t{}'))).toBe(true);
    expect(isCheckpointMessage(enc('eyJhbGciOiJFZERTQSJ9.e30.sig'))).toBe(false);
    expect(isCheckpointMessage(enc('["x"]'))).toBe(false);
    expect(isCheckpointMessage(enc(''))).toBe(false);
  });

  it('refuses malformed messages with INVALID_CHECKPOINT', () => {
    for (const bad of [
      '{"checkpoint":"a.b.c"}',
      '{"checkpoint":1,"proofs":[]}',
      '{"checkpoint":"a.b.c","proofs":[{"from":1,"path":["short"]}]}',
      '{"checkpoint":"a.b.c","proofs":[{"from":1.5,"path":[]}]}',
      '{"checkpoint":"a.b.c","checkpoint":"d.e.f","proofs":[]}',
      'not json',
    ]) {
      expect(() => parseCheckpointMessage(enc(bad))).toThrow(
        expect.objectContaining({ code: 'INVALID_CHECKPOINT' }),
      );
    }
    expect(
      parseCheckpointMessage(
        enc(`{"checkpoint":"a.b.c","proofs":[{"from":3,"path":["${root(1)}"]}]}`),
      ),
    ).toEqual({ checkpoint: 'a.b.c', proofs: [{ from: 3, path: [root(1)] }] });
  });
});

describe('witnessCheckpoint on a real database', () => {
  let dir: string;
  let ds: DataSource;
  let store: SqlWitnessStore;
  let hubKey: SigningKey;
  let krKey: SigningKey;
  let resolveHub: KeyResolver;
  let resolveKr: KeyResolver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'witnessing-'));
    ds = await new DataSource({
      type: 'better-sqlite3',
      database: join(dir, 'w.sqlite'),
    }).initialize();
    store = new SqlWitnessStore(ds);
    await store.ensureTables();
    await store.ensureTables(); // idempotent
    const hub = await generateSigningKey();
    const kr = await generateSigningKey();
    hubKey = { kid: hub.kid, key: importPrivateKey(hub.privateJwk, 'Ed25519') };
    krKey = { kid: kr.kid, key: importPrivateKey(kr.privateJwk, 'Ed25519') };
    const only =
      (kid: string, jwk: typeof hub.publicJwk): KeyResolver =>
      (k) => {
        if (k !== kid) throw new Error(`unknown kid ${k}`);
        return importPublicKey(jwk, 'Ed25519');
      };
    resolveHub = only(hub.kid, hub.publicJwk);
    resolveKr = only(kr.kid, kr.publicJwk);
  });
  afterAll(async () => {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const message = async (log: string, size: number, r: string, key: SigningKey) =>
    enc(
      JSON.stringify({
        checkpoint: await signStatement(
          { v: 1, type: 'checkpoint', log, size, root: r, at: '2026-11-29T08:00:00.000Z' },
          key,
        ),
        proofs: [],
      }),
    );
  const witness = (data: Uint8Array) =>
    witnessCheckpoint({
      witness: 'kr',
      log: 'hub',
      data,
      resolveLogKey: resolveHub,
      store,
      signingKey: krKey,
      now: new Date('2026-11-29T08:00:01.000Z'),
    });

  it("accepts the first checkpoint of the hub's log and returns KR's cosignature of it", async () => {
    const { verdict, cosignature } = await witness(await message('hub', 10, root(1), hubKey));
    expect(verdict).toMatchObject({ ok: true, first: true });
    const c = await openCosignature(cosignature!, resolveKr);
    expect(c).toMatchObject({ witness: 'kr', log: 'hub', size: 10, root: root(1) });
    expect(await store.head('hub')).toEqual({
      size: 10,
      root: root(1),
      at: '2026-11-29T08:00:00.000Z',
    });
  });

  it('refuses a fork and records it, without a cosignature and without moving the head', async () => {
    const { verdict, cosignature } = await witness(await message('hub', 10, root(2), hubKey));
    expect(verdict).toMatchObject({ ok: false, code: 'CHECKPOINT_FORK' });
    expect(cosignature).toBeUndefined();
    expect((await store.head('hub'))?.root).toBe(root(1));
    expect((await store.events(1))[0]).toMatchObject({
      log: 'hub',
      size: 10,
      verdict: 'refused',
      code: 'CHECKPOINT_FORK',
    });
  });

  it("throws, recording nothing, for another log's checkpoint or one signed with another key", async () => {
    const before = (await store.events(100)).length;
    await expect(witness(await message('kr', 12, root(3), hubKey))).rejects.toMatchObject({
      code: 'INVALID_CHECKPOINT',
    });
    await expect(witness(await message('hub', 12, root(3), krKey))).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    expect((await store.events(100)).length).toBe(before);
    expect((await store.heads()).map((h) => h.log)).toEqual(['hub']);
  });
});
