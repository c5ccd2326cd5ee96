import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELIABILITY,
  TLP_LEVELS,
  isRfc3339Ms,
} from '../../../../libs/protocol/src/index.js';
import type { ImportItemDto } from './interop.dto.js';
import { MAX_IMPORT_ITEMS } from './interop.service.js';

export interface ImportRows {
  items: ImportItemDto[];
  dryRun?: boolean;
}

const ITEM_KEYS = new Set([
  'ref',
  'type',
  'value',
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
  'source',
]);
const TYPES = new Set<string>(INDICATOR_TYPES);
const TLPS = new Set<string>(TLP_LEVELS);
const CODES = new Set<string>(HANDLING_CODES);
const RELS = new Set<string>(RELIABILITY);
const CATS = new Set<string>(CONTENT_CATEGORIES);

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Shape check of an import-rows body: the same rules as {@link ImportItemDto} (which documents
 * it in OpenAPI), written as one loop because class-transformer + class-validator spend ~0.3 ms
 * per row — 1.5 s per request of 5000 — which alone capped imports near 3,000 rows/s (ADR 0035).
 * Unknown keys, wrong types and out-of-range values are refused with the path named; whether a
 * value is a valid indicator is decided later by libs/protocol, per row.
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
      if (k !== 'items' && k !== 'dryRun') fail(k, 'is not allowed (property should not exist)');
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') {
      fail('dryRun', 'must be a boolean');
    }
    const items = body.items;
    if (!Array.isArray(items) || items.length < 1 || items.length > MAX_IMPORT_ITEMS) {
      throw new BadRequestException([`items must be an array of 1..${MAX_IMPORT_ITEMS} rows`]);
    }
    const str = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
    items.forEach((it: unknown, i) => {
      const p = `items.${i}`;
      if (!isObj(it)) return fail(p, 'must be an object');
      for (const k of Object.keys(it)) if (!ITEM_KEYS.has(k)) fail(`${p}.${k}`, 'is not allowed');
      if (!str(it.ref, 200)) fail(`${p}.ref`, 'must be a string of at most 200 characters');
      if (typeof it.type !== 'string' || !TYPES.has(it.type))
        fail(`${p}.type`, 'is not an indicator type');
      if (!str(it.value, 2048)) fail(`${p}.value`, 'must be a string of at most 2048 characters');
      if (it.subtype !== undefined && !str(it.subtype, 32))
        fail(`${p}.subtype`, 'must be a short string');
      if (it.chain !== undefined && it.chain !== 'bitcoin' && it.chain !== 'ethereum') {
        fail(`${p}.chain`, 'must be bitcoin or ethereum');
      }
      if (
        !Array.isArray(it.categories) ||
        it.categories.length > CATS.size ||
        !(it.categories as unknown[]).every((c) => typeof c === 'string' && CATS.has(c))
      ) {
        fail(`${p}.categories`, `must be a list of ${CONTENT_CATEGORIES.join(', ')}`);
      }
      const c = it.confidence;
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 100) {
        fail(`${p}.confidence`, 'must be an integer 0..100');
      }
      if (typeof it.tlp !== 'string' || !TLPS.has(it.tlp)) fail(`${p}.tlp`, 'is not a TLP level');
      const h = it.handling;
      if (
        !isObj(h) ||
        typeof h.code !== 'string' ||
        !CODES.has(h.code) ||
        Object.keys(h).some((k) => k !== 'code' && k !== 'conditions') ||
        (h.conditions !== undefined && !str(h.conditions, 1000))
      ) {
        fail(`${p}.handling`, 'must be {code: H0..H3, conditions?}');
      }
      if (typeof it.reliability !== 'string' || !RELS.has(it.reliability)) {
        fail(`${p}.reliability`, 'must be A, B, C or X');
      }
      if (![1, 2, 3, 4].includes(it.accuracy as number)) fail(`${p}.accuracy`, 'must be 1..4');
      for (const k of ['firstSeen', 'validUntil'] as const) {
        if (it[k] !== undefined && !isRfc3339Ms(it[k]))
          fail(`${p}.${k}`, 'must be RFC 3339 UTC ms');
      }
      if (it.sharedNote !== undefined && !str(it.sharedNote, 4000))
        fail(`${p}.sharedNote`, 'too long');
      if (it.source !== undefined && !str(it.source, 1000)) fail(`${p}.source`, 'too long');
    });
    if (errors.length > 0) throw new BadRequestException(errors);
    return body as unknown as ImportRows;
  }
}
