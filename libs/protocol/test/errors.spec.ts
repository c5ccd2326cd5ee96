import { describe, expect, it } from '@jest/globals';
import { ProtocolError, isProtocolError } from '../src/index.js';

describe('ProtocolError', () => {
  it('keeps its code, field and cause', () => {
    const cause = new Error('inner');
    const e = new ProtocolError('INVALID_VALUE', 'value: bad checksum', { cause, field: 'value' });
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.field).toBe('value');
    expect(e.cause).toBe(cause);
    expect(isProtocolError(e, 'INVALID_VALUE')).toBe(true);
    expect(isProtocolError(e, 'REPLAY')).toBe(false);
    expect(isProtocolError(new Error('x'))).toBe(false);
  });
});
