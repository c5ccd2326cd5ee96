import { Injectable, Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import {
  directoryKeyResolver,
  encryptionKeysOf,
  importPrivateKey,
  importPublicKey,
  verifyDirectory,
  type Directory,
  type GovernanceKey,
  type KeyResolver,
  type SigningKey,
} from '../../../../libs/protocol/src/index.js';
import {
  readGovernanceKeyFile,
  readMemberKeyFile,
  type MemberKeyFile,
} from '../../../../libs/keystore/src/index.js';

/**
 * What the hub knows about the federation: who it is, its private keys, and the verified
 * directory in force. The directory is replaced only by a newer signed version.
 */
@Injectable()
export class FederationContext {
  private readonly log = new Logger(FederationContext.name);
  private current: Directory;
  private currentJws: string;
  readonly signingKey: SigningKey;
  readonly encryptionKey: { kid: string; key: KeyObject };
  readonly apiKey: { kid: string; key: KeyObject; publicKey: KeyObject };

  private constructor(
    readonly memberId: string,
    keys: MemberKeyFile,
    private readonly governance: GovernanceKey[],
    directory: Directory,
    directoryJws: string,
  ) {
    this.current = directory;
    this.currentJws = directoryJws;
    this.signingKey = {
      kid: keys.signing.kid,
      key: importPrivateKey(keys.signing.privateJwk, 'Ed25519'),
    };
    this.encryptionKey = {
      kid: keys.encryption.kid,
      key: importPrivateKey(keys.encryption.privateJwk, 'X25519'),
    };
    const { d: _d, ...apiPublic } = keys.api.privateJwk;
    this.apiKey = {
      kid: keys.api.kid,
      key: importPrivateKey(keys.api.privateJwk, 'Ed25519'),
      publicKey: importPublicKey(apiPublic, 'Ed25519'),
    };
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
