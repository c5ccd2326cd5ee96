import type { IndicatorRecord, Relation } from '../../protocol/src/index.js';
import { fedintelId, scoId, uuidv5, FEDINTEL_STIX_NAMESPACE } from './ids.js';
import { handlingMarkingDefinition, tlpMarkingDefinition, TLP2_MARKING_IDS } from './markings.js';

export type StixObject = Record<string, unknown> & {
  type: string;
  id: string;
  created?: string;
  modified?: string;
};

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

/** Fixed creation time of the objects FedIntel defines once (identities, extension definitions). */
const DEFINED_AT = '2026-01-01T00:00:00.000Z';

/** The identity that defines FedIntel's STIX extensions. */
export const FEDINTEL_IDENTITY_ID = fedintelId('identity', 'fedintel');

/** Extension definition of the `payment-account` cyber observable (STIX has none). */
export const PAYMENT_ACCOUNT_EXTENSION_ID = fedintelId('extension-definition', 'payment-account');

/** Property extension carrying the FedIntel record fields STIX has no property for. */
export const FEDINTEL_RECORD_EXTENSION_ID = fedintelId('extension-definition', 'fedintel-record');

/** The identity of a member agency (`created_by_ref` of what it originated). */
export function memberIdentityId(origin: string): string {
  return fedintelId('identity', `member|${origin}`);
}

/** The STIX indicator id of a record: the same for every version, so re-exports update. */
export function indicatorIdOf(origin: string, recordId: string): string {
  return fedintelId('indicator', `${origin}/${recordId}`);
}

function fedintelIdentity(): StixObject {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: FEDINTEL_IDENTITY_ID,
    created: DEFINED_AT,
    modified: DEFINED_AT,
    name: 'FedIntel',
    description: 'Federated intelligence sharing network against online piracy (schema owner).',
    identity_class: 'system',
  };
}

export function memberIdentity(origin: string): StixObject {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: memberIdentityId(origin),
    created: DEFINED_AT,
    modified: DEFINED_AT,
    name: origin === 'hub' ? 'FedIntel hub' : `FedIntel member ${origin}`,
    identity_class: 'organization',
    external_references: [{ source_name: 'fedintel', external_id: `member:${origin}` }],
  };
}

/**
 * The extension definitions FedIntel's objects reference, with the identity that defines them.
 * They are published (docs/interop.md, TAXII collection `fedintel-definitions`) rather than
 * embedded in every bundle: the OASIS bundle schema validates a custom SDO against both its
 * "core" and "cyber observable core" branches of a `oneOf`, so any bundle embedding one fails
 * validation (ADR 0030).
 */
export function fedintelDefinitions(): StixObject[] {
  return [fedintelIdentity(), recordExtensionDefinition(), paymentAccountExtensionDefinition()];
}

function paymentAccountExtensionDefinition(): StixObject {
  return {
    type: 'extension-definition',
    spec_version: '2.1',
    id: PAYMENT_ACCOUNT_EXTENSION_ID,
    created_by_ref: FEDINTEL_IDENTITY_ID,
    created: DEFINED_AT,
    modified: DEFINED_AT,
    name: 'payment-account',
    description:
      'A payment account that receives money: account_type iban, bank-account ("CC:digits"), ' +
      'card-merchant (merchant id), e-wallet ("provider:account") or crypto-address (with chain). ' +
      'value is in FedIntel canonical form.',
    schema: 'https://github.com/fedintel/fedintel/blob/main/docs/interop.md#payment-account',
    version: '1.0.0',
    extension_types: ['new-sco'],
  };
}

function recordExtensionDefinition(): StixObject {
  return {
    type: 'extension-definition',
    spec_version: '2.1',
    id: FEDINTEL_RECORD_EXTENSION_ID,
    created_by_ref: FEDINTEL_IDENTITY_ID,
    created: DEFINED_AT,
    modified: DEFINED_AT,
    name: 'fedintel-record',
    description:
      'FedIntel record fields without a STIX property: origin, record_id, version, ' +
      'indicator_type, subtype, chain, reliability (A/B/C/X), accuracy (1-4), handling_code ' +
      '(H0-H3), handling_conditions, categories.',
    schema: 'https://github.com/fedintel/fedintel/blob/main/docs/interop.md#fedintel-record',
    version: '1.0.0',
    extension_types: ['property-extension'],
  };
}

/** STIX pattern string literal: backslash and quote escaped (STIX 2.1 patterning §9.3). */
export function patternString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface Observable {
  sco?: StixObject;
  /** Comparison expressions ANDed inside one observation expression. */
  comparisons: [string, string][];
  /** For named IPTV services, which have no observable: an infrastructure object instead. */
  infrastructure?: boolean;
}

export function observableOf(
  r: Pick<IndicatorRecord, 'type' | 'value' | 'subtype' | 'chain'>,
): Observable {
  const one = (type: string, props: Record<string, string>, path: string): Observable => ({
    sco: { type, spec_version: '2.1', id: scoId(type, props), ...props },
    comparisons: Object.entries(props).map(([k, v]) => [`${path}:${k}`, v]),
  });
  switch (r.type) {
    case 'domain':
      return one('domain-name', { value: r.value }, 'domain-name');
    case 'url':
      return one('url', { value: r.value }, 'url');
    case 'ip':
      return r.value.includes(':')
        ? one('ipv6-addr', { value: r.value }, 'ipv6-addr')
        : one('ipv4-addr', { value: r.value }, 'ipv4-addr');
    case 'iptv-service':
      return /^https?:\/\//.test(r.value)
        ? one('url', { value: r.value }, 'url')
        : { comparisons: [], infrastructure: true };
    case 'operator-alias': {
      if (r.subtype === 'email') return one('email-addr', { value: r.value }, 'email-addr');
      if (r.subtype === 'messenger-id') {
        const colon = r.value.indexOf(':');
        return one(
          'user-account',
          { account_type: r.value.slice(0, colon), user_id: r.value.slice(colon + 1) },
          'user-account',
        );
      }
      return one('user-account', { account_login: r.value }, 'user-account');
    }
    case 'payment-account': {
      const props: Record<string, string> = { account_type: r.subtype ?? 'unknown' };
      if (r.chain !== undefined) props.chain = r.chain;
      props.value = r.value;
      const o = one('payment-account', props, 'payment-account');
      o.sco!.extensions = { [PAYMENT_ACCOUNT_EXTENSION_ID]: { extension_type: 'new-sco' } };
      return o;
    }
  }
}

export const TYPE_LABEL: Record<IndicatorRecord['type'], string> = {
  domain: 'Piracy domain',
  url: 'Piracy URL',
  ip: 'Piracy server IP',
  'payment-account': 'Payment account',
  'operator-alias': 'Operator alias',
  'iptv-service': 'Illegal IPTV service',
};

/** `valid_until` must be after `valid_from` (STIX 2.1 §4.7). */
function laterThan(a: string, b: string): boolean {
  return a > b;
}

/**
 * The STIX objects of one record version: the indicator (or, for a named IPTV service, an
 * infrastructure object), its observable, a `based-on` relationship, one relationship per record
 * relation, and the markings and identities they reference. Ids are deterministic (ADR 0030): the
 * same record exports to the same ids, and a later version to a later `modified`.
 */
export function recordToStixObjects(r: IndicatorRecord): StixObject[] {
  const created = r.firstSeen < r.issuedAt ? r.firstSeen : r.issuedAt;
  const modified = r.issuedAt;
  const markingRefs = [TLP2_MARKING_IDS[r.tlp]];
  const handling = handlingMarkingDefinition(r.handling);
  if (handling) markingRefs.push(handling.id as string);
  const common = {
    spec_version: '2.1',
    created,
    modified,
    created_by_ref: memberIdentityId(r.origin),
    object_marking_refs: markingRefs,
  };
  const ext: Record<string, unknown> = {
    extension_type: 'property-extension',
    origin: r.origin,
    record_id: r.id,
    version: r.version,
    indicator_type: r.type,
    reliability: r.reliability,
    accuracy: r.accuracy,
    handling_code: r.handling.code,
  };
  // STIX forbids empty lists: no categories, no property.
  if (r.categories.length > 0) ext.categories = r.categories;
  if (r.subtype !== undefined) ext.subtype = r.subtype;
  if (r.chain !== undefined) ext.chain = r.chain;
  if (r.handling.conditions !== undefined) ext.handling_conditions = r.handling.conditions;

  const out: StixObject[] = [memberIdentity(r.origin), tlpMarkingDefinition(r.tlp) as StixObject];
  if (handling) out.push(handling as StixObject);
  const obs = observableOf(r);
  const mainId = obs.infrastructure
    ? fedintelId('infrastructure', `${r.origin}/${r.id}`)
    : indicatorIdOf(r.origin, r.id);
  const main: StixObject = obs.infrastructure
    ? {
        type: 'infrastructure',
        id: mainId,
        ...common,
        name: r.value,
        infrastructure_types: ['unknown'],
      }
    : {
        type: 'indicator',
        id: mainId,
        ...common,
        name: `${TYPE_LABEL[r.type]}: ${r.value}`.slice(0, 250),
        indicator_types: ['malicious-activity'],
        pattern: `[${obs.comparisons.map(([p, v]) => `${p} = ${patternString(v)}`).join(' AND ')}]`,
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: r.firstSeen,
      };
  if (!obs.infrastructure && laterThan(r.validUntil, r.firstSeen)) main.valid_until = r.validUntil;
  main.confidence = r.confidence;
  if (r.categories.length > 0) main.labels = r.categories.map((c) => `content:${c}`);
  if (r.sharedNote !== undefined) main.description = r.sharedNote;
  if (r.status === 'retracted') main.revoked = true;
  main.external_references = [{ source_name: 'fedintel', external_id: `${r.origin}/${r.id}` }];
  main.extensions = { [FEDINTEL_RECORD_EXTENSION_ID]: ext };
  out.push(main);

  if (obs.sco) {
    out.push(obs.sco);
    out.push({
      type: 'relationship',
      id: fedintelId('relationship', `${r.origin}/${r.id}|based-on|${obs.sco.id}`),
      ...common,
      relationship_type: 'based-on',
      source_ref: mainId,
      target_ref: obs.sco.id,
      ...(r.status === 'retracted' ? { revoked: true } : {}),
    });
  }
  for (const rel of r.relations) out.push(relationOf(r, rel, mainId, common));
  return out;
}

function relationOf(
  r: IndicatorRecord,
  rel: Relation,
  sourceRef: string,
  common: Record<string, unknown>,
): StixObject {
  return {
    type: 'relationship',
    id: fedintelId(
      'relationship',
      `${r.origin}/${r.id}|${rel.type}|${rel.targetOrigin}/${rel.target}`,
    ),
    ...common,
    relationship_type: rel.type,
    source_ref: sourceRef,
    target_ref: indicatorIdOf(rel.targetOrigin, rel.target),
    ...(r.status === 'retracted' ? { revoked: true } : {}),
  };
}

/**
 * A STIX 2.1 bundle of records (and any extra objects, e.g. a hub's aggregates), each object once.
 * The bundle id is derived from the ids and versions it holds, so the same export has the same id.
 */
export function toStixBundle(
  records: readonly IndicatorRecord[],
  extra: StixObject[] = [],
): StixBundle {
  const byId = new Map<string, StixObject>();
  for (const o of [...records.flatMap(recordToStixObjects), ...extra]) {
    const prev = byId.get(o.id);
    // Two versions of one object in one bundle: keep the latest.
    if (!prev || (o.modified ?? '') > (prev.modified ?? '')) byId.set(o.id, o);
  }
  const objects = [...byId.values()];
  const key = objects.map((o) => `${o.id}@${o.modified ?? o.created ?? ''}`).join('\n');
  return { type: 'bundle', id: `bundle--${uuidv5(key, FEDINTEL_STIX_NAMESPACE)}`, objects };
}
