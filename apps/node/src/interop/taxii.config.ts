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

/** One TAXII collection of the node: a filter over the indicators it holds. */
export interface NodeTaxiiCollection {
  id: string;
  title: string;
  description?: string;
  /** Indicator types served (all when absent). */
  types?: IndicatorType[];
  /** The most restrictive TLP served (RED never is). */
  maxTlp: Exclude<Tlp, 'RED'>;
  minConfidence: number;
  /** Worst information accuracy served (1 confirmed … 4 unconfirmed). */
  maxAccuracy: 1 | 2 | 3 | 4;
  /** `own`: only this node's indicators; `all`: also those received from partners. */
  origins: 'own' | 'all';
  /** POSTed STIX objects are imported as indicators held for review. */
  writable: boolean;
}

export interface NodeTaxiiConfig {
  title: string;
  description?: string;
  discoveryPath: string;
  apiRoot: string;
  /** Entries younger than this are not served yet, so a page never overtakes a commit. */
  settleMs: number;
  collections: NodeTaxiiCollection[];
  accounts: TaxiiAccount[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SEGMENT = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SHA256 = /^[0-9a-f]{64}$/;

type Obj = Record<string, unknown>;

/**
 * Reads and validates the TAXII configuration file named by FEDINTEL_TAXII_CONFIG (format:
 * docs/interop.md, "TAXII on a node"). Any problem stops start-up with the field named.
 */
export function loadTaxiiConfig(file: string): NodeTaxiiConfig {
  const fail = (field: string, why: string): never => {
    throw new Error(`FEDINTEL_TAXII_CONFIG (${file}): ${field}: ${why}`);
  };
  let doc: unknown;
  try {
    doc = parseStrictJson(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail('file', `cannot be read as JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const o = (doc ?? {}) as Obj;
  const known = [
    'title',
    'description',
    'discoveryPath',
    'apiRoot',
    'settleMs',
    'collections',
    'accounts',
  ];
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(k, 'unknown key');
  const str = (v: unknown, field: string, re?: RegExp): string => {
    if (typeof v !== 'string' || v === '' || (re && !re.test(v))) fail(field, 'invalid string');
    return v as string;
  };
  const cols = Array.isArray(o.collections)
    ? (o.collections as unknown[])
    : fail('collections', 'must be an array');
  const collections = cols.map((c, i): NodeTaxiiCollection => {
    const f = `collections[${i}]`;
    const x = (c ?? {}) as Obj;
    const keys = [
      'id',
      'title',
      'description',
      'types',
      'maxTlp',
      'minConfidence',
      'maxAccuracy',
      'origins',
      'writable',
    ];
    for (const k of Object.keys(x)) if (!keys.includes(k)) fail(`${f}.${k}`, 'unknown key');
    const maxTlp = x.maxTlp ?? 'GREEN';
    if (maxTlp === 'RED')
      fail(`${f}.maxTlp`, 'TLP:RED is for named recipients only and never served by TAXII');
    if (!(TLP_LEVELS as readonly unknown[]).includes(maxTlp))
      fail(`${f}.maxTlp`, 'not a TLP level');
    const types =
      x.types === undefined
        ? undefined
        : Array.isArray(x.types)
          ? x.types
          : fail(`${f}.types`, 'must be an array');
    for (const t of types ?? []) {
      if (!(INDICATOR_TYPES as readonly unknown[]).includes(t))
        fail(`${f}.types`, `unknown type ${String(t)}`);
    }
    const minConfidence = x.minConfidence ?? 0;
    if (
      typeof minConfidence !== 'number' ||
      !Number.isInteger(minConfidence) ||
      minConfidence < 0 ||
      minConfidence > 100
    ) {
      fail(`${f}.minConfidence`, 'must be an integer 0..100');
    }
    const maxAccuracy = x.maxAccuracy ?? 4;
    if (![1, 2, 3, 4].includes(maxAccuracy as number)) fail(`${f}.maxAccuracy`, 'must be 1..4');
    const origins = x.origins ?? 'own';
    if (origins !== 'own' && origins !== 'all') fail(`${f}.origins`, 'must be "own" or "all"');
    if (x.writable !== undefined && typeof x.writable !== 'boolean')
      fail(`${f}.writable`, 'must be a boolean');
    return {
      id: str(x.id, `${f}.id`, UUID),
      title: str(x.title, `${f}.title`),
      ...(x.description !== undefined
        ? { description: str(x.description, `${f}.description`) }
        : {}),
      ...(types ? { types: types as IndicatorType[] } : {}),
      maxTlp: maxTlp as NodeTaxiiCollection['maxTlp'],
      minConfidence: minConfidence as number,
      maxAccuracy: maxAccuracy as 1 | 2 | 3 | 4,
      origins: origins as 'own' | 'all',
      writable: x.writable === true,
    };
  });
  const ids = new Set(collections.map((c) => c.id));
  if (ids.size !== collections.length) fail('collections', 'duplicate id');
  const accs = Array.isArray(o.accounts)
    ? (o.accounts as unknown[])
    : fail('accounts', 'must be an array');
  const accounts = accs.map((a, i): TaxiiAccount => {
    const f = `accounts[${i}]`;
    const x = (a ?? {}) as Obj;
    for (const k of Object.keys(x)) {
      if (!['name', 'passwordSha256', 'tokenSha256', 'read', 'write', 'purpose'].includes(k))
        fail(`${f}.${k}`, 'unknown key');
    }
    if (x.passwordSha256 === undefined && x.tokenSha256 === undefined) {
      fail(f, 'needs passwordSha256 or tokenSha256');
    }
    // Reads are consultations (docs/audit.md): each consumer states why it reads.
    if (!isPurpose(x.purpose)) {
      fail(`${f}.purpose`, `required: one of ${PURPOSE_CATEGORIES.join(', ')}[:reference]`);
    }
    const list = (v: unknown, field: string): string[] => {
      const l =
        v === undefined
          ? []
          : Array.isArray(v)
            ? (v as unknown[])
            : fail(field, 'must be an array');
      for (const id of l)
        if (typeof id !== 'string' || !ids.has(id)) fail(field, `unknown collection ${String(id)}`);
      return l as string[];
    };
    const write = list(x.write, `${f}.write`);
    for (const w of write) {
      if (!collections.find((c) => c.id === w)?.writable)
        fail(`${f}.write`, `collection ${w} is not writable`);
    }
    return {
      name: str(x.name, `${f}.name`, /^[A-Za-z0-9._-]{1,64}$/),
      ...(x.passwordSha256 !== undefined
        ? { passwordSha256: str(x.passwordSha256, `${f}.passwordSha256`, SHA256) }
        : {}),
      ...(x.tokenSha256 !== undefined
        ? { tokenSha256: str(x.tokenSha256, `${f}.tokenSha256`, SHA256) }
        : {}),
      read: list(x.read, `${f}.read`),
      write,
      purpose: x.purpose as string,
    };
  });
  if (new Set(accounts.map((a) => a.name)).size !== accounts.length)
    fail('accounts', 'duplicate name');
  const settleMs = o.settleMs ?? 1000;
  if (
    typeof settleMs !== 'number' ||
    !Number.isInteger(settleMs) ||
    settleMs < 0 ||
    settleMs > 60000
  ) {
    fail('settleMs', 'must be an integer 0..60000');
  }
  return Object.freeze({
    title: o.title === undefined ? 'FedIntel node' : str(o.title, 'title'),
    ...(o.description !== undefined ? { description: str(o.description, 'description') } : {}),
    discoveryPath:
      o.discoveryPath === undefined ? 'taxii2' : str(o.discoveryPath, 'discoveryPath', SEGMENT),
    apiRoot: o.apiRoot === undefined ? 'api' : str(o.apiRoot, 'apiRoot', SEGMENT),
    settleMs: settleMs as number,
    collections,
    accounts,
  });
}
