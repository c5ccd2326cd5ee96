import { plainToInstance } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUrl, Matches, validateSync } from 'class-validator';

/** Raised when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The variables a node and the hub both read: where they listen, their database and broker, their
 * key and directory files, an optional OIDC issuer and the log level. Each app's environment class
 * extends this one with its own variables (its HTTP port and PostgreSQL schema defaults too).
 */
export class ServiceEnv {
  @IsString()
  FEDINTEL_HTTP_HOST: string = '127.0.0.1';

  /** `sqlite:<path>` (default, embedded) or `postgres://...`. */
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'must be sqlite:<path> or postgres://user@host:port/db',
  })
  FEDINTEL_DATABASE_URL!: string;

  @IsString()
  FEDINTEL_NATS_URL!: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_USER?: string;

  @IsOptional()
  @IsString()
  FEDINTEL_NATS_PASSWORD?: string;

  /** The service's private keys (JSON written by `fedctl keys generate`). */
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

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug'])
  FEDINTEL_LOG_LEVEL: string = 'info';

  /** When set, GET /metrics requires `Authorization: Bearer <this token>`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~+/=-]{16,256}$/, { message: 'must be 16-256 token characters' })
  FEDINTEL_METRICS_TOKEN?: string;
}

/** The part of a node's or the hub's configuration that {@link ServiceEnv} describes. */
export interface ServiceConfig<Schema extends string | undefined> {
  readonly http: { readonly host: string; readonly port: number };
  readonly database:
    | { readonly kind: 'sqlite'; readonly path: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: Schema };
  readonly nats: {
    readonly url: string;
    readonly user: string | undefined;
    readonly password: string | undefined;
  };
  readonly keysFile: string;
  readonly directoryFile: string;
  readonly governanceKeysFile: string;
  readonly oidc: { readonly jwksUrl: string; readonly issuer: string | undefined } | undefined;
  readonly logLevel: string;
  /** Bearer token GET /metrics requires; open when unset. */
  readonly metricsToken: string | undefined;
}

/**
 * Validates the `FEDINTEL_*` variables of `env` into an instance of `cls` (unknown ones are
 * ignored, empty ones count as unset, the `ints` given as digits become numbers first).
 * @throws ConfigError naming every bad or missing variable, e.g. "invalid node configuration"
 */
export function parseEnv<T extends ServiceEnv>(
  cls: new () => T,
  env: Record<string, string | undefined>,
  ints: readonly string[],
  what: string,
): T {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('FEDINTEL_') || v === undefined || v === '') continue;
    raw[k] = ints.includes(k) && /^-?\d+$/.test(v) ? Number(v) : v;
  }
  const parsed = plainToInstance(cls, raw);
  const errors = validateSync(parsed, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) =>
        `${e.property}: ${Object.values(e.constraints ?? { invalid: 'is invalid' }).join('; ')}`,
    );
    throw new ConfigError(`invalid ${what} configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed;
}

/** The shared part of the frozen configuration, from a validated environment. */
export function serviceConfig<Schema extends string | undefined>(
  parsed: ServiceEnv,
  http: { port: number },
  schema: Schema,
): ServiceConfig<Schema> {
  const url = parsed.FEDINTEL_DATABASE_URL;
  const database: ServiceConfig<Schema>['database'] = url.startsWith('sqlite:')
    ? { kind: 'sqlite', path: url.slice('sqlite:'.length) }
    : { kind: 'postgres', url, schema };
  return {
    http: Object.freeze({ host: parsed.FEDINTEL_HTTP_HOST, port: http.port }),
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
    logLevel: parsed.FEDINTEL_LOG_LEVEL,
    metricsToken: parsed.FEDINTEL_METRICS_TOKEN,
  };
}
