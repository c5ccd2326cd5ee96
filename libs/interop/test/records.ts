import { parseRecord, type IndicatorRecord } from '../../protocol/src/index.js';

let n = 0;

/** A valid record (a fresh id each call unless given); override any field. */
export function makeRecord(overrides: Partial<IndicatorRecord> = {}): IndicatorRecord {
  n++;
  return parseRecord({
    id: `0b7c7f4e-6a0e-4b8e-9a51-${String(n).padStart(12, '0')}`,
    origin: 'kr',
    version: 1,
    status: 'active',
    type: 'domain',
    value: 'newtoki469.com',
    categories: ['webtoon'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-28T10:00:00.000Z',
    validUntil: '2027-05-28T00:00:00.000Z',
    tlp: 'AMBER',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['vn', 'hub'] },
    relations: [],
    issuedAt: '2026-11-28T10:00:05.123Z',
    ...overrides,
  });
}

/** One record of every type and subtype the model knows. */
export function everyKind(): IndicatorRecord[] {
  return [
    makeRecord({ type: 'domain', value: 'xn--bcher-kva.de', tlp: 'CLEAR', categories: [] }),
    makeRecord({ type: 'url', value: 'https://toki.example/ep?id=1&q=x', tlp: 'GREEN' }),
    makeRecord({ type: 'ip', value: '203.0.113.7', tlp: 'AMBER+STRICT' }),
    makeRecord({ type: 'ip', value: '2001:db8::7' }),
    makeRecord({
      type: 'iptv-service',
      value: 'https://iptv.example/get.php',
      categories: ['live-tv'],
    }),
    makeRecord({ type: 'iptv-service', value: 'super iptv 4k', categories: ['live-tv'] }),
    makeRecord({ type: 'operator-alias', subtype: 'email', value: 'admin@toki.example' }),
    makeRecord({ type: 'operator-alias', subtype: 'handle', value: 'tokimaster' }),
    makeRecord({ type: 'operator-alias', subtype: 'messenger-id', value: 'telegram:tokiadmin' }),
    makeRecord({
      type: 'payment-account',
      subtype: 'iban',
      value: 'GB82WEST12345698765432',
      tlp: 'RED',
      scope: { addressees: ['vn'] },
      handling: { code: 'H2' },
    }),
    makeRecord({ type: 'payment-account', subtype: 'bank-account', value: 'KR:1234567890' }),
    makeRecord({ type: 'payment-account', subtype: 'card-merchant', value: 'MID12345' }),
    makeRecord({ type: 'payment-account', subtype: 'e-wallet', value: 'paypal:toki@example.com' }),
    makeRecord({
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'bitcoin',
      value: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
      handling: { code: 'H3', conditions: 'ask KNPA first' },
    }),
    makeRecord({
      type: 'payment-account',
      subtype: 'crypto-address',
      chain: 'ethereum',
      value: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      status: 'retracted',
      version: 2,
    }),
  ];
}
