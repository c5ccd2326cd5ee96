import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { JsonLogger } from '../src/observability/json-logger.js';
import { withCorrelation } from '../src/observability/correlation.js';

function capture(): { logger: JsonLogger; lines: () => Record<string, unknown>[] } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = new JsonLogger({ member: 'kr', level: 'info', destination: out });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('JSON logs', () => {
  it('one JSON object per line with level, member, context and the correlation in force', async () => {
    const { logger, lines } = capture();
    withCorrelation({ requestId: 'req-42' }, () =>
      logger.log('created 3 indicators', 'Indicators'),
    );
    withCorrelation({ messageId: 'fed.v1.kr.vn.records#7' }, () =>
      logger.warn('dead-lettered: SIGNATURE_INVALID', 'InboundService'),
    );
    logger.debug('not at info level');
    logger.error(new Error('boom'));
    await new Promise((r) => setImmediate(r));
    const got = lines();
    expect(got).toHaveLength(3);
    expect(got[0]).toMatchObject({
      level: 'info',
      member: 'kr',
      context: 'Indicators',
      requestId: 'req-42',
      msg: 'created 3 indicators',
    });
    expect(got[1]).toMatchObject({ level: 'warn', messageId: 'fed.v1.kr.vn.records#7' });
    expect(got[1]?.requestId).toBeUndefined();
    expect(got[2]).toMatchObject({ level: 'error', msg: 'boom' });
    expect(typeof got[0]?.time).toBe('string');
  });
});
