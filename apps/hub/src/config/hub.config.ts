import { IsInt, Matches, Max, Min } from 'class-validator';
import {
  ConfigError,
  ServiceEnv,
  parseEnv,
  serviceConfig,
  type ServiceConfig,
} from '../../../../libs/config/src/index.js';

export { ConfigError };

/**
 * The hub's environment, validated once at start-up. `process.env` is read here and nowhere else.
 * A bad value stops start-up with the variable named (see {@link loadHubConfig}). The variables
 * a node reads too are in libs/config's `ServiceEnv`.
 */
class HubEnv extends ServiceEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  FEDINTEL_HTTP_PORT: number = 3100;

  /** Schema for PostgreSQL (the hub's own; default `hub`). */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case SQL identifier' })
  FEDINTEL_DATABASE_SCHEMA: string = 'hub';

  /** How often the aggregation pass and the feed relay run (also kicked after each bundle). */
  @IsInt()
  @Min(10)
  @Max(60000)
  FEDINTEL_HUB_PASS_INTERVAL_MS: number = 500;

  /** How often expired contributions are swept out of aggregates and feeds. */
  @IsInt()
  @Min(100)
  @Max(3600000)
  FEDINTEL_HUB_SWEEP_INTERVAL_MS: number = 60000;

  /** How often the hub signs a checkpoint of its own audit log (when it grew). */
  @IsInt()
  @Min(100)
  @Max(60000)
  FEDINTEL_HUB_AUDIT_CHECKPOINT_INTERVAL_MS: number = 60000;

  /** The hub's audit entries older than this are pruned (docs/audit.md, "Retention"). */
  @IsInt()
  @Min(1)
  @Max(36500)
  FEDINTEL_HUB_AUDIT_RETENTION_DAYS: number = 1095;
}

export interface HubConfig extends ServiceConfig<string> {
  readonly passIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly audit: { readonly checkpointIntervalMs: number; readonly retentionDays: number };
}

const INT_VARS = [
  'FEDINTEL_HTTP_PORT',
  'FEDINTEL_HUB_PASS_INTERVAL_MS',
  'FEDINTEL_HUB_SWEEP_INTERVAL_MS',
  'FEDINTEL_HUB_AUDIT_CHECKPOINT_INTERVAL_MS',
  'FEDINTEL_HUB_AUDIT_RETENTION_DAYS',
];

/** Validate `env` once into a frozen, typed config. Throws {@link ConfigError} naming the variables. */
export function loadHubConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const parsed = parseEnv(HubEnv, env, INT_VARS, 'hub');
  return Object.freeze({
    ...serviceConfig(parsed, { port: parsed.FEDINTEL_HTTP_PORT }, parsed.FEDINTEL_DATABASE_SCHEMA),
    passIntervalMs: parsed.FEDINTEL_HUB_PASS_INTERVAL_MS,
    sweepIntervalMs: parsed.FEDINTEL_HUB_SWEEP_INTERVAL_MS,
    audit: Object.freeze({
      checkpointIntervalMs: parsed.FEDINTEL_HUB_AUDIT_CHECKPOINT_INTERVAL_MS,
      retentionDays: parsed.FEDINTEL_HUB_AUDIT_RETENTION_DAYS,
    }),
  });
}

/** Injection token for the frozen {@link HubConfig}. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** The hub's clock (`() => Date`): injected so tests can move time past an expiry. */
export const HUB_CLOCK = Symbol('HUB_CLOCK');
export type Clock = () => Date;
