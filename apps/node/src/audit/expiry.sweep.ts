import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { toRfc3339Ms } from '../../../../libs/protocol/src/index.js';
import { NODE_CONFIG, type NodeConfig } from '../config/node.config.js';
import { NodeStore } from '../persistence/node.store.js';
import { AuditService } from './audit.service.js';

/** node_state key: the time up to which expired records have been named in the log. */
export const EXPIRY_MARK = 'expiry-swept-until';
const EPOCH = '1970-01-01T00:00:00.000Z';

/**
 * The expiry sweep (docs/audit.md, "Retention"): every FEDINTEL_EXPIRY_SWEEP_INTERVAL_MS, the
 * records whose `validUntil` passed since the last pass are named in `erasure` entries
 * (`reason: expiry`), written in the same transaction that moves the sweep's mark, so a record is
 * named once and a crash names it at the next pass.
 */
@Injectable()
export class ExpirySweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('expiry');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly store: NodeStore,
    private readonly audit: AuditService,
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.audit.expirySweepIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweep()
      .catch((e: unknown) => {
        this.log.warn(`expiry sweep failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One pass; returns how many records were named. */
  async sweep(now = new Date()): Promise<number> {
    const since = (await this.store.getState(EXPIRY_MARK)) ?? EPOCH;
    const nowText = toRfc3339Ms(now);
    if (nowText <= since) return 0;
    let named = 0;
    await this.audit.within(
      async (m) => {
        const expired = await this.store.expiredSince(since, nowText, m);
        named = expired.length;
        return this.audit.expiredEvents(expired, now);
      },
      (hook) => this.store.markExpirySwept(EXPIRY_MARK, nowText, hook),
    );
    if (named > 0) this.log.log(`${named} record(s) expired`);
    return named;
  }
}
