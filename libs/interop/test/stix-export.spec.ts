import { describe, expect, it } from '@jest/globals';
import {
  TLP2_EXTENSION_ID,
  TLP2_MARKING_IDS,
  fedintelDefinitions,
  indicatorIdOf,
  recordToStixObjects,
  toStixBundle,
  uuidv5,
} from '../src/index.js';
import { everyKind, makeRecord } from './records.js';
import { stixSchemaErrors } from './stix-validator.js';

describe('STIX 2.1 export', () => {
  it('computes RFC 9562 UUIDv5 (the DNS namespace example)', () => {
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('exports every indicator type to a bundle that validates against the OASIS schemas', () => {
    const bundle = toStixBundle(everyKind());
    expect(stixSchemaErrors(bundle)).toEqual([]);
    const types = new Set(bundle.objects.map((o) => o.type));
    for (const t of [
      'indicator',
      'infrastructure',
      'domain-name',
      'url',
      'ipv4-addr',
      'ipv6-addr',
      'email-addr',
      'user-account',
      'payment-account',
      'relationship',
      'marking-definition',
      'identity',
    ]) {
      expect(types).toContain(t);
    }
  });

  it('publishes the extension definitions it uses, each valid against its schema', () => {
    const defs = fedintelDefinitions();
    expect(stixSchemaErrors({ objects: defs })).toEqual([]);
    const used = new Set(
      toStixBundle(everyKind()).objects.flatMap((o) =>
        Object.keys((o.extensions as Record<string, unknown> | undefined) ?? {}),
      ),
    );
    for (const id of used) {
      if (id !== TLP2_EXTENSION_ID) expect(defs.map((d) => d.id)).toContain(id);
    }
  });

  it('a schema violation is caught by the validator (the test can fail)', () => {
    const bundle = toStixBundle([makeRecord()]);
    const indicator = bundle.objects.find((o) => o.type === 'indicator')!;
    delete indicator.pattern;
    expect(stixSchemaErrors(bundle).join()).toContain(indicator.id);
  });

  it('re-exporting a later version keeps the ids and moves modified forward', () => {
    const v1 = makeRecord({ id: '11111111-2222-4333-8444-555555555555' });
    const v2 = makeRecord({
      ...v1,
      version: 2,
      confidence: 90,
      issuedAt: '2026-11-29T00:00:00.000Z',
    });
    const a = recordToStixObjects(v1);
    const b = recordToStixObjects(v2);
    expect(b.map((o) => o.id)).toEqual(a.map((o) => o.id));
    const ia = a.find((o) => o.type === 'indicator')!;
    const ib = b.find((o) => o.type === 'indicator')!;
    expect(ib.id).toBe(indicatorIdOf('kr', v1.id));
    expect(ib.created).toBe(ia.created);
    expect(String(ib.modified) > String(ia.modified)).toBe(true);
  });

  it('marks each object with the official TLP 2.0 marking and the handling statement', () => {
    const r = makeRecord({ tlp: 'AMBER+STRICT', handling: { code: 'H2' } });
    const objects = recordToStixObjects(r);
    const ind = objects.find((o) => o.type === 'indicator')!;
    const refs = ind.object_marking_refs as string[];
    expect(refs[0]).toBe(TLP2_MARKING_IDS['AMBER+STRICT']);
    const statement = objects.find((o) => o.id === refs[1])!;
    expect(JSON.stringify(statement.definition)).toContain('no onward dissemination');
  });

  it('escapes quotes and backslashes in patterns', () => {
    const r = makeRecord({ type: 'operator-alias', subtype: 'handle', value: "o'neil\\x" });
    const ind = recordToStixObjects(r).find((o) => o.type === 'indicator')!;
    expect(ind.pattern).toBe("[user-account:account_login = 'o\\'neil\\\\x']");
  });

  it('gives observables the STIX 2.1 deterministic ids (same value, same id, any origin)', () => {
    const a = recordToStixObjects(makeRecord({ origin: 'kr' })).find(
      (o) => o.type === 'domain-name',
    );
    const b = recordToStixObjects(makeRecord({ origin: 'vn' })).find(
      (o) => o.type === 'domain-name',
    );
    expect(a!.id).toBe(b!.id);
  });

  it('a retracted record exports as a revoked indicator', () => {
    const r = makeRecord({ status: 'retracted', version: 2 });
    const ind = recordToStixObjects(r).find((o) => o.type === 'indicator')!;
    expect(ind.revoked).toBe(true);
  });
});
