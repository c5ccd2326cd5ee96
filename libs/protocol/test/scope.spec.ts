import { describe, expect, it } from '@jest/globals';
import {
  type Agreement,
  type Directory,
  type Handling,
  type IndicatorRecord,
  type LocalIndicator,
  type Member,
  type Tlp,
  assertDisclosed,
  compareTlp,
  evaluateDisclosure,
  evaluateOnward,
  isProtocolError,
  narrowTlp,
  parseDirectory,
  projectLocal,
  resolveAddressees,
  resolveScope,
  strictestHandling,
} from '../src/index.js';

const NOW = new Date('2026-11-28T12:00:00.000Z');

function member(id: string, extra: Partial<Member> = {}): Member {
  return {
    id,
    country: id === 'hub' ? 'FR' : id.toUpperCase().slice(0, 2),
    name: `Agency ${id}`,
    roles: [id === 'hub' ? 'hub' : 'member'],
    status: 'active',
    nats: { account: `ACC_${id}`, user: `usr_${id}` },
    keys: [],
    ...extra,
  };
}

const OPEN_AGREEMENT: Agreement = {
  id: 'federation-wide',
  name: 'Everyone with everyone',
  parties: ['*'],
  types: ['*'],
  maxTlp: 'RED',
  validFrom: '2026-01-01T00:00:00.000Z',
};

function directory(extra: Partial<Directory> = {}): Directory {
  return {
    federation: 'fedintel-test',
    version: 1,
    issuedAt: '2026-11-01T00:00:00.000Z',
    members: [
      member('kr'),
      member('vn'),
      member('th'),
      member('jp'),
      member('hub'),
      member('ph', { status: 'suspended' }),
      member('au', { roles: ['observer'] }),
    ],
    groups: [
      { id: 'asean', name: 'ASEAN MoU', members: ['vn', 'th', 'ph'] },
      { id: 'watchers', name: 'Observers', members: ['au'] },
    ],
    agreements: [OPEN_AGREEMENT],
    ...extra,
  };
}

function record(extra: Partial<IndicatorRecord> = {}): IndicatorRecord {
  return {
    id: '0b7e3c8a-7d0f-4f7e-9f57-2f0b6a5c1d11',
    origin: 'kr',
    version: 1,
    status: 'active',
    type: 'domain',
    value: 'toon-pirate.example',
    categories: ['webtoon'],
    confidence: 80,
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-27T00:00:00.000Z',
    validUntil: '2027-05-01T00:00:00.000Z',
    tlp: 'GREEN',
    handling: { code: 'H0' },
    reliability: 'B',
    accuracy: 2,
    scope: { addressees: ['all'] },
    relations: [],
    issuedAt: '2026-11-28T10:00:00.000Z',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// The policy as an independent truth table. Nothing below is computed by the code under test.

const TLPS: Tlp[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const HANDLINGS: Handling[] = [
  { code: 'H0' },
  { code: 'H1' },
  { code: 'H2' },
  { code: 'H3', conditions: 'ask the originator before any arrest' },
];
const ORIGINS = ['kr', 'vn'] as const;
const RECIPIENTS = ['kr', 'vn', 'th', 'jp', 'hub'] as const;
type Via = 'named' | 'group' | 'all';

/** Scope kinds of the matrix, and whom each reaches and how (written out by hand). */
const SCOPES: Record<string, { addressees: string[]; reach: Partial<Record<string, Via>> }> = {
  member: { addressees: ['th'], reach: { th: 'named' } },
  group: { addressees: ['group:asean'], reach: { vn: 'group', th: 'group' } },
  hub: { addressees: ['hub'], reach: { hub: 'named' } },
  all: {
    addressees: ['all'],
    reach: { kr: 'all', vn: 'all', th: 'all', jp: 'all', hub: 'all' },
  },
  'hub+member': { addressees: ['hub', 'th'], reach: { hub: 'named', th: 'named' } },
  'hub+group': {
    addressees: ['hub', 'group:asean'],
    reach: { hub: 'named', vn: 'group', th: 'group' },
  },
  'all+member': {
    addressees: ['all', 'th'],
    reach: { kr: 'all', vn: 'all', th: 'named', jp: 'all', hub: 'all' },
  },
};

/** `ok` or a denial reason. */
type Outcome = string;
/** Direct disclosure by TLP and how the recipient is reached (member, or the hub). */
const DIRECT: Record<Tlp, Record<'named' | 'group' | 'all' | 'hub-named' | 'hub-all', Outcome>> = {
  CLEAR: { named: 'ok', group: 'ok', all: 'ok', 'hub-named': 'ok', 'hub-all': 'ok' },
  GREEN: { named: 'ok', group: 'ok', all: 'ok', 'hub-named': 'ok', 'hub-all': 'ok' },
  AMBER: { named: 'ok', group: 'ok', all: 'ok', 'hub-named': 'ok', 'hub-all': 'ok' },
  'AMBER+STRICT': {
    named: 'ok',
    group: 'ok',
    all: 'AMBER_STRICT_VIA_ALL',
    'hub-named': 'ok',
    'hub-all': 'AMBER_STRICT_VIA_ALL',
  },
  RED: {
    named: 'ok',
    group: 'RED_NOT_NAMED',
    all: 'RED_NOT_NAMED',
    'hub-named': 'RED_TO_HUB',
    'hub-all': 'RED_TO_HUB',
  },
};
const ONWARD_TLP: Record<Tlp, Outcome> = {
  CLEAR: 'ok',
  GREEN: 'ok',
  AMBER: 'ok',
  'AMBER+STRICT': 'TLP_NO_ONWARD',
  RED: 'TLP_NO_ONWARD',
};
const ONWARD_HANDLING: Record<string, Outcome> = {
  H0: 'ok',
  H1: 'ok',
  H2: 'HANDLING_NO_ONWARD',
  H3: 'HANDLING_NO_ONWARD',
};

function expectedDirect(origin: string, kind: string, tlp: Tlp, recipient: string): Outcome {
  if (recipient === origin) return 'RECIPIENT_IS_ORIGIN';
  const via = SCOPES[kind]!.reach[recipient];
  if (via === undefined) return 'NOT_IN_SCOPE';
  if (recipient === 'hub') return DIRECT[tlp][via === 'named' ? 'hub-named' : 'hub-all'];
  return DIRECT[tlp][via];
}

function expectedOnward(origin: string, kind: string, tlp: Tlp, code: string, to: string): Outcome {
  if (to === origin) return 'RECIPIENT_IS_ORIGIN';
  if (ONWARD_HANDLING[code] !== 'ok') return ONWARD_HANDLING[code]!;
  if (ONWARD_TLP[tlp] !== 'ok') return ONWARD_TLP[tlp];
  const reach = SCOPES[kind]!.reach;
  if (reach.hub === undefined) return 'HUB_NOT_IN_SCOPE';
  if (reach[to] === undefined) return 'NOT_IN_SCOPE';
  return 'ok';
}

describe.each([
  ['a hand-built directory', directory()],
  // A parsed directory is frozen, which turns on the member, agreement and scope caches.
  ['a parsed (frozen, cached) directory', parseDirectory(directory())],
])('disclosure matrix (origin × scope kind × TLP × handling × recipient), %s', (_name, dir) => {
  for (const origin of ORIGINS) {
    for (const kind of Object.keys(SCOPES)) {
      it(`direct from ${origin}, scope ${kind}: decisions match the truth table`, () => {
        const mismatches: string[] = [];
        let allowed = 0;
        for (const status of ['active', 'retracted'] as const) {
          for (const tlp of TLPS) {
            for (const handling of HANDLINGS) {
              for (const recipient of RECIPIENTS) {
                const r = record({
                  origin,
                  status,
                  tlp,
                  handling,
                  scope: { addressees: SCOPES[kind]!.addressees },
                });
                const d = evaluateDisclosure({ record: r, directory: dir, recipient, now: NOW });
                const got = d.allowed ? 'ok' : d.reason;
                const want = expectedDirect(origin, kind, tlp, recipient);
                if (got !== want) {
                  mismatches.push(
                    `${status} ${tlp} ${handling.code} → ${recipient}: ${got}, want ${want}`,
                  );
                }
                if (d.allowed) {
                  allowed++;
                  expect(d.agreementId).toBe('federation-wide');
                  expect(d.record).toEqual(r);
                }
              }
            }
          }
        }
        expect(mismatches).toEqual([]);
        expect(allowed).toBeGreaterThan(0);
      });

      it(`onward from the hub, origin ${origin}, scope ${kind}: decisions match the truth table`, () => {
        const mismatches: string[] = [];
        for (const tlp of TLPS) {
          for (const handling of HANDLINGS) {
            for (const to of RECIPIENTS.filter((x) => x !== 'hub')) {
              const r = record({
                origin,
                tlp,
                handling,
                scope: { addressees: SCOPES[kind]!.addressees },
              });
              const d = evaluateOnward({ record: r, directory: dir, from: 'hub', to, now: NOW });
              const got = d.allowed ? 'ok' : d.reason;
              const want = expectedOnward(origin, kind, tlp, handling.code, to);
              if (got !== want)
                mismatches.push(`${tlp} ${handling.code} → ${to}: ${got}, want ${want}`);
            }
          }
        }
        expect(mismatches).toEqual([]);
      });
    }
  }
});

describe('resolveAddressees', () => {
  const dir = directory();

  it('expands all to every active member and the hub, leaving out suspended entries and observers', () => {
    expect([...resolveAddressees({ addressees: ['all'] }, dir)].sort()).toEqual([
      'hub',
      'jp',
      'kr',
      'th',
      'vn',
    ]);
  });

  it('expands a group to its active members only', () => {
    expect([...resolveAddressees({ addressees: ['group:asean'] }, dir)].sort()).toEqual([
      'th',
      'vn',
    ]);
  });

  it('reaches an observer when named or grouped', () => {
    expect(resolveScope({ addressees: ['au'] }, dir).get('au')).toBe('named');
    expect(resolveScope({ addressees: ['group:watchers'] }, dir).get('au')).toBe('group');
  });

  it('keeps the most explicit reach whatever the order of addressees', () => {
    expect(resolveScope({ addressees: ['th', 'group:asean', 'all'] }, dir).get('th')).toBe('named');
    expect(resolveScope({ addressees: ['all', 'group:asean'] }, dir).get('vn')).toBe('group');
    expect(resolveScope({ addressees: ['all', 'group:asean'] }, dir).get('jp')).toBe('all');
  });

  it('fails closed on an unknown group, an unknown member and an empty scope', () => {
    const code = (addressees: string[]): string | undefined => {
      try {
        resolveAddressees({ addressees }, dir);
        return undefined;
      } catch (e) {
        return isProtocolError(e) ? `${e.code} ${e.field}` : 'other';
      }
    };
    expect(code(['vn', 'group:nope'])).toBe('SCOPE_DENIED scope.addressees[1]');
    expect(code(['xx'])).toBe('MEMBER_UNKNOWN scope.addressees[0]');
    expect(code([])).toBe('INVALID_FIELD scope.addressees');
    expect(code([''])).toBe('INVALID_FIELD scope.addressees[0]');
  });
});

describe('evaluateDisclosure: members and agreements', () => {
  it('refuses a suspended or unknown recipient, even when named', () => {
    const r = record({ scope: { addressees: ['ph'] } });
    const d = evaluateDisclosure({ record: r, directory: directory(), recipient: 'ph', now: NOW });
    expect(d).toMatchObject({ allowed: false, reason: 'RECIPIENT_INACTIVE' });
    const u = evaluateDisclosure({ record: r, directory: directory(), recipient: 'zz', now: NOW });
    expect(u).toMatchObject({ allowed: false, reason: 'RECIPIENT_INACTIVE' });
  });

  it('refuses when the origin is suspended', () => {
    const r = record({ origin: 'ph', scope: { addressees: ['vn'] } });
    const d = evaluateDisclosure({ record: r, directory: directory(), recipient: 'vn', now: NOW });
    expect(d).toMatchObject({ allowed: false, reason: 'ORIGIN_INACTIVE' });
  });

  it('gives the same answers on repeated calls over a frozen directory (cached scopes)', () => {
    const frozen = parseDirectory(directory());
    const bad = record({ scope: { addressees: ['vn', 'group:gone'] } });
    const first = evaluateDisclosure({ record: bad, directory: frozen, recipient: 'vn', now: NOW });
    expect(first).toMatchObject({ allowed: false, reason: 'SCOPE_INVALID' });
    Object.assign(first, { reason: 'tampered' });
    const again = evaluateDisclosure({ record: bad, directory: frozen, recipient: 'vn', now: NOW });
    expect(again).toMatchObject({ allowed: false, reason: 'SCOPE_INVALID' });
    // Two lists that a naive join would give one cache key.
    const two = record({ scope: { addressees: ['vn', 'th'] } });
    expect(
      evaluateDisclosure({ record: two, directory: frozen, recipient: 'vn', now: NOW }).allowed,
    ).toBe(true);
    const one = record({ scope: { addressees: ['vn\nth'] } });
    expect(
      evaluateDisclosure({ record: one, directory: frozen, recipient: 'vn', now: NOW }),
    ).toMatchObject({
      reason: 'SCOPE_INVALID',
    });
  });

  it('turns an unresolvable scope into a SCOPE_INVALID denial', () => {
    const r = record({ scope: { addressees: ['vn', 'group:gone'] } });
    const d = evaluateDisclosure({ record: r, directory: directory(), recipient: 'vn', now: NOW });
    expect(d).toMatchObject({ allowed: false, reason: 'SCOPE_INVALID' });
  });

  const bilateral: Agreement = {
    id: 'kr-th-2026',
    name: 'KR–TH MoU',
    parties: ['kr', 'th'],
    types: ['domain', 'url'],
    maxTlp: 'AMBER',
    validFrom: '2026-06-01T00:00:00.000Z',
    validUntil: '2027-06-01T00:00:00.000Z',
  };
  const dir = directory({ agreements: [bilateral] });
  const decide = (extra: Partial<IndicatorRecord>, recipient = 'th', now = NOW): string => {
    const r = record({ scope: { addressees: ['all', 'th'] }, ...extra });
    const d = evaluateDisclosure({ record: r, directory: dir, recipient, now });
    return d.allowed ? `ok ${d.agreementId}` : d.reason;
  };

  it('needs an agreement between exactly these parties', () => {
    expect(decide({})).toBe('ok kr-th-2026');
    expect(decide({}, 'jp')).toBe('NO_AGREEMENT');
    expect(decide({ origin: 'vn' })).toBe('NO_AGREEMENT');
  });

  it('needs the agreement to cover the type and the TLP', () => {
    expect(decide({ type: 'url', value: 'https://toon-pirate.example/' })).toBe('ok kr-th-2026');
    expect(decide({ type: 'ip', value: '192.0.2.1' })).toBe('NO_AGREEMENT');
    expect(decide({ tlp: 'AMBER' })).toBe('ok kr-th-2026');
    expect(decide({ tlp: 'AMBER+STRICT' })).toBe('NO_AGREEMENT');
    expect(decide({ tlp: 'RED' })).toBe('NO_AGREEMENT');
  });

  it('needs the agreement in force: validFrom inclusive, validUntil exclusive', () => {
    expect(decide({}, 'th', new Date('2026-06-01T00:00:00.000Z'))).toBe('ok kr-th-2026');
    expect(decide({}, 'th', new Date('2026-05-31T23:59:59.999Z'))).toBe('NO_AGREEMENT');
    expect(decide({}, 'th', new Date('2027-05-31T23:59:59.999Z'))).toBe('ok kr-th-2026');
    expect(decide({}, 'th', new Date('2027-06-01T00:00:00.000Z'))).toBe('NO_AGREEMENT');
  });

  it('names the first agreement in directory order that covers the disclosure', () => {
    const two = directory({ agreements: [bilateral, OPEN_AGREEMENT] });
    const r = record({ scope: { addressees: ['th'] } });
    const d1 = evaluateDisclosure({ record: r, directory: two, recipient: 'th', now: NOW });
    expect(d1).toMatchObject({ allowed: true, agreementId: 'kr-th-2026' });
    const red = record({ scope: { addressees: ['th'] }, tlp: 'RED' });
    const d2 = evaluateDisclosure({ record: red, directory: two, recipient: 'th', now: NOW });
    expect(d2).toMatchObject({ allowed: true, agreementId: 'federation-wide' });
  });

  it('maps denials to protocol error codes', () => {
    const r = record({ scope: { addressees: ['th'] } });
    const ok = evaluateDisclosure({ record: r, directory: dir, recipient: 'th', now: NOW });
    expect(assertDisclosed(ok).agreementId).toBe('kr-th-2026');
    const noAgreement = evaluateDisclosure({
      record: r,
      directory: directory({ agreements: [] }),
      recipient: 'th',
      now: NOW,
    });
    expect(() => assertDisclosed(noAgreement)).toThrow(
      expect.objectContaining({ code: 'NO_AGREEMENT' }),
    );
    const outOfScope = evaluateDisclosure({ record: r, directory: dir, recipient: 'jp', now: NOW });
    expect(() => assertDisclosed(outOfScope)).toThrow(
      expect.objectContaining({ code: 'SCOPE_DENIED' }),
    );
  });
});

describe('evaluateOnward: the hub never widens', () => {
  const originHub: Agreement = { ...OPEN_AGREEMENT, id: 'kr-hub', parties: ['kr', 'hub'] };
  const hubVn: Agreement = {
    ...OPEN_AGREEMENT,
    id: 'hub-vn',
    parties: ['hub', 'vn'],
    maxTlp: 'GREEN',
  };
  const originVn: Agreement = { ...OPEN_AGREEMENT, id: 'kr-vn', parties: ['kr', 'vn'] };

  it('needs an agreement between the hub and the recipient, not between origin and recipient', () => {
    const r = record({ scope: { addressees: ['all'] } });
    const onward = (agreements: Agreement[], tlp: Tlp = 'GREEN'): string => {
      const d = evaluateOnward({
        record: { ...r, tlp },
        directory: directory({ agreements }),
        from: 'hub',
        to: 'vn',
        now: NOW,
      });
      return d.allowed ? `ok ${d.agreementId}` : d.reason;
    };
    expect(onward([originHub, originVn])).toBe('NO_AGREEMENT');
    expect(onward([originHub, hubVn])).toBe('ok hub-vn');
    expect(onward([originHub, hubVn], 'AMBER')).toBe('NO_AGREEMENT');
  });

  it('does not forward to a suspended member the scope names', () => {
    const r = record({ scope: { addressees: ['hub', 'ph'] } });
    const d = evaluateOnward({
      record: r,
      directory: directory(),
      from: 'hub',
      to: 'ph',
      now: NOW,
    });
    expect(d).toMatchObject({ allowed: false, reason: 'RECIPIENT_INACTIVE' });
  });
});

describe('projection', () => {
  const relations = [
    { type: 'operates' as const, target: 'a1', targetOrigin: 'kr' },
    { type: 'pays-into' as const, target: 'b2', targetOrigin: 'vn' },
    { type: 'mirrors' as const, target: 'c3', targetOrigin: 'jp' },
  ];

  it('filters relations by the predicate and adds or removes nothing else', () => {
    const r = record({
      scope: { addressees: ['th'] },
      relations,
      subtype: undefined,
      sharedNote: 'mirror network run from one panel',
      reviewBy: '2027-01-01T00:00:00.000Z',
    });
    const d = evaluateDisclosure({
      record: r,
      directory: directory(),
      recipient: 'th',
      now: NOW,
      relationVisible: (x) => x.targetOrigin !== 'jp',
    });
    const out = assertDisclosed(d).record;
    const { relations: _all, ...rest } = r;
    const { relations: kept, ...outRest } = out;
    expect(kept).toEqual(relations.slice(0, 2));
    expect(outRest).toEqual(rest);
    expect(Object.keys(out).sort()).toEqual(
      Object.keys(r)
        .filter((k) => k !== 'subtype')
        .sort(),
    );
  });

  it('returns a copy: changing the projection leaves the record alone', () => {
    const r = record({ scope: { addressees: ['th'] }, relations });
    const out = assertDisclosed(
      evaluateDisclosure({ record: r, directory: directory(), recipient: 'th', now: NOW }),
    ).record;
    out.relations.pop();
    out.scope.addressees.push('jp');
    out.handling.code = 'H0';
    expect(r.relations).toHaveLength(3);
    expect(r.scope.addressees).toEqual(['th']);
  });

  const SECRETS = [
    'CASE-2026-SEOUL-4711',
    'informant Lee (do not disclose)',
    'seized server image sha256:deadbeef',
    'notes: suspect lives in Busan',
    'evidence/warrant-88.pdf',
  ] as const;

  function containsDeep(v: unknown, needle: string): boolean {
    if (typeof v === 'string') return v.includes(needle);
    if (Array.isArray(v)) return v.some((x) => containsDeep(x, needle));
    if (typeof v === 'object' && v !== null) {
      return Object.entries(v).some(([k, x]) => k.includes(needle) || containsDeep(x, needle));
    }
    return false;
  }

  it('projectLocal drops case reference, sources, notes and evidence, even when smuggled into the record', () => {
    const base = record({ relations });
    const smuggled = {
      ...base,
      caseReference: SECRETS[0],
      sources: [SECRETS[1]],
      notes: SECRETS[3],
      evidence: [SECRETS[2], SECRETS[4]],
      local: { caseReference: SECRETS[0] },
    } as IndicatorRecord;
    const local: LocalIndicator = {
      record: smuggled,
      local: {
        caseReference: SECRETS[0],
        sources: [SECRETS[1]],
        notes: SECRETS[3],
        evidence: [SECRETS[2], SECRETS[4]],
      },
    };
    // The check must be able to fail: the input itself carries every secret.
    for (const s of SECRETS) expect(containsDeep(local, s)).toBe(true);
    const out = projectLocal(local);
    for (const s of SECRETS) expect(containsDeep(out, s)).toBe(false);
    for (const k of ['caseReference', 'sources', 'notes', 'evidence', 'local']) {
      expect(containsDeep(out, k)).toBe(false);
      expect(JSON.stringify(out)).not.toContain(k);
    }
    expect(out).toEqual(base);
  });

  it('a disclosure of a smuggled record carries no local field either', () => {
    const smuggled = {
      ...record({ scope: { addressees: ['th'] } }),
      notes: SECRETS[3],
    } as IndicatorRecord;
    const out = assertDisclosed(
      evaluateDisclosure({ record: smuggled, directory: directory(), recipient: 'th', now: NOW }),
    ).record;
    expect(containsDeep(out, SECRETS[3])).toBe(false);
  });
});

describe('TLP and handling helpers', () => {
  it('orders TLP levels from CLEAR to RED', () => {
    expect(compareTlp('CLEAR', 'RED')).toBeLessThan(0);
    expect(compareTlp('AMBER+STRICT', 'AMBER')).toBeGreaterThan(0);
    expect(compareTlp('GREEN', 'GREEN')).toBe(0);
  });

  it('narrows to the more restrictive TLP, in either argument order', () => {
    expect(narrowTlp('GREEN', 'AMBER')).toBe('AMBER');
    expect(narrowTlp('RED', 'CLEAR')).toBe('RED');
    expect(narrowTlp('AMBER+STRICT', 'AMBER')).toBe('AMBER+STRICT');
    expect(narrowTlp('AMBER', 'AMBER+STRICT')).toBe('AMBER+STRICT');
  });

  it('keeps the strictest handling and every H3 condition', () => {
    expect(strictestHandling({ code: 'H0' })).toEqual({ code: 'H0' });
    expect(strictestHandling({ code: 'H1' }, { code: 'H0' }, { code: 'H2' })).toEqual({
      code: 'H2',
    });
    expect(
      strictestHandling(
        { code: 'H3', conditions: 'no arrests' },
        { code: 'H2' },
        { code: 'H3', conditions: 'no press' },
        { code: 'H3', conditions: 'no arrests' },
      ),
    ).toEqual({ code: 'H3', conditions: 'no arrests; no press' });
  });
});
