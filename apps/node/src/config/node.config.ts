import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import {
  ConfigError,
  ServiceEnv,
  parseEnv,
  serviceConfig,
  type ServiceConfig,
} from '../../../../libs/config/src/index.js';

export { ConfigError };

/**
 * The node's environment, validated once at start-up. `process.env` is read here and nowhere else.
 * A bad value stops start-up with the variable named (see {@link loadNodeConfig}). The variables
 * the hub reads too are in libs/config's `ServiceEnv`.
 */
class NodeEnv extends ServiceEnv {
  @Matches(/^[a-z][a-z0-9-]{1,15}$/, { message: 'must be a member id such as "kr"' })
  FEDINTEL_MEMBER_ID!: string;

  @IsInt()
  @Min(0)
  @Max(65535)
  FEDINTEL_HTTP_PORT: number = 3000;

  /** Schema for PostgreSQL, so several nodes can share one test server. */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case SQL identifier' })
  FEDINTEL_DATABASE_SCHEMA?: string;

  @IsInt()
  @Min(1)
  @Max(10000)
  FEDINTEL_BUNDLE_MAX_RECORDS: number = 500;

  @IsInt()
  @Min(1)
  @Max(60000)
  FEDINTEL_RELAY_INTERVAL_MS: number = 200;

  /** How often the directory and key files are checked for a new version (0 = never). */
  @IsInt()
  @Min(0)
  @Max(600000)
  FEDINTEL_DIRECTORY_POLL_MS: number = 1000;

  /** How often the audit log is checkpointed (signed, published to the hub's witness). */
  @IsInt()
  @Min(100)
  @Max(60000)
  FEDINTEL_AUDIT_CHECKPOINT_INTERVAL_MS: number = 60000;

  /** Audit entries older than this are pruned at a checkpoint (docs/audit.md, "Retention"). */
  @IsInt()
  @Min(1)
  @Max(36500)
  FEDINTEL_AUDIT_RETENTION_DAYS: number = 1095;

  /** How often expired records are swept and logged as erasures (docs/audit.md, "Retention"). */
  @IsInt()
  @Min(100)
  @Max(86400000)
  FEDINTEL_EXPIRY_SWEEP_INTERVAL_MS: number = 60000;

  /** TAXII 2.1 server configuration (JSON, docs/interop.md); absent: no TAXII server. */
  @IsOptional()
  @IsString()
  FEDINTEL_TAXII_CONFIG?: string;
}

export interface NodeConfig extends ServiceConfig<string | undefined> {
  readonly memberId: string;
  readonly bundleMaxRecords: number;
  readonly relayIntervalMs: number;
  readonly directoryPollMs: number;
  readonly audit: {
    readonly checkpointIntervalMs: number;
    readonly retentionDays: number;
    readonly expirySweepIntervalMs: number;
  };
  readonly taxiiConfigFile: string | undefined;
}

const INT_VARS = [
  'FEDINTEL_HTTP_PORT',
  'FEDINTEL_BUNDLE_MAX_RECORDS',
  'FEDINTEL_RELAY_INTERVAL_MS',
  'FEDINTEL_AUDIT_CHECKPOINT_INTERVAL_MS',
  'FEDINTEL_AUDIT_RETENTION_DAYS',
  'FEDINTEL_EXPIRY_SWEEP_INTERVAL_MS',
  'FEDINTEL_DIRECTORY_POLL_MS',
];

/** Validate `env` once into a frozen, typed config. Throws {@link ConfigError} naming the variables. */
export function loadNodeConfig(env: Record<string, string | undefined> = process.env): NodeConfig {
  const parsed = parseEnv(NodeEnv, env, INT_VARS, 'node');
  return Object.freeze({
    ...serviceConfig(parsed, { port: parsed.FEDINTEL_HTTP_PORT }, parsed.FEDINTEL_DATABASE_SCHEMA),
    memberId: parsed.FEDINTEL_MEMBER_ID,
    bundleMaxRecords: parsed.FEDINTEL_BUNDLE_MAX_RECORDS,
    relayIntervalMs: parsed.FEDINTEL_RELAY_INTERVAL_MS,
    directoryPollMs: parsed.FEDINTEL_DIRECTORY_POLL_MS,
    audit: Object.freeze({
      checkpointIntervalMs: parsed.FEDINTEL_AUDIT_CHECKPOINT_INTERVAL_MS,
      retentionDays: parsed.FEDINTEL_AUDIT_RETENTION_DAYS,
      expirySweepIntervalMs: parsed.FEDINTEL_EXPIRY_SWEEP_INTERVAL_MS,
    }),
    taxiiConfigFile: parsed.FEDINTEL_TAXII_CONFIG,
  });
}

/** Injection token for the frozen {@link NodeConfig}. */
export const NODE_CONFIG = Symbol('NODE_CONFIG');
