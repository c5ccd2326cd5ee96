import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { renameSync, writeFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ProtocolError,
  isProtocolError,
  toRfc3339Ms,
} from '../../../../libs/protocol/src/index.js';
import { HUB, provisionStreams, streamPlan } from '../../../../libs/broker/src/index.js';
import { FederationFiles } from '../../../../libs/federation/src/index.js';
import type { InboundMessage } from '../../../../libs/transport/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { NodeStore } from '../persistence/node.store.js';
import { FederationContext } from './federation.context.js';

/** The node's own NATS connection (to its leaf), used for publishing and provisioning. */
export const NODE_NATS = Symbol('NODE_NATS');

/** Members whose streams this node's leaf must hold (every active member of the directory). */
export function directoryMembers(f: FederationContext): string[] {
  return f.directory.members
    .filter((m) => m.roles.includes('member') && m.status === 'active')
    .map((m) => m.id)
    .sort();
}

/** Result of offering a directory to the node. */
export interface DirectoryOutcome {
  status: 'updated' | 'unchanged' | 'dead-lettered';
  version: number;
  code?: string;
}

/**
 * Keeps the node's view of the federation current without a restart:
 * - a new directory version published by governance over NATS (`fed.v1.hub.<me>.directory`,
 *   through the hub's outbox into this node's inbox) is verified, adopted, and written back to
 *   `FEDINTEL_DIRECTORY_FILE` so a restart starts from it;
 * - the directory file and the key file are polled (`FEDINTEL_DIRECTORY_POLL_MS`), so an operator
 *   can also install a directory or a rotated key file by replacing the file;
 * - after a new version, the node's streams are provisioned again (a new member gets an outbox and
 *   a source in this node's inbox; nothing is deleted).
 * Rollbacks, forks and unknown signers are refused by `verifyDirectory`; a bad message is
 * dead-lettered with its reason and never crashes the node.
 */
@Injectable()
export class DirectoryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DirectoryService.name);
  private timer: NodeJS.Timeout | undefined;
  private readonly files: FederationFiles;
  private checking: Promise<void> | undefined;
  private lastFileError = '';

  constructor(
    private readonly federation: FederationContext,
    private readonly store: NodeStore,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(NODE_NATS) private readonly nc: NatsConnection,
  ) {
    this.files = new FederationFiles(federation, {
      directoryFile: config.directoryFile,
      keysFile: config.keysFile,
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.directoryPollMs > 0) {
      this.timer = setInterval(() => void this.checkFiles(), this.config.directoryPollMs);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Provision this node's streams for the directory in force (idempotent). */
  async provision(): Promise<void> {
    const plan = streamPlan(directoryMembers(this.federation), this.federation.memberId);
    await provisionStreams(this.nc, plan);
  }

  /** Look at the directory and key files once; adopt what changed. Never throws. */
  checkFiles(now = new Date()): Promise<void> {
    this.checking ??= this.check(now).finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async check(now: Date): Promise<void> {
    const r = await this.files.check(now);
    for (const e of r.errors) this.fileError(e);
    if (r.errors.length === 0) this.lastFileError = '';
    if (r.directoryVersion !== undefined) await this.provisionQuietly();
  }

  private fileError(msg: string): void {
    if (msg !== this.lastFileError) this.log.warn(msg);
    this.lastFileError = msg;
  }

  /** A directory published over NATS. Only the hub's identity distributes directories. */
  async receive(msg: InboundMessage, now = new Date()): Promise<DirectoryOutcome> {
    try {
      if (msg.origin !== HUB) {
        throw new ProtocolError(
          'MISADDRESSED',
          `directories are distributed by the hub, not by ${msg.origin || '?'}`,
        );
      }
      const jws = Buffer.from(msg.data).toString('utf8').trim();
      return await this.adopt(jws, now);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      await this.store.addDeadLetter({
        subject: msg.subject,
        origin: msg.origin || null,
        code: e.code,
        detail: e.message,
        data: msg.data,
        receivedAt: toRfc3339Ms(now),
      });
      this.log.warn(`directory from ${msg.origin || '?'} refused: ${e.code} ${e.message}`);
      return { status: 'dead-lettered', version: this.federation.directory.version, code: e.code };
    }
  }

  private async adopt(jws: string, now: Date): Promise<DirectoryOutcome> {
    const before = this.federation.directory.version;
    const next = await this.federation.updateDirectory(jws, now);
    if (next.version === before) return { status: 'unchanged', version: before };
    this.persist(jws);
    await this.provisionQuietly();
    return { status: 'updated', version: next.version };
  }

  private async provisionQuietly(): Promise<void> {
    try {
      await this.provision();
    } catch (e) {
      // The leaf may be down; the next version or restart provisions again.
      this.log.warn(`stream provisioning failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Write the adopted directory back to the configured file atomically (temp file + rename). */
  private persist(jws: string): void {
    const file = this.config.directoryFile;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${jws}\n`);
      renameSync(tmp, file);
      this.files.noteDirectoryWritten();
    } catch (e) {
      this.log.warn(
        `directory v${this.federation.directory.version} adopted but not written to ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
