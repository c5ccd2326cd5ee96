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
 * The hub's environment, validated once at start-up. `process.env` is read here and nowhere else.
 * A bad value stops start-up with the variable named (see {@link loadHubConfig}).
 */
class HubEnv {
  @IsInt()
  @Min(0)
  @Max(65535)
  FEDINTEL_HTTP_PORT: number = 3100;

  @IsString()
  FEDINTEL_HTTP_HOST: string = '127.0.0.1';

  /** `sqlite:<path>` (default, embedded) or `postgres://...`. */
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'must be sqlite:<path> or postgres://user@host:port/db',
  })
  FEDINTEL_DATABASE_URL!: string;

  /** Schema for PostgreSQL (the hub's own; default `hub`). */
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case SQL identifier' })
  FEDINTEL_DATABASE_SCHEMA: string = 'hub';

  @IsString()
  FEDINTEL_NATS_URL!: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_USER?: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_PASSWORD?: string;

  /** The hub's private keys (JSON written by `fedctl keys generate`, memberId `hub`). */
  @IsString()
  FEDINTEL_KEYS_FILE!: string;

  @IsString()
  FEDINTEL_DIRECTORY_FILE!: string;

  @IsString()
  FEDINTEL_GOVERNANCE_KEYS_FILE!: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  FEDINTEL_OIDC_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  FEDINTEL_OIDC_ISSUER?: string;

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

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug'])
  FEDINTEL_LOG_LEVEL: string = 'info';
}

export interface HubConfig {
  readonly http: { readonly host: string; readonly port: number };
  readonly database:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };
  readonly nats: {
    readonly url: string;
    readonly user: string | undefined;
    readonly password: string | undefined;
  };
  readonly keysFile: string;
  readonly directoryFile: string;
  readonly governanceKeysFile: string;
  readonly oidc: { readonly jwksUrl: string; readonly issuer: string | undefined } | undefined;
  readonly passIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly audit: { readonly checkpointIntervalMs: number; readonly retentionDays: number };
  readonly logLevel: string;
}

/** Raised when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('FEDINTEL_') || v === undefined || v === '') continue;
    raw[k] = INT_VARS.includes(k) && /^-?\d+$/.test(v) ? Number(v) : v;
  }
  const parsed = plainToInstance(HubEnv, raw);
  const errors = validateSync(parsed, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) =>
        `${e.property}: ${Object.values(e.constraints ?? { invalid: 'is invalid' }).join('; ')}`,
    );
    throw new ConfigError(`invalid hub configuration:\n  ${lines.join('\n  ')}`);
  }
  const url = parsed.FEDINTEL_DATABASE_URL;
  const database: HubConfig['database'] = url.startsWith('sqlite:')
    ? { kind: 'sqlite', path: url.slice('sqlite:'.length) }
    : { kind: 'postgres', url, schema: parsed.FEDINTEL_DATABASE_SCHEMA };
  return Object.freeze({
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
    passIntervalMs: parsed.FEDINTEL_HUB_PASS_INTERVAL_MS,
    sweepIntervalMs: parsed.FEDINTEL_HUB_SWEEP_INTERVAL_MS,
    audit: Object.freeze({
      checkpointIntervalMs: parsed.FEDINTEL_HUB_AUDIT_CHECKPOINT_INTERVAL_MS,
      retentionDays: parsed.FEDINTEL_HUB_AUDIT_RETENTION_DAYS,
    }),
    logLevel: parsed.FEDINTEL_LOG_LEVEL,
  });
}

/** Injection token for the frozen {@link HubConfig}. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** The hub's clock (`() => Date`): injected so tests can move time past an expiry. */
export const HUB_CLOCK = Symbol('HUB_CLOCK');
export type Clock = () => Date;
