import { readFileSync } from 'node:fs';
import { PURPOSE_CATEGORIES, isPurpose } from '../../../../libs/audit/src/index.js';
import {
  INDICATOR_TYPES,
  TLP_LEVELS,
  parseStrictJson,
  type IndicatorType,
  type Tlp,
} from '../../../../libs/protocol/src/index.js';
import type { TaxiiAccount } from '../../../../libs/taxii/src/index.js';

/** One TAXII collection of the hub: aggregated indicators or operator networks, filtered. */
export interface HubTaxiiCollection {
  id: string;
  title: string;
  description?: string;
  kind: 'aggregates' | 'networks';
  types?: IndicatorType[];
  /** The most restrictive TLP served (RED never is). */
  maxTlp: Exclude<Tlp, 'RED'>;
  minConfidence: number;
  /** Only indicators reported from at least this many countries (2 = cross-border). */
  minCountries: number;
}

export interface HubTaxiiConfig {
  title: string;
  description?: string;
  apiRoot: string;
  collections: HubTaxiiCollection[];
  accounts: TaxiiAccount[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
type Obj = Record<string, unknown>;

/**
 * The hub's TAXII configuration: the JSON file named by FEDINTEL_HUB_TAXII_CONFIG (format in
 * docs/interop.md, "TAXII on the hub"); undefined when the variable is unset (no TAXII server).
 * Any problem stops start-up with the field named.
 */
export function loadHubTaxiiConfig(
  env: Record<string, string | undefined> = process.env,
): HubTaxiiConfig | undefined {
  const file = env.FEDINTEL_HUB_TAXII_CONFIG;
  if (file === undefined || file === '') return undefined;
  const fail = (field: string, why: string): never => {
    throw new Error(`FEDINTEL_HUB_TAXII_CONFIG (${file}): ${field}: ${why}`);
  };
  let doc: Obj;
  try {
    doc = (parseStrictJson(readFileSync(file, 'utf8')) ?? {}) as Obj;
  } catch (e) {
    return fail('file', `cannot be read as JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  for (const k of Object.keys(doc)) {
    if (!['title', 'description', 'apiRoot', 'collections', 'accounts'].includes(k))
      fail(k, 'unknown key');
  }
  const cols = Array.isArray(doc.collections)
    ? (doc.collections as Obj[])
    : fail('collections', 'must be an array');
  const collections = cols.map((c, i): HubTaxiiCollection => {
    const f = `collections[${i}]`;
    for (const k of Object.keys(c ?? {})) {
      if (
        ![
          'id',
          'title',
          'description',
          'kind',
          'types',
          'maxTlp',
          'minConfidence',
          'minCountries',
        ].includes(k)
      ) {
        fail(`${f}.${k}`, 'unknown key');
      }
    }
    if (typeof c.id !== 'string' || !UUID.test(c.id)) fail(`${f}.id`, 'must be a lower-case UUID');
    if (typeof c.title !== 'string' || c.title === '') fail(`${f}.title`, 'required');
    const kind = c.kind ?? 'aggregates';
    if (kind !== 'aggregates' && kind !== 'networks') fail(`${f}.kind`, 'aggregates or networks');
    const maxTlp = c.maxTlp ?? 'GREEN';
    if (maxTlp === 'RED')
      fail(`${f}.maxTlp`, 'TLP:RED is for named recipients only and never served by TAXII');
    if (!(TLP_LEVELS as readonly unknown[]).includes(maxTlp))
      fail(`${f}.maxTlp`, 'not a TLP level');
    const types = c.types;
    if (
      types !== undefined &&
      (!Array.isArray(types) ||
        types.some((t) => !(INDICATOR_TYPES as readonly unknown[]).includes(t)))
    ) {
      fail(`${f}.types`, 'a list of indicator types');
    }
    const int = (v: unknown, field: string, min: number, max: number, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        fail(field, `an integer ${min}..${max}`);
      return v as number;
    };
    return {
      id: c.id as string,
      title: c.title as string,
      ...(typeof c.description === 'string' ? { description: c.description } : {}),
      kind: kind as HubTaxiiCollection['kind'],
      ...(types ? { types: types as IndicatorType[] } : {}),
      maxTlp: maxTlp as HubTaxiiCollection['maxTlp'],
      minConfidence: int(c.minConfidence, `${f}.minConfidence`, 0, 100, 0),
      minCountries: int(c.minCountries, `${f}.minCountries`, 1, 300, 1),
    };
  });
  const ids = new Set(collections.map((c) => c.id));
  if (ids.size !== collections.length) fail('collections', 'duplicate id');
  const accs = Array.isArray(doc.accounts)
    ? (doc.accounts as Obj[])
    : fail('accounts', 'must be an array');
  const accounts = accs.map((a, i): TaxiiAccount => {
    const f = `accounts[${i}]`;
    for (const k of Object.keys(a ?? {})) {
      if (!['name', 'passwordSha256', 'tokenSha256', 'read', 'purpose'].includes(k))
        fail(`${f}.${k}`, 'unknown key (hub collections are read-only)');
    }
    if (typeof a.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(a.name))
      fail(`${f}.name`, 'invalid');
    for (const k of ['passwordSha256', 'tokenSha256'] as const) {
      if (a[k] !== undefined && (typeof a[k] !== 'string' || !/^[0-9a-f]{64}$/.test(a[k])))
        fail(`${f}.${k}`, 'a SHA-256 hex digest');
    }
    if (a.passwordSha256 === undefined && a.tokenSha256 === undefined)
      fail(f, 'needs passwordSha256 or tokenSha256');
    // Reads are consultations (docs/audit.md): each consumer states why it reads.
    if (!isPurpose(a.purpose))
      fail(`${f}.purpose`, `required: one of ${PURPOSE_CATEGORIES.join(', ')}[:reference]`);
    const read =
      a.read === undefined
        ? []
        : Array.isArray(a.read)
          ? (a.read as unknown[])
          : fail(`${f}.read`, 'must be an array');
    for (const r of read)
      if (typeof r !== 'string' || !ids.has(r))
        fail(`${f}.read`, `unknown collection ${String(r)}`);
    return {
      name: a.name as string,
      ...(a.passwordSha256 !== undefined ? { passwordSha256: a.passwordSha256 as string } : {}),
      ...(a.tokenSha256 !== undefined ? { tokenSha256: a.tokenSha256 as string } : {}),
      read: read as string[],
      write: [],
      purpose: a.purpose as string,
    };
  });
  const apiRoot = doc.apiRoot ?? 'hub';
  if (typeof apiRoot !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(apiRoot))
    fail('apiRoot', 'a lower-case path segment');
  return Object.freeze({
    title: typeof doc.title === 'string' ? doc.title : 'FedIntel hub',
    ...(typeof doc.description === 'string' ? { description: doc.description } : {}),
    apiRoot: apiRoot as string,
    collections,
    accounts,
  });
}
