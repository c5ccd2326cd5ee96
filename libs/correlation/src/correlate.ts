import { createHash } from 'node:crypto';
import type { IndicatorType, RelationType } from '../../protocol/src/index.js';
import {
  aggregateKey,
  isLive,
  type Aggregate,
  type SourceRecord,
  type SourceRef,
} from './aggregate.js';

/** An aggregate named by its key fields. */
export interface IndicatorKey {
  type: IndicatorType;
  value: string;
}

/** One relation stated by one source record, between two aggregates. */
export interface RelationEvidence {
  from: IndicatorKey;
  relation: RelationType;
  to: IndicatorKey;
  /** The record that states the relation. */
  source: SourceRef;
}

/** An operator network: a connected component of the relation graph spanning countries. */
export interface Network {
  /** `net-` + 12 hex digits of SHA-256 over its smallest member key: stable while that member stays. */
  id: string;
  /** Member aggregates, ordered by type then value. */
  members: (IndicatorKey & { countries: string[] })[];
  /** Countries whose records report any member, sorted. */
  countries: string[];
  /** Every relation that links the members, ordered. */
  evidence: RelationEvidence[];
  /** Every source record of every member (deduplicated, ordered by origin then id). */
  sources: SourceRef[];
}

/** Why a domain is flagged as a probable successor of a known network domain. */
export type SuccessorRule =
  'shared-payment-account' | 'shared-alias' | 'numbered-successor' | 'one-edit-variant';

/** A newly reported domain that is probably the successor of a domain of a known network. */
export interface SuccessorFlag {
  domain: string;
  predecessor: string;
  networkId: string;
  /** Rules that fired, sorted. */
  rules: SuccessorRule[];
  /** The shared account or alias, for the shared-infrastructure rules. */
  via: IndicatorKey[];
  /** The relations that tie both domains to the shared account or alias. */
  evidence: RelationEvidence[];
  /** Source records of the domain, the predecessor and the evidence. */
  sources: SourceRef[];
}

export interface Correlation {
  networks: Network[];
  successors: SuccessorFlag[];
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const refKey = (s: SourceRef): string => `${s.origin}/${s.id}`;

function uniqueRefs(refs: Iterable<SourceRef>): SourceRef[] {
  const m = new Map<string, SourceRef>();
  for (const r of refs) m.set(refKey(r), r);
  return [...m.values()].sort((a, b) => byText(a.origin, b.origin) || byText(a.id, b.id));
}

function evidenceOrder(a: RelationEvidence, b: RelationEvidence): number {
  return (
    byText(aggregateKey(a.from.type, a.from.value), aggregateKey(b.from.type, b.from.value)) ||
    byText(a.relation, b.relation) ||
    byText(aggregateKey(a.to.type, a.to.value), aggregateKey(b.to.type, b.to.value)) ||
    byText(refKey(a.source), refKey(b.source))
  );
}

/** Network id: stable while the network's smallest member key stays in it. */
export function networkId(smallestMemberKey: string): string {
  return `net-${createHash('sha256').update(smallestMemberKey).digest('hex').slice(0, 12)}`;
}

/**
 * Splits a domain into `stem`, number and suffix when its first label ends in digits:
 * `toonkor123.com` → `{ stem: 'toonkor', n: 123, suffix: '.com' }`.
 */
export function numberedName(
  domain: string,
): { stem: string; n: number; suffix: string } | undefined {
  const dot = domain.indexOf('.');
  if (dot <= 0) return undefined;
  const m = /^(.*\D)(\d{1,9})$/.exec(domain.slice(0, dot));
  if (!m?.[1] || !m[2]) return undefined;
  return { stem: m[1], n: Number(m[2]), suffix: domain.slice(dot) };
}

/** True when `a` and `b` differ by exactly one insertion, deletion or substitution. O(length). */
export function isOneEdit(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  const [s, l] = a.length <= b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  if (s.length === l.length) return s.slice(i + 1) === l.slice(i + 1);
  return s.slice(i) === l.slice(i + 1);
}

/**
 * An index of `names` that finds, for any string, the names within one edit of it without
 * comparing against each name: both strings share a "deletion variant" (the string itself or the
 * string minus one character) exactly when they may be one edit apart; candidates are then
 * confirmed with {@link isOneEdit}. Building costs O(Σ length²), a look-up O(length²).
 */
export function oneEditIndex(names: readonly string[]): (value: string) => string[] {
  const variants = (v: string): string[] => {
    const out = [v];
    for (let i = 0; i < v.length; i++) out.push(v.slice(0, i) + v.slice(i + 1));
    return out;
  };
  const index = new Map<string, Set<string>>();
  for (const name of names) {
    for (const v of variants(name)) {
      const set = index.get(v) ?? new Set<string>();
      set.add(name);
      index.set(v, set);
    }
  }
  return (value) => {
    const found = new Set<string>();
    for (const v of variants(value)) for (const n of index.get(v) ?? []) found.add(n);
    return [...found].filter((n) => isOneEdit(value, n)).sort(byText);
  };
}

/**
 * Correlates live source records into operator networks and successor flags.
 *
 * Graph: one node per aggregate; one edge per relation of a live source record whose target
 * record is also live at the hub (a relation to a record the hub never received, or that was
 * retracted or expired, links nothing). Networks are the connected components with at least two
 * members whose sources come from at least two countries.
 *
 * Successor flags, for each domain D and a domain K of a network, D first seen after K:
 * - shared-payment-account / shared-alias: D and K both linked to the same account or alias
 *   (pays-into, operates) within the network; K is the latest such domain seen before D;
 * - numbered-successor: same name stem and suffix, D's number higher (`toonkor123.com` →
 *   `toonkor124.com`); K is the highest-numbered network domain below D;
 * - one-edit-variant: the names differ by one insertion, deletion or substitution.
 * A pair already linked by an explicit `successor-of` or `mirrors` relation is not flagged
 * (a member already said so).
 */
export function correlate(
  aggregates: readonly Aggregate[],
  sources: readonly SourceRecord[],
  now: Date,
): Correlation {
  const aggByKey = new Map(aggregates.map((a) => [aggregateKey(a.type, a.value), a]));
  const live = sources.filter((s) => isLive(s.record, now));
  const recordKey = new Map(
    live.map((s) => [
      `${s.record.origin}/${s.record.id}`,
      aggregateKey(s.record.type, s.record.value),
    ]),
  );
  const edges: RelationEvidence[] = [];
  for (const { record, country } of live) {
    const from = aggregateKey(record.type, record.value);
    if (!aggByKey.has(from)) continue;
    for (const rel of record.relations) {
      const to = recordKey.get(`${rel.targetOrigin}/${rel.target}`);
      if (!to || to === from || !aggByKey.has(to)) continue;
      const t = aggByKey.get(to) as Aggregate;
      edges.push({
        from: { type: record.type, value: record.value },
        relation: rel.type,
        to: { type: t.type, value: t.value },
        source: {
          origin: record.origin,
          id: record.id,
          version: record.version,
          confidence: record.confidence,
          country,
        },
      });
    }
  }
  edges.sort(evidenceOrder);

  // Union-find over aggregate keys.
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    let c = k;
    while (c !== r) {
      const n = parent.get(c) ?? r;
      parent.set(c, r);
      c = n;
    }
    return r;
  };
  const keyOf = (k: IndicatorKey): string => aggregateKey(k.type, k.value);
  for (const e of edges) {
    for (const k of [keyOf(e.from), keyOf(e.to)]) if (!parent.has(k)) parent.set(k, k);
    const a = find(keyOf(e.from));
    const b = find(keyOf(e.to));
    if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
  }
  const components = new Map<string, string[]>();
  for (const k of parent.keys()) {
    const r = find(k);
    const c = components.get(r);
    if (c) c.push(k);
    else components.set(r, [k]);
  }

  const networks: Network[] = [];
  const networkOf = new Map<string, Network>();
  for (const keys of components.values()) {
    keys.sort(byText);
    const members = keys.map((k) => aggByKey.get(k) as Aggregate);
    const countries = [...new Set(members.flatMap((m) => m.countries.map((c) => c.country)))].sort(
      byText,
    );
    if (members.length < 2 || countries.length < 2) continue;
    const inside = new Set(keys);
    const network: Network = {
      id: networkId(keys[0] ?? ''),
      members: members.map((m) => ({
        type: m.type,
        value: m.value,
        countries: m.countries.map((c) => c.country),
      })),
      countries,
      evidence: edges.filter((e) => inside.has(keyOf(e.from))),
      sources: uniqueRefs(members.flatMap((m) => m.sources)),
    };
    networks.push(network);
    for (const k of keys) networkOf.set(k, network);
  }
  networks.sort((a, b) => byText(a.id, b.id));

  // --- successor flags ---
  const explicit = new Set<string>();
  for (const e of edges) {
    if (e.relation === 'successor-of' || e.relation === 'mirrors') {
      explicit.add(`${e.from.value}|${e.to.value}`);
      explicit.add(`${e.to.value}|${e.from.value}`);
    }
  }
  const flags = new Map<string, SuccessorFlag>();
  const flag = (
    d: Aggregate,
    k: Aggregate,
    network: Network,
    rule: SuccessorRule,
    via?: IndicatorKey,
    evidence: RelationEvidence[] = [],
  ): void => {
    if (explicit.has(`${d.value}|${k.value}`)) return;
    const id = `${d.value}|${k.value}`;
    const f = flags.get(id) ?? {
      domain: d.value,
      predecessor: k.value,
      networkId: network.id,
      rules: [],
      via: [],
      evidence: [],
      sources: [],
    };
    if (!f.rules.includes(rule)) f.rules.push(rule);
    if (via && !f.via.some((v) => v.type === via.type && v.value === via.value)) f.via.push(via);
    f.evidence.push(...evidence);
    f.sources = uniqueRefs([
      ...f.sources,
      ...d.sources,
      ...k.sources,
      ...evidence.map((e) => e.source),
    ]);
    flags.set(id, f);
  };
  const seenOrder = (a: Aggregate, b: Aggregate): number =>
    byText(a.firstSeen, b.firstSeen) || byText(a.value, b.value);

  // Shared payment account or alias inside a network.
  for (const network of networks) {
    for (const hubNode of network.members) {
      if (hubNode.type !== 'payment-account' && hubNode.type !== 'operator-alias') continue;
      const hk = keyOf(hubNode);
      const links = new Map<string, RelationEvidence[]>();
      for (const e of network.evidence) {
        const other = keyOf(e.from) === hk ? e.to : keyOf(e.to) === hk ? e.from : undefined;
        if (other?.type !== 'domain') continue;
        const list = links.get(keyOf(other)) ?? [];
        list.push(e);
        links.set(keyOf(other), list);
      }
      const domains = [...links.keys()].map((k) => aggByKey.get(k) as Aggregate).sort(seenOrder);
      for (let i = 1; i < domains.length; i++) {
        const d = domains[i] as Aggregate;
        const k = domains[i - 1] as Aggregate;
        if (d.firstSeen <= k.firstSeen) continue;
        flag(
          d,
          k,
          network,
          hubNode.type === 'payment-account' ? 'shared-payment-account' : 'shared-alias',
          { type: hubNode.type, value: hubNode.value },
          [...(links.get(keyOf(k)) ?? []), ...(links.get(keyOf(d)) ?? [])],
        );
      }
    }
  }

  // Near-identical names of network domains.
  const networkDomains = aggregates.filter(
    (a) => a.type === 'domain' && networkOf.has(aggregateKey(a.type, a.value)),
  );
  const networkDomainByValue = new Map(networkDomains.map((k) => [k.value, k]));
  const nearNetworkDomain = oneEditIndex(networkDomains.map((k) => k.value));
  const byStem = new Map<string, { agg: Aggregate; n: number }[]>();
  for (const k of networkDomains) {
    const nn = numberedName(k.value);
    if (!nn) continue;
    const list = byStem.get(`${nn.stem}|${nn.suffix}`) ?? [];
    list.push({ agg: k, n: nn.n });
    byStem.set(`${nn.stem}|${nn.suffix}`, list);
  }
  for (const d of aggregates) {
    if (d.type !== 'domain') continue;
    const nn = numberedName(d.value);
    if (nn) {
      let best: { agg: Aggregate; n: number } | undefined;
      for (const c of byStem.get(`${nn.stem}|${nn.suffix}`) ?? []) {
        if (c.n < nn.n && c.agg.firstSeen <= d.firstSeen && (!best || c.n > best.n)) best = c;
      }
      if (best) {
        const network = networkOf.get(aggregateKey('domain', best.agg.value)) as Network;
        flag(d, best.agg, network, 'numbered-successor');
      }
    }
    for (const value of nearNetworkDomain(d.value)) {
      const k = networkDomainByValue.get(value) as Aggregate;
      if (k === d || k.firstSeen > d.firstSeen) continue;
      const kn = numberedName(k.value);
      // Numbered names of one stem are the numbered rule's business (abc3 is not "one edit" of abc1).
      if (nn && kn && nn.stem === kn.stem && nn.suffix === kn.suffix) continue;
      flag(d, k, networkOf.get(aggregateKey('domain', k.value)) as Network, 'one-edit-variant');
    }
  }
  const successors = [...flags.values()]
    .map((f) => ({
      ...f,
      rules: [...f.rules].sort(byText),
      evidence: [...f.evidence].sort(evidenceOrder),
    }))
    .sort((a, b) => byText(a.domain, b.domain) || byText(a.predecessor, b.predecessor));
  return { networks, successors };
}
