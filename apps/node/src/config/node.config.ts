import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

/**
 * The node's environment, validated once at start-up. `process.env` is read here and nowhere else.
 * A bad value stops start-up with the variable named (see {@link loadNodeConfig}).
 */
class NodeEnv {
  @Matches(/^[a-z][a-z0-9-]{1,15}$/, { message: 'must be a member id such as "kr"' })
  FEDINTEL_MEMBER_ID!: string;

  @IsInt()
  @Min(0)
  @Max(65535)
  FEDINTEL_HTTP_PORT: number = 3000;

  @IsString()
  FEDINTEL_HTTP_HOST: string = '127.0.0.1';

  /** `sqlite:<path>` (default, embedded) or `postgres://...`. */
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'must be sqlite:<path> or postgres://user@host:port/db',
  })
  FEDINTEL_DATABASE_URL!: string;

  /** Schema for PostgreSQL, so several nodes can share one test server. */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case SQL identifier' })
  FEDINTEL_DATABASE_SCHEMA?: string;

  @IsString()
  FEDINTEL_NATS_URL!: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_USER?: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_PASSWORD?: string;

  /** The node's private keys (JSON written by `fedctl keys generate`). */
  @IsString()
  FEDINTEL_KEYS_FILE!: string;

  /** The signed federation directory (JWS compact) and the governance public keys that sign it. */
  @IsString()
  FEDINTEL_DIRECTORY_FILE!: string;

  @IsString()
  FEDINTEL_GOVERNANCE_KEYS_FILE!: string;

  /** Optional external OIDC issuer whose JWKS also signs API tokens. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  FEDINTEL_OIDC_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  FEDINTEL_OIDC_ISSUER?: string;

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

  /** When set, GET /metrics requires `Authorization: Bearer <this token>`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~+/=-]{16,256}$/, { message: 'must be 16-256 token characters' })
  FEDINTEL_METRICS_TOKEN?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug'])
  FEDINTEL_LOG_LEVEL: string = 'info';

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

export interface NodeConfig {
  readonly memberId: string;
  readonly http: { readonly host: string; readonly port: number };
  readonly database:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string | undefined };
  readonly nats: {
    readonly url: string;
    readonly user: string | undefined;
    readonly password: string | undefined;
  };
  readonly keysFile: string;
  readonly directoryFile: string;
  readonly governanceKeysFile: string;
  readonly oidc: { readonly jwksUrl: string; readonly issuer: string | undefined } | undefined;
  readonly bundleMaxRecords: number;
  readonly relayIntervalMs: number;
  readonly directoryPollMs: number;
  readonly metricsToken: string | undefined;
  readonly logLevel: string;
  readonly audit: {
    readonly checkpointIntervalMs: number;
    readonly retentionDays: number;
    readonly expirySweepIntervalMs: number;
  };
  readonly taxiiConfigFile: string | undefined;
}

/** Raised when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('FEDINTEL_') || v === undefined || v === '') continue;
    raw[k] = INT_VARS.includes(k) && /^-?\d+$/.test(v) ? Number(v) : v;
  }
  const parsed = plainToInstance(NodeEnv, raw);
  const errors = validateSync(parsed, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) =>
        `${e.property}: ${Object.values(e.constraints ?? { invalid: 'is invalid' }).join('; ')}`,
    );
    throw new ConfigError(`invalid node configuration:\n  ${lines.join('\n  ')}`);
  }
  const url = parsed.FEDINTEL_DATABASE_URL;
  const database: NodeConfig['database'] = url.startsWith('sqlite:')
    ? { kind: 'sqlite', path: url.slice('sqlite:'.length) }
    : { kind: 'postgres', url, schema: parsed.FEDINTEL_DATABASE_SCHEMA };
  return Object.freeze({
    memberId: parsed.FEDINTEL_MEMBER_ID,
    http: Object.freeze({ host: parsed.FEDINTEL_HTTP_HOST, port: parsed.FEDINTEL_HTTP_PORT }),
    database: Object.freeze(database),
    nats: Object.freeze({
      url: parsed.FEDINTEL_NATS_URL,
      user: parsed.FEDINTEL_NATS_USER,
      password: parsed.FEDINTEL_NATS_PASSWORD,
    }),
    keysFile: parsed.FEDINTEL_KEYS_FILE,
    directoryFile: parsed.FEDINTEL_DIRECTORY_FILE,
    governanceKeysFile: parsed.FEDINTEL_GOVERNANCE_KEYS_FILE,
    oidc: parsed.FEDINTEL_OIDC_JWKS_URL
      ? Object.freeze({
          jwksUrl: parsed.FEDINTEL_OIDC_JWKS_URL,
          issuer: parsed.FEDINTEL_OIDC_ISSUER,
        })
      : undefined,
    bundleMaxRecords: parsed.FEDINTEL_BUNDLE_MAX_RECORDS,
    relayIntervalMs: parsed.FEDINTEL_RELAY_INTERVAL_MS,
    directoryPollMs: parsed.FEDINTEL_DIRECTORY_POLL_MS,
    metricsToken: parsed.FEDINTEL_METRICS_TOKEN,
    logLevel: parsed.FEDINTEL_LOG_LEVEL,
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
