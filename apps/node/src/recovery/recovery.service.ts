import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamPlan, subjectFor } from '../../../../libs/broker/src/index.js';
import { toRfc3339Ms } from '../../../../libs/protocol/src/index.js';
import { NODE_NATS, directoryMembers } from '../federation/directory.service.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { RESTORE_PENDING } from '../../../../libs/backup/src/index.js';

export { RESTORE_PENDING };

/**
 * What a node does at start-up so that a restore from backup neither loses nor duplicates:
 * - sending: the outbox streams in the node's own leaf remember the last bundle number published to
 *   each addressee; when the restored database is behind, numbering resumes after it (otherwise
 *   partners would refuse the reused numbers as replays), and bundles the database still calls
 *   pending but the stream already holds are marked sent;
 * - receiving: after `fedctl restore` the inbox is read again from its start, each message already
 *   seen being handed over as a redelivery, so bundles received after the backup are stored again
 *   and those before it are recognised as duplicates (bootstrap.ts reads {@link RESTORE_PENDING}).
 */
@Injectable()
export class RecoveryService {
  private readonly log = new Logger(RecoveryService.name);

  constructor(
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    @Inject(NODE_NATS) private readonly nc: NatsConnection,
  ) {}

  /** Raise the bundle numbering of every outbox to what its stream already holds. */
  async repairSequences(): Promise<{ addressee: string; from: bigint; to: bigint }[]> {
    const me = this.federation.memberId;
    const jsm = await jetstreamManager(this.nc, { timeout: 3000 });
    const repaired: { addressee: string; from: bigint; to: bigint }[] = [];
    const outboxes = streamPlan(directoryMembers(this.federation), me).filter(
      (p) => p.role === 'outbox',
    );
    for (const plan of outboxes) {
      const addressee = plan.name.slice(`${me.toUpperCase()}_OUT_`.length).toLowerCase();
      let last: bigint;
      try {
        const m = await jsm.streams.getMessage(plan.name, {
          last_by_subj: subjectFor(me, addressee, 'records'),
        });
        const id = m?.header.get('Nats-Msg-Id') ?? '';
        const match = new RegExp(`^${me}\\.${addressee}\\.(\\d+)$`).exec(id);
        if (!match?.[1]) continue;
        last = BigInt(match[1]);
      } catch {
        continue; // nothing published to this addressee yet (or the stream is not there)
      }
      const stored = await this.store.lastBundleSeq(addressee);
      if (last > stored) {
        this.store.raiseBundleSeqFloor(addressee, last);
        repaired.push({ addressee, from: stored, to: last });
        this.log.warn(
          `outbox to ${addressee}: the database (restored?) ends at #${stored} but the stream holds #${last}; numbering resumes at #${last + 1n}`,
        );
      }
      const marked = await this.store.markPublishedUpTo(addressee, last, toRfc3339Ms(new Date()));
      if (marked > 0)
        this.log.log(
          `outbox to ${addressee}: ${marked} bundle(s) already in the stream marked sent`,
        );
    }
    return repaired;
  }

  /** Called once the inbox consumer has been recreated for the replay. */
  async restoreDone(): Promise<void> {
    if (await this.store.getState(RESTORE_PENDING)) {
      await this.store.setState(RESTORE_PENDING, '');
      this.log.log('inbox replay after restore started; restore marker cleared');
    }
  }
}
