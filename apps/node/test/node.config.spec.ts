import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadNodeConfig } from '../src/config/node.config.js';

const base = {
  FEDINTEL_MEMBER_ID: 'kr',
  FEDINTEL_DATABASE_URL: 'sqlite:/tmp/kr.sqlite',
  FEDINTEL_NATS_URL: 'nats://127.0.0.1:4222',
  FEDINTEL_KEYS_FILE: '/tmp/keys.json',
  FEDINTEL_DIRECTORY_FILE: '/tmp/directory.jws',
  FEDINTEL_GOVERNANCE_KEYS_FILE: '/tmp/governance.json',
};

describe('loadNodeConfig', () => {
  it('validates into a frozen config with defaults', () => {
    const c = loadNodeConfig(base);
    expect(c.memberId).toBe('kr');
    expect(c.http.port).toBe(3000);
    expect(c.database).toEqual({ kind: 'sqlite', path: '/tmp/kr.sqlite' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
  });

  it('reads PostgreSQL URLs and schemas', () => {
    const c = loadNodeConfig({
      ...base,
      FEDINTEL_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      FEDINTEL_DATABASE_SCHEMA: 'node_kr',
    });
    expect(c.database).toEqual({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'node_kr',
    });
  });

  it.each([
    ['FEDINTEL_MEMBER_ID', 'KR!'],
    ['FEDINTEL_HTTP_PORT', '99999'],
    ['FEDINTEL_HTTP_PORT', 'eighty'],
    ['FEDINTEL_DATABASE_URL', 'mysql://x'],
    ['FEDINTEL_LOG_LEVEL', 'loud'],
  ])('stops on a bad %s and names it', (name, value) => {
    expect(() => loadNodeConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadNodeConfig({ ...base, [name]: value })).toThrow(name);
  });

  it('names a missing variable', () => {
    const { FEDINTEL_NATS_URL: _omit, ...rest } = base;
    expect(() => loadNodeConfig(rest)).toThrow('FEDINTEL_NATS_URL');
  });
});
