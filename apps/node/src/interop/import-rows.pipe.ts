import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { ImportCandidate } from '../../../../libs/interop/src/index.js';
import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELIABILITY,
  TLP_LEVELS,
  isRfc3339Ms,
  type Handling,
} from '../../../../libs/protocol/src/index.js';
import { MAX_IMPORT_ITEMS } from './interop.service.js';

/** Which rows the answer lists: all of them (the default), or only the refused ones. */
export type ImportReportMode = 'all' | 'invalid';

/** An import-rows body once checked: one candidate per row, defaults applied. */
export interface ImportRows {
  candidates: ImportCandidate[];
  dryRun: boolean;
  report: ImportReportMode;
}

/** Fields a row may carry, each also allowed in `defaults` (except `ref` and `value`). */
const SHARED_KEYS = [
  'type',
  'subtype',
  'chain',
  'categories',
  'confidence',
  'tlp',
  'handling',
  'reliability',
  'accuracy',
  'firstSeen',
  'validUntil',
  'sharedNote',
] as const;
const ITEM_KEYS = new Set<string>(['ref', 'value', 'source', ...SHARED_KEYS]);
const DEFAULT_KEYS = new Set<string>(SHARED_KEYS);
const BODY_KEYS = new Set(['items', 'defaults', 'file', 'report', 'dryRun']);
const TYPES = new Set<string>(INDICATOR_TYPES);
const TLPS = new Set<string>(TLP_LEVELS);
const CODES = new Set<string>(HANDLING_CODES);
const RELS = new Set<string>(RELIABILITY);
const CATS = new Set<string>(CONTENT_CATEGORIES);

type Row = Record<string, unknown>;

const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/**
 * Checks of the fields a row shares with `defaults`, each as `[key, test, message]`; a field is
 * checked where it is given (a row or the defaults), and the required ones once more on the row
 * as resolved, so a missing field is named on the row that lacks it.
 */
const CHECKS: readonly [string, (v: unknown) => boolean, string, boolean][] = [
  ['type', (v) => typeof v === 'string' && TYPES.has(v), 'is not an indicator type', true],
  ['subtype', (v) => str(v, 32), 'must be a short string', false],
  ['chain', (v) => v === 'bitcoin' || v === 'ethereum', 'must be bitcoin or ethereum', false],
  [
    'categories',
    (v) =>
      Array.isArray(v) &&
      v.length <= CATS.size &&
      v.every((c) => typeof c === 'string' && CATS.has(c)),
    `must be a list of ${CONTENT_CATEGORIES.join(', ')}`,
    true,
  ],
  [
    'confidence',
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100,
    'must be an integer 0..100',
    true,
  ],
  ['tlp', (v) => typeof v === 'string' && TLPS.has(v), 'is not a TLP level', true],
  [
    'handling',
    (v) =>
      isObj(v) &&
      typeof v.code === 'string' &&
      CODES.has(v.code) &&
      Object.keys(v).every((k) => k === 'code' || k === 'conditions') &&
      (v.conditions === undefined || str(v.conditions, 1000)),
    'must be {code: H0..H3, conditions?}',
    true,
  ],
  ['reliability', (v) => typeof v === 'string' && RELS.has(v), 'must be A, B, C or X', true],
  ['accuracy', (v) => v === 1 || v === 2 || v === 3 || v === 4, 'must be 1..4', true],
  ['firstSeen', isRfc3339Ms, 'must be RFC 3339 UTC ms', false],
  ['validUntil', isRfc3339Ms, 'must be RFC 3339 UTC ms', false],
  ['sharedNote', (v) => str(v, 4000), 'too long', false],
];

/**
 * Shape check of an import-rows body (`fedctl import` sends CSV and list rows through it), in one
 * loop: class-transformer + class-validator spent ~0.3 ms per row (ADR 0035). `ImportItemsDto`
 * documents the same rules in OpenAPI.
 *
 * A row is `{ref, value}` plus any field that differs from `defaults` (a request states what its
 * rows share once: ADR 0054); a row without `defaults` carries every required field, as before.
 * Unknown keys, wrong types and out-of-range values are refused with the path named
 * (`items.3.tlp`, `defaults.confidence`); whether a value is a valid indicator is decided later by
 * libs/protocol, per row. The result is the candidates themselves, built once here.
 */
@Injectable()
export class ImportRowsPipe implements PipeTransform<unknown, ImportRows> {
  transform(body: unknown): ImportRows {
    const errors: string[] = [];
    const fail = (path: string, why: string) => {
      if (errors.length < 20) errors.push(`${path} ${why}`);
    };
    if (!isObj(body)) throw new BadRequestException(['body must be an object']);
    for (const k of Object.keys(body)) {
      if (!BODY_KEYS.has(k)) fail(k, 'is not allowed (property should not exist)');
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') {
      fail('dryRun', 'must be a boolean');
    }
    if (body.report !== undefined && body.report !== 'all' && body.report !== 'invalid') {
      fail('report', 'must be all or invalid');
    }
    if (body.file !== undefined && !str(body.file, 255)) {
      fail('file', 'must be a string of at most 255 characters');
    }
    const d: Row = body.defaults === undefined ? {} : (body.defaults as Row);
    if (!isObj(d)) {
      fail('defaults', 'must be an object');
    } else {
      for (const k of Object.keys(d))
        if (!DEFAULT_KEYS.has(k)) fail(`defaults.${k}`, 'is not allowed');
      for (const [k, ok, why] of CHECKS) {
        if (d[k] !== undefined && !ok(d[k])) fail(`defaults.${k}`, why);
      }
    }
    const items = body.items;
    if (!Array.isArray(items) || items.length < 1 || items.length > MAX_IMPORT_ITEMS) {
      throw new BadRequestException([`items must be an array of 1..${MAX_IMPORT_ITEMS} rows`]);
    }
    if (errors.length > 0) throw new BadRequestException(errors);
    const file = body.file as string | undefined;
    const candidates: ImportCandidate[] = new Array<ImportCandidate>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it: unknown = items[i];
      const p = `items.${i}`;
      if (!isObj(it)) {
        fail(p, 'must be an object');
        continue;
      }
      for (const k in it) if (!ITEM_KEYS.has(k)) fail(`${p}.${k}`, 'is not allowed');
      if (!str(it.ref, 200)) fail(`${p}.ref`, 'must be a string of at most 200 characters');
      if (!str(it.value, 2048)) fail(`${p}.value`, 'must be a string of at most 2048 characters');
      // Indexed, not destructured: destructuring allocates an iterator per check and row.
      for (let j = 0; j < CHECKS.length; j++) {
        const check = CHECKS[j]!;
        const k = check[0];
        const own = it[k];
        const ok = check[1];
        const why = check[2];
        const required = check[3];
        if (own !== undefined) {
          if (!ok(own)) fail(`${p}.${k}`, why);
        } else if (required && d[k] === undefined) {
          fail(`${p}.${k}`, why);
        }
      }
      if (it.source !== undefined && !str(it.source, 1000)) fail(`${p}.source`, 'too long');
      if (errors.length > 0) continue;
      candidates[i] = candidate(it, d, file);
    }
    if (errors.length > 0) throw new BadRequestException(errors);
    return {
      candidates,
      dryRun: body.dryRun === true,
      report: body.report === 'invalid' ? 'invalid' : 'all',
    };
  }
}

/** A checked row with the defaults filled in, as plain data (nothing of the body is kept). */
function candidate(it: Row, d: Row, file: string | undefined): ImportCandidate {
  const pick = (k: string): unknown => (it[k] !== undefined ? it[k] : d[k]);
  const ref = it.ref as string;
  const h = pick('handling') as Handling;
  const c: ImportCandidate = {
    ref,
    type: pick('type') as ImportCandidate['type'],
    value: it.value as string,
    categories: pick('categories') as ImportCandidate['categories'],
    confidence: pick('confidence') as number,
    tlp: pick('tlp') as ImportCandidate['tlp'],
    handling:
      h.conditions === undefined ? { code: h.code } : { code: h.code, conditions: h.conditions },
    reliability: pick('reliability') as ImportCandidate['reliability'],
    accuracy: pick('accuracy') as ImportCandidate['accuracy'],
    local: {
      sources: [
        (it.source as string | undefined) ?? (file !== undefined ? `file:${file}#${ref}` : ref),
      ],
    },
  };
  const subtype = pick('subtype');
  if (subtype !== undefined) c.subtype = subtype as string;
  const chain = pick('chain');
  if (chain !== undefined) c.chain = chain as ImportCandidate['chain'];
  const firstSeen = pick('firstSeen');
  if (firstSeen !== undefined) c.firstSeen = firstSeen as string;
  const validUntil = pick('validUntil');
  if (validUntil !== undefined) c.validUntil = validUntil as string;
  const sharedNote = pick('sharedNote');
  if (sharedNote !== undefined) c.sharedNote = sharedNote as string;
  return c;
}
