import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  createBundleFromTexts,
  encryptTo,
  toRfc3339Ms,
} from '../../../../libs/protocol/src/index.js';
import { outboxStreamName, subjectFor } from '../../../../libs/broker/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore, type PendingItem, type UnsentBundle } from '../persistence/node.store.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from './publisher.js';
import { AuditService } from '../audit/audit.service.js';

/**
 * Publishes awaiting their JetStream ack at once (DESIGN §6: 3.6k/s awaited one by one, 24k/s
 * with many in flight). Each holds one encrypted bundle in memory (under 1 MiB).
 */
export const RELAY_PUBLISHES_IN_FLIGHT = 16;

/**
 * Largest bundle plaintext (the signed wire JSON) the relay builds. Its JWE is about 4/3 of it
 * plus a small envelope, which stays under nats-server's default `max_payload` of 1 MiB: a bundle
 * sized by record count alone could exceed it with large records and then never be accepted.
 */
export const RELAY_MAX_PLAINTEXT_BYTES = 700_000;

/** Room for the header JWS and the wire envelope inside {@link RELAY_MAX_PLAINTEXT_BYTES}. */
const WIRE_OVERHEAD_BYTES = 2_048;

/**
 * The longest prefix of `items` whose record texts, escaped inside the wire JSON, fit in
 * `maxBytes`; always at least one item (a record is at most 64 KiB).
 */
export function takeByBytes(items: readonly PendingItem[], maxBytes: number): PendingItem[] {
  let total = WIRE_OVERHEAD_BYTES;
  let n = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item.recordText), 'utf8') + 1;
    if (n > 0 && total + size > maxBytes) break;
    total += size;
    n++;
  }
  return items.slice(0, n);
}

/**
 * A bounded set of publishes in flight; the first failure is rethrown once all have settled.
 * `abandon` (rejected when the link to the leaf goes down) ends the waiting at once: the
 * publishes left behind may still be acknowledged, and the next pass re-sends whatever was not
 * (same bytes, same `Nats-Msg-Id`, deduplicated by JetStream).
 */
class InFlight {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly max: number,
    private readonly abandon: Promise<never>,
  ) {}

  async add(p: Promise<void>): Promise<void> {
    const tracked = p.then(
      () => {
        this.pending.delete(tracked);
      },
      (error: unknown) => {
        this.pending.delete(tracked);
        this.failure ??= { error };
      },
    );
    this.pending.add(tracked);
    if (this.pending.size >= this.max) await Promise.race([...this.pending, this.abandon]);
    if (this.failure) {
      await this.drain();
    }
  }

  /** Waits for every publish; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.race([Promise.all(this.pending), this.abandon]);
    if (this.failure) throw this.failure.error;
  }
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
  /** False while the connection to the leaf is down: passes wait for it to come back. */
  private linkUp = true;
  /** Ends the current pass's waiting when the link goes down. */
  private abandonPass: ((reason: Error) => void) | undefined;

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

  /**
   * The connection to the leaf went down (`false`) or came back (`true`). Down: the pass in
   * progress stops waiting for its PubAcks and no pass starts. Back: a pass starts at once.
   */
  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (up) this.kick();
    else this.abandonPass?.(new Error('the connection to the leaf is down'));
  }

  /** Ask for a pass soon (after a create); coalesces with a pass in progress. */
  kick(): void {
    if (this.stopped || !this.timer || !this.linkUp) return;
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

  /**
   * One pass: re-publish stored bundles not yet acked, then bundle what is queued. Up to
   * {@link RELAY_PUBLISHES_IN_FLIGHT} publishes await their JetStream ack while the next bundle is
   * built; each bundle is marked sent on its own ack. If a publish fails the pass ends once the
   * others have settled, and the next pass re-sends every bundle still pending (same bytes, same
   * `Nats-Msg-Id`, so JetStream deduplicates what did arrive; receivers fill the gap).
   */
  async runOnce(now: () => Date = () => new Date()): Promise<{ bundles: number; records: number }> {
    let bundles = 0;
    let records = 0;
    const abandon = new Promise<never>((_, reject) => {
      this.abandonPass = reject;
    });
    abandon.catch(() => undefined); // observed through InFlight; unhandled when never used
    const inFlight = new InFlight(RELAY_PUBLISHES_IN_FLIGHT, abandon);
    try {
      for (const b of await this.store.unsentBundles(1000)) {
        const payload = await this.rebuild(b, now());
        await inFlight.add(this.publish(b.addressee, b.seq, b.msgId, payload, now));
        bundles++;
      }
      for (const addressee of await this.store.pendingAddressees()) {
        let seq = await this.store.lastBundleSeq(addressee);
        for (;;) {
          const pending = await this.store.pendingItems(addressee, this.config.bundleMaxRecords);
          const items = takeByBytes(pending, RELAY_MAX_PLAINTEXT_BYTES);
          if (items.length === 0) break;
          seq += 1n;
          const at = now();
          const bundle = await createBundleFromTexts(
            items.map((i) => i.recordText),
            {
              origin: this.federation.memberId,
              addressee,
              seq: seq.toString(),
              issuedAt: toRfc3339Ms(at),
            },
            this.federation.signingKey,
          );
          const payload = await this.encryptFor(addressee, bundle.bytes, at);
          const msgId = `${this.federation.memberId}.${addressee}.${seq}`;
          await this.audit.within(
            (m) => this.audit.disclosureEvents(m, addressee, seq, bundle.header.root, at),
            (audit) =>
              this.store.saveBundle(
                {
                  addressee,
                  seq,
                  msgId,
                  root: bundle.header.root,
                  count: items.length,
                  createdAt: toRfc3339Ms(at),
                },
                items.map((i) => i.id),
                audit,
              ),
          );
          await inFlight.add(this.publish(addressee, seq, msgId, payload, now));
          bundles++;
          records += items.length;
          if (pending.length < this.config.bundleMaxRecords && items.length === pending.length) {
            break;
          }
        }
      }
    } finally {
      try {
        await inFlight.drain();
      } finally {
        this.abandonPass = undefined;
      }
    }
    return { bundles, records };
  }

  private async encryptFor(addressee: string, bytes: Uint8Array, at: Date): Promise<string> {
    const recipients = this.federation.encryptionRecipients(addressee, at);
    if (recipients.length === 0) {
      throw new Error(
        `no valid encryption key for ${addressee} in directory v${this.federation.directory.version}`,
      );
    }
    return encryptTo(bytes, recipients);
  }

  /**
   * A stored bundle whose publish was not acknowledged, rebuilt for a re-send: the same records
   * in the same order under the same header give the same signed bytes (Ed25519 is
   * deterministic) and the same root, checked against the stored one; only the encryption is
   * fresh, to the addressee's current keys. The `Nats-Msg-Id` is unchanged, so JetStream drops the
   * re-send if the first publish did arrive (ADR 0049).
   */
  private async rebuild(b: UnsentBundle, at: Date): Promise<string> {
    const texts = await this.store.bundleTexts(b.addressee, b.seq);
    const bundle = await createBundleFromTexts(
      texts,
      {
        origin: this.federation.memberId,
        addressee: b.addressee,
        seq: b.seq.toString(),
        issuedAt: b.createdAt,
      },
      this.federation.signingKey,
    );
    if (bundle.header.root !== b.root || texts.length !== b.count) {
      throw new Error(
        `bundle ${b.addressee}#${b.seq} no longer rebuilds to its stored root (${texts.length} of ${b.count} records)`,
      );
    }
    return this.encryptFor(b.addressee, bundle.bytes, at);
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
