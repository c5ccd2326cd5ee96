import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HUB, outboxStreamName, subjectFor } from '../../../../libs/broker/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { FEDERATION_PUBLISHER, type FederationPublisher } from '../sharing/publisher.js';
import { checkpointMessageSize } from '../../../../libs/audit/src/index.js';
import { AuditService, type CheckpointMessage } from './audit.service.js';

const PRUNE_EVERY_MS = 6 * 3600 * 1000;

/**
 * Signs a checkpoint of the audit log every interval (when it grew) and publishes it to the hub's
 * witness over the node's `hub` outbox; prunes expired entries every few hours.
 */
@Injectable()
export class CheckpointPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('audit');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPrune = 0;
  private unpublished: CheckpointMessage | undefined;

  constructor(
    private readonly audit: AuditService,
    @Inject(FEDERATION_PUBLISHER) private readonly publisher: FederationPublisher,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.audit.checkpointIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce()
      .then(() => undefined)
      .catch((e: unknown) => {
        this.log.warn(`checkpoint pass failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One pass: prune when due, checkpoint, publish (a failed publish is retried next pass). */
  async runOnce(now = new Date()): Promise<CheckpointMessage | undefined> {
    if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      await this.audit.prune(now);
    }
    const fresh = await this.audit.checkpoint(now);
    const msg = fresh ?? this.unpublished;
    if (!msg) return undefined;
    this.unpublished = msg;
    const me = this.audit.memberId;
    const size = checkpointMessageSize(msg);
    await this.publisher.publish(
      subjectFor(me, HUB, 'checkpoints'),
      Buffer.from(JSON.stringify(msg), 'utf8'),
      {
        msgId: `checkpoint.${me}.${size}`,
        expectStream: outboxStreamName(me, HUB),
      },
    );
    this.unpublished = undefined;
    return msg;
  }
}
