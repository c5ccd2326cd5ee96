import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadHubConfig } from '../src/config/hub.config.js';

const base = {
  FEDINTEL_DATABASE_URL: 'sqlite:/tmp/hub.sqlite',
  FEDINTEL_NATS_URL: 'nats://127.0.0.1:4222',
  FEDINTEL_KEYS_FILE: '/tmp/hub-keys.json',
  FEDINTEL_DIRECTORY_FILE: '/tmp/directory.jws',
  FEDINTEL_GOVERNANCE_KEYS_FILE: '/tmp/governance.json',
};

describe('loadHubConfig', () => {
  it('validates into a frozen config with the hub defaults', () => {
    const c = loadHubConfig({ ...base, FEDINTEL_NATS_USER: 'hub', FEDINTEL_UNRELATED: 'x' });
    expect(c).toMatchObject({
      http: { host: '127.0.0.1', port: 3100 },
      database: { kind: 'sqlite', path: '/tmp/hub.sqlite' },
      nats: { url: 'nats://127.0.0.1:4222', user: 'hub', password: undefined },
      keysFile: '/tmp/hub-keys.json',
      oidc: undefined,
      passIntervalMs: 500,
      sweepIntervalMs: 60000,
      audit: { checkpointIntervalMs: 60000, retentionDays: 1095 },
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
  });

  it('takes a metrics token of 16 to 256 token characters, and none by default', () => {
    expect(loadHubConfig(base).metricsToken).toBeUndefined();
    const token = 'hub-metrics-token-0123456789';
    expect(loadHubConfig({ ...base, FEDINTEL_METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(() => loadHubConfig({ ...base, FEDINTEL_METRICS_TOKEN: 'short' })).toThrow(
      /FEDINTEL_METRICS_TOKEN/,
    );
  });

  it('puts the hub in its own PostgreSQL schema, "hub" unless told otherwise', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/test';
    expect(loadHubConfig({ ...base, FEDINTEL_DATABASE_URL: url }).database).toEqual({
      kind: 'postgres',
      url,
      schema: 'hub',
    });
    const other = loadHubConfig({
      ...base,
      FEDINTEL_DATABASE_URL: url,
      FEDINTEL_DATABASE_SCHEMA: 'hub_test',
      FEDINTEL_OIDC_JWKS_URL: 'https://idp.example/jwks',
      FEDINTEL_HUB_PASS_INTERVAL_MS: '250',
    });
    expect(other.database).toMatchObject({ schema: 'hub_test' });
    expect(other.oidc).toEqual({ jwksUrl: 'https://idp.example/jwks', issuer: undefined });
    expect(other.passIntervalMs).toBe(250);
  });

  it.each([
    ['FEDINTEL_HTTP_PORT', '70000'],
    ['FEDINTEL_DATABASE_URL', 'mysql://x'],
    ['FEDINTEL_DATABASE_SCHEMA', 'Hub-Schema'],
    ['FEDINTEL_HUB_PASS_INTERVAL_MS', '5'],
    ['FEDINTEL_HUB_AUDIT_RETENTION_DAYS', 'forever'],
    ['FEDINTEL_OIDC_JWKS_URL', 'ftp://idp.example/jwks'],
    ['FEDINTEL_LOG_LEVEL', 'loud'],
  ])('stops on a bad %s and names it', (name, value) => {
    expect(() => loadHubConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadHubConfig({ ...base, [name]: value })).toThrow(
      new RegExp(`^invalid hub configuration:[\\s\\S]*${name}`),
    );
  });

  it('names every missing variable at once', () => {
    const { FEDINTEL_NATS_URL: _n, FEDINTEL_KEYS_FILE: _k, ...rest } = base;
    const e = (() => {
      try {
        loadHubConfig(rest);
      } catch (x) {
        return x as Error;
      }
      throw new Error('accepted');
    })();
    expect(e.message).toContain('FEDINTEL_NATS_URL');
    expect(e.message).toContain('FEDINTEL_KEYS_FILE');
  });
});
