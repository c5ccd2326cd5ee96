import { describe, expect, it } from '@jest/globals';
import {
  generateFederationConfigs,
  isBrokerError,
  streamPlan,
  type FederationTopologyInput,
} from '../src/index.js';

const members = ['kr', 'vn', 'th'];

function input(overrides: Partial<FederationTopologyInput> = {}): FederationTopologyInput {
  return {
    members: members.map((id) => ({ id, password: `${id}-password-0123456789` })),
    hub: { password: 'hub-password-0123456789' },
    ports: {
      hubClient: 4222,
      hubLeaf: 7422,
      hubStore: { client: 4300 },
      members: { kr: { client: 4301 }, vn: { client: 4302 }, th: { client: 4303 } },
    },
    storeDir: (n) => `/data/${n}`,
    ...overrides,
  };
}

describe('streamPlan', () => {
  it("VN's inbox sources exactly the outboxes addressed to VN, and the broadcasts of others", () => {
    const plan = streamPlan(members, 'vn');
    expect(plan.map((p) => p.name)).toEqual([
      'VN_OUT_KR',
      'VN_OUT_TH',
      'VN_OUT_HUB',
      'VN_OUT_ALL',
      'INBOX',
    ]);
    const inbox = plan.find((p) => p.name === 'INBOX')!;
    expect(inbox.subjects).toEqual([]);
    expect(inbox.sources).toEqual([
      { name: 'KR_OUT_VN', external: { api: '$JS.kr.API', deliver: 'deliver.kr.vn' } },
      { name: 'KR_OUT_ALL', external: { api: '$JS.kr.API', deliver: 'deliver.kr.all.vn' } },
      { name: 'TH_OUT_VN', external: { api: '$JS.th.API', deliver: 'deliver.th.vn' } },
      { name: 'TH_OUT_ALL', external: { api: '$JS.th.API', deliver: 'deliver.th.all.vn' } },
      { name: 'HUB_OUT_VN', external: { api: '$JS.hub.API', deliver: 'deliver.hub.vn' } },
    ]);
    const out = plan.find((p) => p.name === 'VN_OUT_KR')!;
    expect(out).toMatchObject({
      subjects: ['fed.v1.vn.kr.>'],
      retention: 'limits',
      duplicateWindowMs: 120_000,
    });
  });

  it('the hub inbox sources every OUT_HUB and OUT_ALL; the hub has one outbox per member', () => {
    const plan = streamPlan(members, 'hub');
    expect(plan.map((p) => p.name)).toEqual([
      'HUB_OUT_KR',
      'HUB_OUT_VN',
      'HUB_OUT_TH',
      'HUB_INBOX',
    ]);
    expect(
      plan
        .at(-1)!
        .sources.map((s) => s.name)
        .sort(),
    ).toEqual(
      ['KR_OUT_HUB', 'KR_OUT_ALL', 'VN_OUT_HUB', 'VN_OUT_ALL', 'TH_OUT_HUB', 'TH_OUT_ALL'].sort(),
    );
  });

  it('refuses an unknown self and duplicate members', () => {
    expect(() => streamPlan(members, 'fr')).toThrow();
    expect(() => streamPlan(['kr', 'kr'], 'kr')).toThrow();
  });
});

describe('generateFederationConfigs', () => {
  it('exports each outbox only to its reader, and no member account has JetStream on the hub', () => {
    const { hub } = generateFederationConfigs(input());
    expect(hub).toContain('{ service: "$JS.kr.API.CONSUMER.CREATE.KR_OUT_VN", accounts: [VN] }');
    expect(hub).toContain('{ stream: "deliver.kr.vn.>", accounts: [VN] }');
    expect(hub).toContain(
      '{ service: "$JS.kr.API.CONSUMER.CREATE.KR_OUT_ALL", accounts: [HUB, VN, TH] }',
    );
    expect(hub).toContain('{ stream: "deliver.kr.all.th.>", accounts: [TH] }');
    expect(hub).toContain('authorization { account: QUARANTINE }');
    expect(hub).not.toContain('jetstream');
    expect(hub).not.toMatch(/stream: "fed\.v1/);
    expect(hub).not.toMatch(/"\$JS\.[a-z]+\.API\.>"/);
  });

  it('gives each leaf its own domain, a bound account and an allow-list of its own subjects', () => {
    const cfg = generateFederationConfigs(input());
    expect(cfg.leaves['kr']).toContain('domain: "kr"');
    expect(cfg.leaves['kr']).toContain('account: KR }');
    expect(cfg.leaves['kr']).toContain('publish: { allow: ["fed.v1.kr.>"');
    expect(cfg.hubStore).toContain('domain: "hub"');
    expect(cfg.nodeCredentials['vn']).toEqual({
      url: 'nats://127.0.0.1:4302',
      user: 'vn-app',
      password: 'vn-password-0123456789',
    });
    expect(cfg.hubAppCredentials.url).toBe('nats://127.0.0.1:4300');
  });

  it.each([
    ['a short password', { hub: { password: 'short' } }],
    ['a reserved member id', { members: [{ id: 'hub', password: 'x'.repeat(20) }] }],
    [
      'a port used twice',
      {
        ports: {
          hubClient: 4222,
          hubLeaf: 7422,
          hubStore: { client: 4300 },
          members: { kr: { client: 4301 }, vn: { client: 4301 }, th: { client: 4303 } },
        },
      },
    ],
  ])('refuses %s', (_label, overrides) => {
    let err: unknown;
    try {
      generateFederationConfigs(input(overrides));
    } catch (e) {
      err = e;
    }
    expect(isBrokerError(err, 'INVALID_TOPOLOGY')).toBe(true);
  });
});
