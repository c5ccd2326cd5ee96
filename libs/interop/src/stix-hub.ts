import type {
  ContentCategory,
  CryptoChain,
  Handling,
  IndicatorType,
  RelationType,
  Tlp,
} from '../../protocol/src/index.js';
import { fedintelId } from './ids.js';
import { handlingMarkingDefinition, stricterTlp, TLP2_MARKING_IDS } from './markings.js';
import {
  memberIdentityId,
  observableOf,
  patternString,
  TYPE_LABEL,
  type StixObject,
} from './stix-export.js';

/** What the hub aggregates for one (type, value) (libs/correlation `Aggregate`, structurally). */
export interface AggregateInput {
  type: IndicatorType;
  value: string;
  /** Subtype and chain, when the sources agree on them (payment accounts, aliases). */
  subtype?: string;
  chain?: CryptoChain;
  sources: { origin: string; id: string; version: number; country: string }[];
  countries: { country: string; sightings: number }[];
  firstSeen: string;
  lastSeen: string;
  confidence: number;
  tlp: Tlp;
  handling: Handling;
  categories: ContentCategory[];
  nextExpiry: string;
}

/** An operator network (libs/correlation `Network`, structurally). */
export interface NetworkInput {
  id: string;
  members: { type: IndicatorType; value: string; countries: string[] }[];
  countries: string[];
  evidence: {
    from: { type: IndicatorType; value: string };
    relation: RelationType;
    to: { type: IndicatorType; value: string };
  }[];
}

/** The STIX id of the hub's aggregated indicator for (type, value): stable across recomputations. */
export function aggregateIndicatorId(type: string, value: string): string {
  return fedintelId('indicator', `hub|${type}|${value}`);
}

/**
 * The STIX objects of one hub aggregate: an indicator created by the hub identity, with the
 * aggregate's strictest TLP and handling, combined confidence, countries and source count in the
 * `fedintel-record` extension, and its observable. `modified` is when the hub last changed it
 * (the caller's clock: libs/interop reads none).
 */
export function aggregateToStixObjects(a: AggregateInput, modified: string): StixObject[] {
  const refs = [TLP2_MARKING_IDS[a.tlp]];
  const handling = handlingMarkingDefinition(a.handling);
  if (handling) refs.push(handling.id as string);
  const created = a.firstSeen < modified ? a.firstSeen : modified;
  const obs = observableOf({
    type: a.type,
    value: a.value,
    ...(a.subtype ? { subtype: a.subtype as never } : {}),
    ...(a.chain ? { chain: a.chain } : {}),
  });
  const id = aggregateIndicatorId(a.type, a.value);
  const common = {
    spec_version: '2.1',
    created,
    modified,
    created_by_ref: memberIdentityId('hub'),
    object_marking_refs: refs,
  };
  const out: StixObject[] = [];
  if (handling) out.push(handling as StixObject);
  if (!obs.sco) {
    // A named IPTV service: no detectable pattern.
    out.push({
      type: 'infrastructure',
      id: fedintelId('infrastructure', `hub|${a.type}|${a.value}`),
      ...common,
      name: a.value,
      infrastructure_types: ['unknown'],
      confidence: a.confidence,
    });
    return out;
  }
  const indicator: StixObject = {
    type: 'indicator',
    id,
    ...common,
    name: `${TYPE_LABEL[a.type]}: ${a.value}`.slice(0, 250),
    description: `Reported by ${a.sources.length} record(s) from ${a.countries.map((c) => c.country).join(', ')}`,
    indicator_types: ['malicious-activity'],
    pattern: `[${obs.comparisons.map(([p, v]) => `${p} = ${patternString(v)}`).join(' AND ')}]`,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: a.firstSeen,
    ...(a.nextExpiry > a.firstSeen ? { valid_until: a.nextExpiry } : {}),
    confidence: a.confidence,
    ...(a.categories.length > 0 ? { labels: a.categories.map((c) => `content:${c}`) } : {}),
    external_references: [
      { source_name: 'fedintel', external_id: `hub/${a.type}/${a.value}`.slice(0, 250) },
    ],
  };
  out.push(indicator, obs.sco, {
    type: 'relationship',
    id: fedintelId('relationship', `hub|${a.type}|${a.value}|based-on|${obs.sco.id}`),
    ...common,
    relationship_type: 'based-on',
    source_ref: id,
    target_ref: obs.sco.id,
  });
  return out;
}

/**
 * An operator network as a STIX `intrusion-set` (resources believed to be run by one operator),
 * each member's aggregated indicator `indicates` it, plus one relationship per piece of evidence.
 * (`grouping` would fit too, but the OASIS bundle schema does not list it.) Markings: the strictest TLP
 * and handling among its members, given by the caller (`markingOf` of each member key).
 */
export function networkToStixObjects(
  n: NetworkInput,
  modified: string,
  tlpOf: (type: string, value: string) => Tlp,
): StixObject[] {
  const tlp = n.members.reduce<Tlp>((acc, m) => stricterTlp(acc, tlpOf(m.type, m.value)), 'CLEAR');
  const common = {
    spec_version: '2.1',
    created: modified,
    modified,
    created_by_ref: memberIdentityId('hub'),
    object_marking_refs: [TLP2_MARKING_IDS[tlp]],
  };
  const ref = (k: { type: string; value: string }) =>
    k.type === 'iptv-service' && !/^https?:\/\//.test(k.value)
      ? fedintelId('infrastructure', `hub|${k.type}|${k.value}`)
      : aggregateIndicatorId(k.type, k.value);
  const setId = fedintelId('intrusion-set', `hub|network|${n.id}`);
  const out: StixObject[] = [
    {
      type: 'intrusion-set',
      id: setId,
      ...common,
      name: `Operator network ${n.id} (${n.countries.join(', ')})`,
      description: `${n.members.length} indicators linked by ${n.evidence.length} relation(s) reported across ${n.countries.join(', ')}`,
      external_references: [{ source_name: 'fedintel', external_id: `network/${n.id}` }],
    },
  ];
  for (const m of n.members) {
    const from = ref(m);
    out.push({
      type: 'relationship',
      id: fedintelId('relationship', `hub|network|${n.id}|${m.type}|${m.value}`),
      ...common,
      relationship_type: from.startsWith('indicator--') ? 'indicates' : 'related-to',
      source_ref: from,
      target_ref: setId,
    });
  }
  for (const e of n.evidence) {
    out.push({
      type: 'relationship',
      id: fedintelId(
        'relationship',
        `hub|${e.from.type}|${e.from.value}|${e.relation}|${e.to.type}|${e.to.value}`,
      ),
      ...common,
      relationship_type: e.relation,
      source_ref: ref(e.from),
      target_ref: ref(e.to),
    });
  }
  return out;
}
