import { Injectable, Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import {
  decryptFor,
  directoryKeyResolver,
  encryptionKeysOf,
  importPrivateKey,
  importPublicKey,
  verifyDirectory,
  type Directory,
  type GovernanceKey,
  type KeyResolver,
  type SigningKey,
} from '../../protocol/src/index.js';
import {
  readGovernanceKeyFile,
  readMemberKeyFile,
  type MemberKeyFile,
} from '../../keystore/src/index.js';

interface LoadedKeys {
  signing: SigningKey;
  encryption: { kid: string; key: KeyObject };
  retiredEncryption: { kid: string; key: KeyObject }[];
  api: { kid: string; key: KeyObject; publicKey: KeyObject };
}

function importKeys(keys: MemberKeyFile): LoadedKeys {
  const { d: _d, ...apiPublic } = keys.api.privateJwk;
  return {
    signing: { kid: keys.signing.kid, key: importPrivateKey(keys.signing.privateJwk, 'Ed25519') },
    encryption: {
      kid: keys.encryption.kid,
      key: importPrivateKey(keys.encryption.privateJwk, 'X25519'),
    },
    retiredEncryption: (keys.retiredEncryption ?? []).map((k) => ({
      kid: k.kid,
      key: importPrivateKey(k.privateJwk, 'X25519'),
    })),
    api: {
      kid: keys.api.kid,
      key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
      publicKey: importPublicKey(apiPublic, 'Ed25519'),
    },
  };
}

/**
 * What a node (or the hub) knows about the federation: who it is, its private keys, and the verified
 * directory in force. The directory is replaced only by a newer signed version; the keys are
 * replaced when the operator installs a rotated key file ({@link FederationFiles}).
 */
@Injectable()
export class FederationContext {
  private readonly log = new Logger(FederationContext.name);
  private current: Directory;
  private currentJws: string;
  private keys: LoadedKeys;

  private constructor(
    readonly memberId: string,
    keys: MemberKeyFile,
    private readonly governance: GovernanceKey[],
    directory: Directory,
    directoryJws: string,
  ) {
    this.current = directory;
    this.currentJws = directoryJws;
    this.keys = importKeys(keys);
  }

  /** Load the key files and verify the directory; any problem stops start-up. */
  static async load(p: {
    memberId: string;
    keysFile: string;
    governanceKeysFile: string;
    directoryFile: string;
    now: Date;
  }): Promise<FederationContext> {
    const keys = readMemberKeyFile(p.keysFile);
    if (keys.memberId !== p.memberId) {
      throw new Error(
        `FEDINTEL_KEYS_FILE: holds the keys of "${keys.memberId}", not of "${p.memberId}"`,
      );
    }
    const governance = readGovernanceKeyFile(p.governanceKeysFile).keys;
    const jws = readFileSync(p.directoryFile, 'utf8').trim();
    const directory = await verifyDirectory(jws, { governanceKeys: governance, now: p.now });
    return new FederationContext(p.memberId, keys, governance, directory, jws);
  }

  /** Ed25519 key this node signs bundles, receipts and checkpoints with. */
  get signingKey(): SigningKey {
    return this.keys.signing;
  }

  /** X25519 key partners encrypt to (the current one). */
  get encryptionKey(): { kid: string; key: KeyObject } {
    return this.keys.encryption;
  }

  /** Ed25519 key of the node's API tokens. */
  get apiKey(): { kid: string; key: KeyObject; publicKey: KeyObject } {
    return this.keys.api;
  }

  get directory(): Directory {
    return this.current;
  }

  get directoryJws(): string {
    return this.currentJws;
  }

  /** Accept a newer signed directory (rollbacks and unknown signers are refused). */
  async updateDirectory(jws: string, now: Date): Promise<Directory> {
    const next = await verifyDirectory(jws, {
      governanceKeys: this.governance,
      current: this.current,
      now,
    });
    if (next.version !== this.current.version) {
      this.log.log(`directory version ${this.current.version} -> ${next.version}`);
    }
    this.current = next;
    this.currentJws = jws;
    return next;
  }

  /**
   * Install a rotated key file (same member). Returns false when nothing changed. The new signing
   * key is used from the next bundle on; retired encryption keys keep decrypting what partners
   * encrypted before they saw the new directory.
   */
  replaceKeys(keys: MemberKeyFile): boolean {
    if (keys.memberId !== this.memberId) {
      throw new Error(`key file holds the keys of "${keys.memberId}", not of "${this.memberId}"`);
    }
    const next = importKeys(keys);
    const same =
      next.signing.kid === this.keys.signing.kid &&
      next.encryption.kid === this.keys.encryption.kid &&
      next.api.kid === this.keys.api.kid &&
      next.retiredEncryption.length === this.keys.retiredEncryption.length;
    if (same) return false;
    this.keys = next;
    this.log.log(`keys replaced: signing ${next.signing.kid}, encryption ${next.encryption.kid}`);
    return true;
  }

  /**
   * Decrypt a bundle addressed to this node with the current encryption key, or a retired one
   * when the sender used it (the JWE names the recipient's kid).
   */
  async decrypt(jwe: string, opts?: { maxBytes?: number }): Promise<Uint8Array> {
    const keys = [this.keys.encryption, ...this.keys.retiredEncryption];
    let first: unknown;
    for (const k of keys) {
      try {
        return await decryptFor(jwe, k, opts);
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  }

  /** Resolves signers of messages received now (revoked keys fail at once). */
  receiveResolver(now: Date, member?: string): KeyResolver {
    return directoryKeyResolver(this.current, { at: now, mode: 'receive', member });
  }

  /** Encryption keys of an addressee valid now, imported. */
  encryptionRecipients(addressee: string, now: Date): { kid: string; key: KeyObject }[] {
    return encryptionKeysOf(this.current, addressee, now).map((k) => ({
      kid: k.kid,
      key: importPublicKey(k.jwk, 'X25519'),
    }));
  }
}
