import { Inject, Injectable, Logger } from '@nestjs/common';
import { parseStrictJson, toRfc3339Ms } from '../../../../libs/protocol/src/index.js';
import {
  AuditError,
  judgeCheckpoint,
  openCheckpoint,
  signStatement,
  type ConsistencyClaim,
  type WitnessVerdict,
} from '../../../../libs/audit/src/index.js';
import { HUB, subjectFor } from '../../../../libs/broker/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../ingest/publisher.js';
import { WitnessStore } from './witness.store.js';

const B64U = /^[A-Za-z0-9_-]{43}$/;

function parseMessage(data: Uint8Array): { checkpoint: string; proofs: ConsistencyClaim[] } {
  const v = parseStrictJson(data, { maxBytes: 256 * 1024 }) as Record<string, unknown>;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    typeof v.checkpoint === 'string' &&
    Array.isArray(v.proofs) &&
    v.proofs.length <= 64 &&
    (v.proofs as unknown[]).every((p) => {
      const c = p as Record<string, unknown>;
      return (
        typeof c?.from === 'number' &&
        Number.isSafeInteger(c.from) &&
        Array.isArray(c.path) &&
        c.path.length <= 128 &&
        (c.path as unknown[]).every((h) => typeof h === 'string' && B64U.test(h))
      );
    });
  if (!ok)
    throw new AuditError('INVALID_CHECKPOINT', 'not a checkpoint message {checkpoint, proofs}');
  return v as unknown as { checkpoint: string; proofs: ConsistencyClaim[] };
}

/**
 * The hub's witness (docs/audit.md, "Witness"): verifies each member's signed checkpoint, and
 * countersigns it only when it extends the last one accepted for that log (libs/audit's
 * `judgeCheckpoint`); rollbacks, forks and unverifiable jumps are refused and recorded. The
 * cosignature goes back to the member on `fed.v1.hub.<member>.checkpoints`.
 */
@Injectable()
export class WitnessService {
  private readonly log = new Logger('witness');
  constructor(
    private readonly store: WitnessStore,
    private readonly federation: FederationContext,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
  ) {}

  /** @throws AuditError for a malformed message or a bad signature (the caller dead-letters it) */
  async witness(origin: string, data: Uint8Array, now = new Date()): Promise<WitnessVerdict> {
    const msg = parseMessage(data);
    const cp = await openCheckpoint(msg.checkpoint, this.federation.receiveResolver(now, origin));
    if (cp.log !== origin) {
      throw new AuditError('INVALID_CHECKPOINT', `checkpoint of ${cp.log} sent by ${origin}`);
    }
    const verdict = judgeCheckpoint(await this.store.head(origin), cp, msg.proofs);
    const at = toRfc3339Ms(now);
    const base = { log: origin, size: cp.size, root: cp.root, at };
    if (!verdict.ok) {
      this.log.warn(`refused checkpoint ${origin}@${cp.size}: ${verdict.code} ${verdict.reason}`);
      await this.store.refuse({
        ...base,
        verdict: 'refused',
        code: verdict.code,
        reason: verdict.reason,
      });
      return verdict;
    }
    await this.store.accept(origin, verdict.head, msg.checkpoint, {
      ...base,
      verdict: 'cosigned',
      code: null,
      reason: null,
    });
    const cosignature = await signStatement(
      {
        v: 1,
        type: 'cosignature',
        witness: HUB,
        log: origin,
        size: cp.size,
        root: cp.root,
        at: cp.at,
        witnessedAt: at,
      },
      this.federation.signingKey,
    );
    await this.publisher.publish(
      subjectFor(HUB, origin, 'checkpoints'),
      Buffer.from(cosignature, 'utf8'),
      {
        msgId: `cosignature.${origin}.${cp.size}`,
      },
    );
    return verdict;
  }

  async state(limit = 200) {
    return { heads: await this.store.heads(), events: await this.store.events(limit) };
  }
}
