import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  createBundle,
  encryptTo,
  parseStrictJson,
  toRfc3339Ms,
  type IndicatorRecord,
} from '../../../../libs/protocol/src/index.js';
import { outboxStreamName, subjectFor } from '../../../../libs/broker/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';
import { AuditService } from '../audit/audit.service.js';

/** The Merkle root named in a signed bundle header (its payload is canonical JSON we just made). */
function rootOf(headerJws: string): string {
  const payload = headerJws.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { root: string }).root;
}

/**
 * The outbox relay: turns queued projections into signed, encrypted bundles, stores each bundle
 * before publishing it (so a retry re-sends the same bytes under the same `Nats-Msg-Id`), and
 * marks a bundle sent only on the JetStream ack. One relay per node; passes never overlap.
 */
@Injectable()
export class RelayService implements OnApplicationShutdown {
  private readonly log = new Logger(RelayService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly audit: AuditService,
  ) {}

  /** Start the periodic pass (the node calls it once the broker connection is up). */
  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.config.relayIntervalMs);
    this.kick();
  }

  /** Ask for a pass soon (after a create); coalesces with a pass in progress. */
  kick(): void {
    if (this.stopped || !this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.runOnce();
      } catch (e) {
        this.log.warn(
          `relay pass failed, will retry: ${e instanceof Error ? e.message : String(e)}`,
        );
        return;
      }
    } while (this.again && !this.stopped);
  }

  /** One pass: re-publish stored bundles not yet acked, then bundle what is queued. */
  async runOnce(now: () => Date = () => new Date()): Promise<{ bundles: number; records: number }> {
    let bundles = 0;
    let records = 0;
    for (const b of await this.store.unsentBundles(1000)) {
      await this.publish(b.addressee, b.seq, b.msgId, b.payload, now);
      bundles++;
    }
    for (const addressee of await this.store.pendingAddressees()) {
      for (;;) {
        const items = await this.store.pendingItems(addressee, this.config.bundleMaxRecords);
        if (items.length === 0) break;
        const seq = (await this.store.lastBundleSeq(addressee)) + 1n;
        const at = now();
        const recordsOut = items.map((i) => parseStrictJson(i.recordText) as IndicatorRecord);
        const bundle = await createBundle(
          recordsOut,
          {
            origin: this.federation.memberId,
            addressee,
            seq: seq.toString(),
            issuedAt: toRfc3339Ms(at),
          },
          this.federation.signingKey,
        );
        const recipients = this.federation.encryptionRecipients(addressee, at);
        if (recipients.length === 0) {
          throw new Error(
            `no valid encryption key for ${addressee} in directory v${this.federation.directory.version}`,
          );
        }
        const payload = await encryptTo(bundle.bytes, recipients);
        const msgId = `${this.federation.memberId}.${addressee}.${seq}`;
        await this.store.saveBundle(
          {
            addressee,
            seq,
            msgId,
            payload,
            root: rootOf(bundle.wire.header),
            count: items.length,
            createdAt: toRfc3339Ms(at),
          },
          items.map((i) => i.id),
        );
        await this.audit.disclosed(addressee, seq, rootOf(bundle.wire.header), recordsOut, at);
        await this.publish(addressee, seq, msgId, payload, now);
        bundles++;
        records += items.length;
        if (items.length < this.config.bundleMaxRecords) break;
      }
    }
    return { bundles, records };
  }

  private async publish(
    addressee: string,
    seq: bigint,
    msgId: string,
    payload: string,
    now: () => Date,
  ): Promise<void> {
    const subject = subjectFor(this.federation.memberId, addressee, 'records');
    await this.publisher.publish(subject, Buffer.from(payload, 'utf8'), {
      msgId,
      expectStream: outboxStreamName(this.federation.memberId, addressee),
    });
    await this.store.markSent(addressee, seq, toRfc3339Ms(now()));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
