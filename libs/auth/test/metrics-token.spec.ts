import { describe, expect, it } from '@jest/globals';
import { UnauthorizedException } from '@nestjs/common';
import { requireMetricsToken } from '../src/index.js';

describe('requireMetricsToken', () => {
  const token = 'metrics-scraper-token-0123456789';

  it('lets every scrape through when no token is configured', () => {
    expect(() => requireMetricsToken(undefined, undefined)).not.toThrow();
    expect(() => requireMetricsToken('Bearer anything', undefined)).not.toThrow();
  });

  it('wants exactly the configured bearer token', () => {
    expect(() => requireMetricsToken(`Bearer ${token}`, token)).not.toThrow();
    for (const h of [undefined, '', token, `Basic ${token}`, `Bearer ${token}x`, 'Bearer ']) {
      expect(() => requireMetricsToken(h, token)).toThrow(UnauthorizedException);
    }
  });
});
