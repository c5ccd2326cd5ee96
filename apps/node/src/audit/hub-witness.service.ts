import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  SqlWitnessStore,
  witnessCheckpoint,
  type WitnessVerdict,
} from '../../../../libs/audit/src/index.js';
import { HUB, outboxStreamName, subjectFor } from '../../../../libs/broker/src/index.js';
import { parseStrictJson } from '../../../../libs/protocol/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { NODE_DATA_SOURCE, NodeStore } from '../persistence/node.store.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../sharing/publisher.js';

/** The node's memory of the hub's log as its witness (libs/audit `SqlWitnessStore`). */
@Injectable()
export class NodeWitnessStore extends SqlWitnessStore implements OnModuleInit {
  constructor(@Inject(NODE_DATA_SOURCE) ds: DataSource) {
    super(ds);
  }

  async onModuleInit(): Promise<void> {
    await this.ensureTables();
  }
}

/**
 * Every member witnesses the hub's own audit log (ADR 0061), as the hub witnesses each member's:
 * a checkpoint of the hub's log (on `fed.v1.hub.<me>.checkpoints`) is verified with the hub's key,
 * judged against the last one this node accepted, recorded, and, when it extends that one,
 * countersigned with this node's key and sent back on `fed.v1.<me>.hub.checkpoints`.
 */
@Injectable()
export class HubWitnessService {
  private readonly log = new Logger('witness');

  constructor(
    private readonly store: NodeWitnessStore,
    private readonly nodeStore: NodeStore,
    private readonly federation: FederationContext,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
  ) {}

  /**
   * @throws AuditError for a malformed message or a bad signature (dropped by the caller); a
   *   failed publish of the cosignature is thrown as is, so the message comes again (judging the
   *   same checkpoint twice accepts it twice and changes nothing)
   */
  async witness(data: Uint8Array, now = new Date()): Promise<WitnessVerdict> {
    const me = this.federation.memberId;
    const { verdict, cosignature } = await witnessCheckpoint({
      witness: me,
      log: HUB,
      data,
      resolveLogKey: this.federation.receiveResolver(now, HUB),
      store: this.store,
      signingKey: this.federation.signingKey,
      now,
    });
    if (!verdict.ok) {
      this.log.warn(`refused checkpoint of the hub's log: ${verdict.code} ${verdict.reason}`);
      return verdict;
    }
    await this.publisher.publish(
      subjectFor(me, HUB, 'checkpoints'),
      Buffer.from(cosignature ?? '', 'utf8'),
      {
        msgId: `cosignature.${me}.hub.${verdict.head.size}`,
        expectStream: outboxStreamName(me, HUB),
      },
    );
    return verdict;
  }

  /** The last checkpoint of the hub's log this node countersigned, if any. */
  async head() {
    return (await this.store.heads()).find((h) => h.log === HUB);
  }

  /** Checkpoints of the hub's log this node refused (rollbacks, forks, unproven jumps). */
  refusals(): Promise<number> {
    return this.store.refusals(HUB);
  }

  /**
   * The hub's receipts for this node's bundles that no checkpoint this node countersigned covers
   * yet (ADR 0062). The hub logs each receipt in the transaction that stores the bundle, and signs
   * a checkpoint within its interval after its log grew: a receipt older than that with no newer
   * checkpoint here means the hub is not showing this member its log. Both times are the hub's.
   */
  async uncoveredReceipts(now = new Date()): Promise<{ since: string | null; seconds: number }> {
    const head = await this.head();
    let since: string | null = null;
    for (const jws of await this.nodeStore.recentReceipts(HUB, 100)) {
      let at: unknown;
      try {
        // The hub's signed receipt, verified when it arrived: only its payload is read here.
        const payload = Buffer.from(jws.split('.')[1] ?? '', 'base64url');
        at = (parseStrictJson(payload) as { receivedAt?: unknown }).receivedAt;
      } catch {
        continue; // stored by this node after verification; never expected
      }
      if (typeof at !== 'string' || (head && at <= head.at)) continue;
      if (since === null || at < since) since = at;
    }
    return {
      since,
      seconds: since === null ? 0 : Math.max(0, (now.getTime() - Date.parse(since)) / 1000),
    };
  }

  /**
   * This node's view of the hub's log: the last checkpoint it countersigned (with the hub's signed
   * text, which an auditor checks against the hub's export: ADR 0062) and its recent decisions.
   */
  async state(limit = 200) {
    return {
      witness: this.federation.memberId,
      heads: await this.store.heads(),
      uncoveredReceipts: await this.uncoveredReceipts(),
      events: await this.store.events(limit),
    };
  }
}
