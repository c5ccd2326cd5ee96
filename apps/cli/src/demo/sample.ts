import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  normalizeIndicator,
  type ContentCategory,
  type IndicatorType,
  type RelationType,
  type Tlp,
} from '../../../../libs/protocol/src/index.js';

/** How much sample data the demo loads. */
export type SampleSize = 'full' | 'tiny' | 'none';

/** The request body of `POST /api/v1/indicators` (apps/node indicator.dto.ts). */
export interface IndicatorBody {
  type: IndicatorType;
  value: string;
  subtype?: string;
  chain?: string;
  categories: ContentCategory[];
  confidence: number;
  tlp: Tlp;
  handling: { code: 'H0' | 'H1' | 'H2' | 'H3'; conditions?: string };
  reliability: 'A' | 'B' | 'C' | 'X';
  accuracy: 1 | 2 | 3 | 4;
  scope: { addressees: string[] };
  relations?: { type: RelationType; target: string; targetOrigin: string }[];
  sharedNote?: string;
  firstSeen?: string;
  local?: { caseReference?: string; notes?: string; sources?: string[] };
}

/**
 * One record to create at `member`. `links` point at earlier items (by key) of the same member;
 * the loader turns them into relations once the targets have ids.
 */
export interface SampleItem {
  key: string;
  member: string;
  body: Omit<IndicatorBody, 'relations'>;
  links?: { type: RelationType; to: string }[];
}

/** Reference data read from `../shared/data`; empty lists when the folder is absent. */
export interface SampleData {
  domains: string[];
  addresses: { chain: 'bitcoin' | 'ethereum'; address: string; site: string }[];
  /** where the data came from, or undefined when no reference data was found */
  source: string | undefined;
}

const FALLBACK_DOMAINS = [
  'newtoki469.com',
  'manatoki.net',
  'toonkor.example',
  'iptv-korea.example',
];

/**
 * Read piracy domains and BTC/ETH payment addresses from `dir` (the repository's `../shared/data`).
 * Values the protocol would refuse (dead checksums, odd hosts) are dropped here, so the demo only
 * loads what a node accepts. A missing folder gives a small built-in list instead of an error.
 */
export function readSampleData(dir: string): SampleData {
  const domainsFile = join(dir, 'piracy-domains.txt');
  const addressesFile = join(dir, 'scam-payment-addresses.etherscamdb.csv');
  if (!existsSync(domainsFile))
    return { domains: FALLBACK_DOMAINS, addresses: [], source: undefined };
  const domains = readFileSync(domainsFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => accepts({ type: 'domain', value: l }));
  const addresses: SampleData['addresses'] = [];
  if (existsSync(addressesFile)) {
    for (const line of readFileSync(addressesFile, 'utf8').split('\n').slice(1)) {
      const [code, address, site] = line.split(',');
      const chain = code === 'BTC' ? 'bitcoin' : code === 'ETH' ? 'ethereum' : undefined;
      if (!chain || !address || !site) continue;
      const input = {
        type: 'payment-account' as const,
        subtype: 'crypto-address',
        chain,
        value: address,
      };
      if (accepts(input)) addresses.push({ chain, address, site });
    }
  }
  return { domains, addresses, source: dir };
}

function accepts(input: Parameters<typeof normalizeIndicator>[0]): boolean {
  try {
    normalizeIndicator(input);
    return true;
  } catch {
    return false;
  }
}

/** A plausible content category from the domain's words. */
export function categoryOf(domain: string): ContentCategory {
  if (/toon|toki|manga|manhwa|comic/.test(domain)) return 'webtoon';
  if (/iptv|tv|live/.test(domain)) return 'live-tv';
  if (/sport|stream|match|foot/.test(domain)) return 'sports';
  if (/mp3|music|song|flac/.test(domain)) return 'music';
  if (/drama|kdrama|series|episode/.test(domain)) return 'drama';
  return 'film';
}

const base = {
  confidence: 80,
  reliability: 'B' as const,
  accuracy: 2 as const,
};

function domainItem(
  member: string,
  key: string,
  domain: string,
  tlp: Tlp,
  addressees: string[],
  code: 'H0' | 'H1' | 'H2' = 'H1',
): SampleItem {
  return {
    key,
    member,
    body: {
      ...base,
      type: 'domain',
      value: domain,
      categories: [categoryOf(domain)],
      tlp,
      handling: { code },
      scope: { addressees },
      local: {
        caseReference: `${member.toUpperCase()}-DEMO-${key}`,
        notes: 'demo: never leaves the node',
      },
    },
  };
}

/**
 * The demo's records, in creation order (targets of relations first). KR shares most: a linked
 * operator set (alias → domains → payment accounts) and further domains under the KR–VN MoU
 * (AMBER and RED), some to the hub only, some to all under the charter (≤ AMBER). VN and TH share
 * a few of their own. Records addressed to a group or member that is not running are left out.
 */
export function buildSample(data: SampleData, members: string[], size: SampleSize): SampleItem[] {
  if (size === 'none') return [];
  const has = (id: string) => members.includes(id);
  const mou = has('kr') && has('vn');
  const n =
    size === 'tiny' ? { mou: 2, hub: 1, all: 1, own: 1 } : { mou: 24, hub: 10, all: 12, own: 8 };
  const pool = [...data.domains];
  const take = (k: number) => pool.splice(0, k);
  const items: SampleItem[] = [];

  for (const member of members) {
    const isKr = member === 'kr';
    if (isKr && mou) {
      // A linked operator set, as an analyst would enter it after an investigation.
      const btc = data.addresses.find((a) => a.chain === 'bitcoin');
      const eth = data.addresses.find((a) => a.chain === 'ethereum');
      const accounts: SampleItem[] = [];
      if (btc)
        accounts.push(
          paymentItem('kr', 'btc-1', 'crypto-address', btc.address, 'bitcoin', 'AMBER'),
        );
      if (eth && size === 'full') {
        accounts.push(
          paymentItem('kr', 'eth-1', 'crypto-address', eth.address, 'ethereum', 'AMBER'),
        );
      }
      if (size === 'full') {
        accounts.push(
          paymentItem('kr', 'iban-1', 'iban', 'GB82 WEST 1234 5698 7654 32', undefined, 'RED', [
            'group:kr-vn-mou',
            'vn',
          ]),
        );
      }
      items.push(...accounts);
      const [main, mirror] = take(2);
      const linked: SampleItem[] = [];
      if (main) {
        const d = domainItem('kr', 'op-domain', main, 'AMBER', ['group:kr-vn-mou']);
        d.links = accounts.map((a) => ({ type: 'pays-into' as const, to: a.key }));
        d.body.categories = ['webtoon'];
        linked.push(d);
      }
      if (mirror) {
        // TLP:RED reaches only recipients the scope names, so RED records name vn as well.
        const d = domainItem('kr', 'op-mirror', mirror, 'RED', ['group:kr-vn-mou', 'vn'], 'H2');
        d.links = main ? [{ type: 'mirrors', to: 'op-domain' }] : [];
        linked.push(d);
      }
      items.push(...linked);
      const aliases: [string, string][] = [['messenger-id', 'telegram:newtoki_admin']];
      if (size === 'full') {
        aliases.push(['handle', '@manatoki_uploader'], ['email', 'toki.ops@protonmail.com']);
      }
      for (const [i, [subtype, value]] of aliases.entries()) {
        items.push({
          key: `alias-${i}`,
          member: 'kr',
          body: {
            ...base,
            type: 'operator-alias',
            subtype,
            value,
            categories: ['webtoon'],
            tlp: 'AMBER',
            handling: { code: 'H1' },
            scope: { addressees: ['group:kr-vn-mou'] },
            sharedNote: 'Operator of the linked webtoon piracy sites (demo data).',
            local: { caseReference: 'KNPA-DEMO-0412', notes: 'informant tip, do not share' },
          },
          links: linked.map((l) => ({ type: 'operates' as const, to: l.key })),
        });
      }
      take(n.mou - linked.length).forEach((d, i) =>
        items.push(
          i % 3 === 0
            ? domainItem('kr', `mou-${i}`, d, 'RED', ['group:kr-vn-mou', 'vn'], 'H2')
            : domainItem('kr', `mou-${i}`, d, 'AMBER', ['group:kr-vn-mou']),
        ),
      );
    }
    if (isKr || size === 'full' || member === 'vn') {
      const hubCount = isKr ? n.hub : Math.ceil(n.hub / 3);
      const allCount = isKr ? n.all : n.own;
      take(hubCount).forEach((d, i) =>
        items.push(domainItem(member, `hub-${i}`, d, 'AMBER', ['hub'])),
      );
      take(allCount).forEach((d, i) =>
        items.push(
          domainItem(member, `all-${i}`, d, i % 2 === 0 ? 'GREEN' : 'AMBER', ['all'], 'H0'),
        ),
      );
    }
    if (member === 'vn' && mou && size === 'full') {
      const eth = data.addresses.filter((a) => a.chain === 'ethereum').slice(1, 3);
      eth.forEach((a, i) =>
        items.push(
          paymentItem('vn', `eth-${i}`, 'crypto-address', a.address, 'ethereum', 'AMBER', [
            'group:kr-vn-mou',
          ]),
        ),
      );
    }
  }
  if (size === 'full') items.push(...hubNetworkItems(members));
  return items;
}

/**
 * A cross-border operator network for the hub to find (docs/hub.md): KR reports the operator alias
 * of `toonkor123.com`, VN reports the same domain paying into an IBAN, and a third member (TH, or
 * VN without TH) reports the numbered successor `toonkor124.com`, first seen later. Each member
 * scopes them to `all` at TLP:GREEN/AMBER H0/H1, so the hub aggregates them and passes them on.
 */
export function hubNetworkItems(members: string[]): SampleItem[] {
  if (!members.includes('kr') || !members.includes('vn')) return [];
  const third = members.includes('th') ? 'th' : 'vn';
  const shared = (
    member: string,
    key: string,
    body: Pick<IndicatorBody, 'type' | 'value' | 'tlp' | 'firstSeen'> & { subtype?: string },
    links?: SampleItem['links'],
  ): SampleItem => ({
    key,
    member,
    body: {
      ...base,
      categories: ['webtoon'],
      handling: { code: body.tlp === 'GREEN' ? 'H0' : 'H1' },
      scope: { addressees: ['all'] },
      ...body,
      local: { caseReference: `${member.toUpperCase()}-DEMO-${key}` },
    },
    ...(links ? { links } : {}),
  });
  return [
    shared('kr', 'net-domain', {
      type: 'domain',
      value: 'toonkor123.com',
      tlp: 'GREEN',
      firstSeen: '2026-09-01T00:00:00.000Z',
    }),
    shared(
      'kr',
      'net-alias',
      { type: 'operator-alias', subtype: 'handle', value: '@toonkor_admin', tlp: 'AMBER' },
      [{ type: 'operates', to: 'net-domain' }],
    ),
    shared('vn', 'net-iban', {
      type: 'payment-account',
      subtype: 'iban',
      value: 'DE89 3704 0044 0532 0130 00',
      tlp: 'AMBER',
    }),
    shared(
      'vn',
      'net-domain',
      {
        type: 'domain',
        value: 'toonkor123.com',
        tlp: 'GREEN',
        firstSeen: '2026-09-10T00:00:00.000Z',
      },
      [{ type: 'pays-into', to: 'net-iban' }],
    ),
    shared(third, 'net-successor', {
      type: 'domain',
      value: 'toonkor124.com',
      tlp: 'GREEN',
      firstSeen: '2026-11-01T00:00:00.000Z',
    }),
  ];
}

function paymentItem(
  member: string,
  key: string,
  subtype: 'crypto-address' | 'iban',
  value: string,
  chain: 'bitcoin' | 'ethereum' | undefined,
  tlp: Tlp,
  addressees: string[] = ['group:kr-vn-mou'],
): SampleItem {
  return {
    key,
    member,
    body: {
      ...base,
      type: 'payment-account',
      subtype,
      ...(chain ? { chain } : {}),
      value,
      categories: ['webtoon'],
      tlp,
      handling: { code: 'H1' },
      scope: { addressees },
      local: {
        caseReference: `${member.toUpperCase()}-DEMO-${key}`,
        sources: ['bank subpoena (demo)'],
      },
    },
  };
}
