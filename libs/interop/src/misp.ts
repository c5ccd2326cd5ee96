import {
  CONTENT_CATEGORIES,
  normalizeIndicator,
  type ContentCategory,
  type IndicatorInput,
  type IndicatorRecord,
  type Tlp,
} from '../../protocol/src/index.js';
import {
  DEFAULT_IMPORT_DEFAULTS,
  summarize,
  type ImportCandidate,
  type ImportDefaults,
  type ImportReportEntry,
  type ImportResult,
} from './candidate.js';
import { InteropError } from './errors.js';
import { fedintelId } from './ids.js';
import { stricterTlp, tlpOfMispTag } from './markings.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Most attributes one MISP import may hold. */
export const MAX_MISP_ATTRIBUTES = 20000;

/** MISP allows a url without a scheme; whether it was http or https is not guessed. */
function urlOf(value: string): IndicatorInput | string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) {
    return 'url without a scheme: http or https is not guessed';
  }
  return { type: 'url', value };
}

/**
 * MISP attribute types FedIntel maps, and how. Everything else (hashes, file names, `link`,
 * `text`, vulnerabilities, YARA/Snort rules, ...) is reported as not mapped: they describe malware
 * or context, not a piracy operation's infrastructure or money.
 */
export const MISP_TYPE_MAP: Readonly<Record<string, (v: string) => IndicatorInput | string>> = {
  domain: (value) => ({ type: 'domain', value }),
  hostname: (value) => ({ type: 'domain', value }),
  url: (value) => urlOf(value),
  uri: (value) => urlOf(value),
  'ip-src': (value) => ({ type: 'ip', value }),
  'ip-dst': (value) => ({ type: 'ip', value }),
  'ip-src|port': (value) => ({ type: 'ip', value: value.split('|')[0] ?? '' }),
  'ip-dst|port': (value) => ({ type: 'ip', value: value.split('|')[0] ?? '' }),
  'email-src': (value) => ({ type: 'operator-alias', subtype: 'email', value }),
  'email-dst': (value) => ({ type: 'operator-alias', subtype: 'email', value }),
  email: (value) => ({ type: 'operator-alias', subtype: 'email', value }),
  'whois-registrant-email': (value) => ({ type: 'operator-alias', subtype: 'email', value }),
  btc: (value) => ({ type: 'payment-account', subtype: 'crypto-address', chain: 'bitcoin', value }),
  iban: (value) => ({ type: 'payment-account', subtype: 'iban', value }),
  text: (value) => {
    // What toMispEvent writes for types MISP lacks: `fedintel:<type>[/<subtype|chain>]:<value>`.
    const m = /^fedintel:([a-z-]+)(?:\/([a-z-]+))?:(.+)$/s.exec(value);
    if (!m) return 'free text is context, not an indicator';
    const [, type, sub, v] = m as unknown as [
      string,
      IndicatorInput['type'],
      string | undefined,
      string,
    ];
    if (sub === 'bitcoin' || sub === 'ethereum') {
      return { type, subtype: 'crypto-address', chain: sub, value: v };
    }
    return { type, value: v, ...(sub ? { subtype: sub } : {}) };
  },
  xmr: () => 'Monero addresses have no checksum rule in FedIntel yet (chains: bitcoin, ethereum)',
  'bank-account-nr': () => 'a bank account number without its country cannot be normalized',
};

/** MISP distribution levels → the TLP they at least imply (ADR 0033). */
function tlpOfDistribution(d: unknown): Tlp | undefined {
  switch (String(d)) {
    case '0': // your organisation only
    case '4': // a named sharing group
      return 'AMBER+STRICT';
    case '1': // this community only
      return 'AMBER';
    default: // 2 connected communities, 3 all communities, 5 inherit
      return undefined;
  }
}

interface TagResult {
  tlp?: Tlp;
  unknownTlp?: string;
  categories: ContentCategory[];
}

function readTags(tags: unknown): TagResult {
  const out: TagResult = { categories: [] };
  if (!Array.isArray(tags)) return out;
  for (const t of tags) {
    const name = isObj(t) && typeof t.name === 'string' ? t.name : typeof t === 'string' ? t : '';
    const tlp = tlpOfMispTag(name);
    if (tlp === 'unknown') out.unknownTlp = name;
    else if (tlp) out.tlp = out.tlp ? stricterTlp(out.tlp, tlp) : tlp;
    const m = /^fedintel:category="?([a-z-]+)"?$/.exec(name.trim().toLowerCase());
    if (m && (CONTENT_CATEGORIES as readonly string[]).includes(m[1]!)) {
      out.categories.push(m[1] as ContentCategory);
    }
  }
  return out;
}

function msTimestamp(v: unknown): string | undefined {
  if (typeof v === 'string' && /^\d{1,12}$/.test(v)) {
    return new Date(Number(v) * 1000).toISOString();
  }
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

/**
 * Reads a MISP event (`{"Event": {...}}` or the bare event) into candidates, one report entry per
 * attribute (including those inside MISP objects). TLP comes from `tlp:*` tags on the event and
 * the attribute and from the distribution level, whichever is strictest; an unknown `tlp:` tag
 * refuses the attribute (or the whole event when it is on the event).
 *
 * @throws {InteropError} `NOT_A_MISP_EVENT` when the document is not a MISP event.
 */
export function importMispEvent(
  doc: unknown,
  defaults: ImportDefaults = DEFAULT_IMPORT_DEFAULTS,
): ImportResult & { event: { uuid: string; info: string } } {
  const ev = isObj(doc) && isObj(doc.Event) ? doc.Event : doc;
  if (!isObj(ev) || (!Array.isArray(ev.Attribute) && !Array.isArray(ev.Object))) {
    throw new InteropError(
      'NOT_A_MISP_EVENT',
      'expected a MISP event: {"Event": {"Attribute": [...]}}',
    );
  }
  const uuid = typeof ev.uuid === 'string' ? ev.uuid : 'unknown';
  const info = typeof ev.info === 'string' ? ev.info : '';
  const attributes: { a: Obj; object?: string }[] = [];
  if (Array.isArray(ev.Attribute))
    for (const a of ev.Attribute) if (isObj(a)) attributes.push({ a });
  if (Array.isArray(ev.Object)) {
    for (const o of ev.Object) {
      if (!isObj(o) || !Array.isArray(o.Attribute)) continue;
      for (const a of o.Attribute)
        if (isObj(a))
          attributes.push({ a, object: typeof o.name === 'string' ? o.name : 'object' });
    }
  }
  if (attributes.length > MAX_MISP_ATTRIBUTES) {
    throw new InteropError(
      'TOO_MANY_ROWS',
      `an event may hold at most ${MAX_MISP_ATTRIBUTES} attributes`,
    );
  }
  const eventTags = readTags(ev.Tag);
  const eventTlp = [eventTags.tlp, tlpOfDistribution(ev.distribution)].reduce<Tlp | undefined>(
    (acc, t) => (t ? (acc ? stricterTlp(acc, t) : t) : acc),
    undefined,
  );
  const candidates: ImportCandidate[] = [];
  const report: ImportReportEntry[] = [];
  const seen = new Map<string, string>();
  attributes.forEach(({ a, object }, i) => {
    const ref = typeof a.uuid === 'string' ? a.uuid : `Attribute[${i}]`;
    const kind = typeof a.type === 'string' ? a.type : 'unknown';
    const value = typeof a.value === 'string' ? a.value : '';
    const skip = (code: string, detail: string, outcome: 'skipped' | 'invalid' = 'skipped') =>
      report.push({ ref, kind, outcome, code, detail, value: value.slice(0, 200) });
    if (eventTags.unknownTlp)
      return skip('UNKNOWN_MARKING', `event tag ${eventTags.unknownTlp} has no TLP 2.0 equivalent`);
    if (a.deleted === true) return skip('DELETED', 'deleted in MISP');
    const map = MISP_TYPE_MAP[kind];
    if (!map) return skip('UNMAPPABLE', `MISP type ${kind} has no FedIntel indicator equivalent`);
    const input = map(value);
    if (typeof input === 'string') return skip('UNMAPPABLE', input);
    const tags = readTags(a.Tag);
    if (tags.unknownTlp)
      return skip('UNKNOWN_MARKING', `tag ${tags.unknownTlp} has no TLP 2.0 equivalent`);
    const levels = [
      eventTlp,
      tags.tlp,
      String(a.distribution) === '5' ? undefined : tlpOfDistribution(a.distribution),
    ];
    const found = levels.filter((t): t is Tlp => t !== undefined);
    const tlp = found.reduce<Tlp>((acc, t) => stricterTlp(acc, t), found[0] ?? defaults.tlp);
    let norm;
    try {
      norm = normalizeIndicator(input);
    } catch (e) {
      return skip(
        (e as { code?: string }).code ?? 'INVALID_VALUE',
        e instanceof Error ? e.message : String(e),
        'invalid',
      );
    }
    const key = `${input.type}|${norm.value}`;
    const dup = seen.get(key);
    if (dup) return skip('DUPLICATE', `same value as ${dup}`);
    seen.set(key, ref);
    const c: ImportCandidate = {
      ref,
      type: input.type,
      value: norm.value,
      categories: [
        ...new Set([...defaults.categories, ...eventTags.categories, ...tags.categories]),
      ],
      confidence: defaults.confidence,
      tlp,
      handling: defaults.handling,
      reliability: defaults.reliability,
      accuracy: defaults.accuracy,
      local: { sources: [`misp:${uuid}/${ref}`] },
    };
    if (norm.subtype !== undefined) c.subtype = norm.subtype;
    if (norm.chain !== undefined) c.chain = norm.chain;
    const first = msTimestamp(a.first_seen) ?? msTimestamp(a.timestamp);
    if (first) c.firstSeen = first;
    const notes = [
      info ? `MISP event: ${info}` : '',
      object ? `MISP object: ${object}` : '',
      typeof a.comment === 'string' && a.comment ? `comment: ${a.comment}` : '',
      a.to_ids === false ? 'to_ids: false (context in MISP, not for detection)' : '',
    ].filter((s) => s !== '');
    if (notes.length > 0) c.local.notes = notes.join('\n').slice(0, 10000);
    candidates.push(c);
    report.push({
      ref,
      kind,
      outcome: 'mapped',
      value: norm.value,
      ...(found.length === 0 ? { detail: `no tlp tag: ${defaults.tlp} applied` } : {}),
    });
  });
  return { candidates, report, summary: summarize(report), event: { uuid, info } };
}

/** FedIntel record → MISP attribute type (and value), or undefined when MISP has no such type. */
function mispTypeOf(r: IndicatorRecord): { type: string; category: string; value: string } {
  switch (r.type) {
    case 'domain':
      return { type: 'domain', category: 'Network activity', value: r.value };
    case 'url':
      return { type: 'url', category: 'Network activity', value: r.value };
    case 'ip':
      return { type: 'ip-dst', category: 'Network activity', value: r.value };
    case 'operator-alias':
      if (r.subtype === 'email')
        return { type: 'email-src', category: 'Payload delivery', value: r.value };
      break;
    case 'payment-account':
      if (r.subtype === 'iban')
        return { type: 'iban', category: 'Financial fraud', value: r.value };
      if (r.chain === 'bitcoin')
        return { type: 'btc', category: 'Financial fraud', value: r.value };
      break;
    case 'iptv-service':
      if (r.value.startsWith('http'))
        return { type: 'url', category: 'Network activity', value: r.value };
      break;
  }
  // No MISP type: a `text` attribute that names the FedIntel type, so nothing is silently lost.
  const sub = r.chain ?? r.subtype;
  return {
    type: 'text',
    category: 'Other',
    value: `fedintel:${r.type}${sub ? `/${sub}` : ''}:${r.value}`,
  };
}

/**
 * Records → one MISP event. Each attribute carries its record's `tlp:*` tag; the event carries
 * the strictest TLP of its attributes (MISP applies event tags to every attribute, so the event
 * may never look less restricted than its most restricted attribute). Distribution is 0 (this
 * organisation): the receiving MISP admin widens it, never FedIntel. Retracted records are left out.
 */
export function toMispEvent(
  records: readonly IndicatorRecord[],
  opts: { info: string; date: string; uuid?: string },
): { Event: Record<string, unknown> } {
  const active = records.filter((r) => r.status === 'active');
  const strictest = active.reduce<Tlp>((acc, r) => stricterTlp(acc, r.tlp), 'CLEAR');
  const tag = (t: Tlp) => ({ name: `tlp:${t.toLowerCase()}` });
  return {
    Event: {
      uuid:
        opts.uuid ??
        fedintelId('event', active.map((r) => `${r.origin}/${r.id}@${r.version}`).join(',')).slice(
          'event--'.length,
        ),
      info: opts.info,
      date: opts.date.slice(0, 10),
      threat_level_id: '3',
      analysis: '2',
      distribution: '0',
      Tag: [tag(strictest)],
      Attribute: active.map((r) => {
        const m = mispTypeOf(r);
        return {
          uuid: fedintelId('attribute', `${r.origin}/${r.id}`).slice('attribute--'.length),
          type: m.type,
          category: m.category,
          value: m.value,
          to_ids: m.type !== 'text',
          distribution: '5',
          timestamp: String(Math.floor(Date.parse(r.issuedAt) / 1000)),
          first_seen: r.firstSeen,
          last_seen: r.lastSeen,
          comment: `FedIntel ${r.origin}/${r.id} v${r.version}; handling ${r.handling.code}; reliability ${r.reliability}${r.accuracy}; confidence ${r.confidence}`,
          Tag: [tag(r.tlp), ...r.categories.map((c) => ({ name: `fedintel:category="${c}"` }))],
        };
      }),
    },
  };
}
