import { Inject, Injectable, Logger } from '@nestjs/common';
import { witnessCheckpoint, type WitnessVerdict } from '../../../../libs/audit/src/index.js';
import { HUB, subjectFor } from '../../../../libs/broker/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../ingest/publisher.js';
import { HubAuditService } from './hub-audit.service.js';
import { WitnessStore } from './witness.store.js';

/**
 * The hub's witness (docs/audit.md, "Witness"): verifies each member's signed checkpoint, and
 * countersigns it only when it extends the last one accepted for that log (libs/audit's
 * `witnessCheckpoint`); rollbacks, forks and unverifiable jumps are refused and recorded. The
 * cosignature goes back to the member on `fed.v1.hub.<member>.checkpoints`.
 */
@Injectable()
export class WitnessService {
  private readonly log = new Logger('witness');
  constructor(
    private readonly store: WitnessStore,
    private readonly federation: FederationContext,
    private readonly audit: HubAuditService,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
  ) {}

  /** @throws AuditError for a malformed message or a bad signature (the caller dead-letters it) */
  async witness(origin: string, data: Uint8Array, now = new Date()): Promise<WitnessVerdict> {
    const { verdict, cosignature } = await witnessCheckpoint({
      witness: HUB,
      log: origin,
      data,
      resolveLogKey: this.federation.receiveResolver(now, origin),
      store: this.store,
      signingKey: this.federation.signingKey,
      now,
    });
    if (!verdict.ok) {
      this.log.warn(`refused checkpoint of ${origin}: ${verdict.code} ${verdict.reason}`);
      return verdict;
    }
    await this.publisher.publish(
      subjectFor(HUB, origin, 'checkpoints'),
      Buffer.from(cosignature ?? '', 'utf8'),
      { msgId: `cosignature.${origin}.${verdict.head.size}` },
    );
    return verdict;
  }

  /**
   * The head per member log (with the member's signed checkpoint, to compare with that member's
   * export: ADR 0062) and the recent decisions; and, for the hub's own log, which members
   * countersigned its newest checkpoints (ADR 0061).
   */
  async state(limit = 200) {
    return {
      witness: HUB,
      heads: await this.store.heads(),
      events: await this.store.events(limit),
      hubLog: await this.audit.witnessedBy(),
    };
  }
}
