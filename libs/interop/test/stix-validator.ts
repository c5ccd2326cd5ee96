// Validates STIX 2.1 objects and bundles against the OASIS JSON schemas copied in fixtures/
// (draft 2020-12; `unicodeRegExp: false` because the schemas use non-Unicode regex syntax).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { domainToASCII } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SCHEMA_ROOT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'stix2.1-schemas');
const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

type AjvLike = {
  addSchema(s: unknown): void;
  addFormat(name: string, f: (s: string) => boolean): void;
  getSchema(id: string): ((d: unknown) => boolean) & { errors?: unknown[] | null };
};
// CJS default-export interop under native ESM.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ??
  Ajv2020Module) as new (o: object) => AjvLike;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (a: AjvLike) => void;

let ajv: AjvLike | undefined;

function load(): AjvLike {
  if (ajv) return ajv;
  const a = new Ajv2020({ strict: false, unicodeRegExp: false, allErrors: true });
  addFormats(a);
  a.addFormat('idn-hostname', (s) => domainToASCII(s) !== '');
  for (const dir of ['common', 'sdos', 'sros', 'observables']) {
    for (const f of readdirSync(join(SCHEMA_ROOT, dir))) {
      if (f.endsWith('.json'))
        a.addSchema(JSON.parse(readFileSync(join(SCHEMA_ROOT, dir, f), 'utf8')));
    }
  }
  ajv = a;
  return a;
}

const SPECIFIC: Record<string, string> = {
  indicator: 'sdos/indicator.json',
  identity: 'sdos/identity.json',
  infrastructure: 'sdos/infrastructure.json',
  'intrusion-set': 'sdos/intrusion-set.json',
  relationship: 'sros/relationship.json',
  'marking-definition': 'common/marking-definition.json',
  'extension-definition': 'common/extension-definition.json',
  'domain-name': 'observables/domain-name.json',
  url: 'observables/url.json',
  'ipv4-addr': 'observables/ipv4-addr.json',
  'ipv6-addr': 'observables/ipv6-addr.json',
  'email-addr': 'observables/email-addr.json',
  'user-account': 'observables/user-account.json',
};

/**
 * Errors of a bundle against `common/bundle.json`, and of each object against the schema of its
 * own type (the bundle schema alone lets a malformed object pass through its "custom" branch).
 * Empty when valid.
 */
export function stixSchemaErrors(bundle: { objects?: { type: string; id: string }[] }): string[] {
  const a = load();
  const errors: string[] = [];
  const check = (schema: string, data: unknown, where: string) => {
    const v = a.getSchema(BASE + schema);
    if (!v(data)) errors.push(`${where}: ${JSON.stringify(v.errors?.slice(0, 3))}`);
  };
  if ((bundle as { type?: string }).type === 'bundle')
    check('common/bundle.json', bundle, 'bundle');
  for (const o of bundle.objects ?? []) {
    const s = SPECIFIC[o.type];
    if (s) check(s, o, o.id);
    else if (o.type === 'payment-account') check('common/cyber-observable-core.json', o, o.id);
    else errors.push(`${o.id}: no schema for type ${o.type}`);
  }
  return errors;
}
