import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELATION_TYPES,
  RELIABILITY,
  TLP_LEVELS,
} from '../../../../libs/protocol/src/index.js';
import {
  ADDRESSEE_PATTERN,
  BULK_MAX_ITEMS,
  MEMBER_ID_PATTERN_DTO,
  RECORD_ID_PATTERN_DTO,
  RFC3339_MS_PATTERN,
} from './indicator.dto.js';
import type { IndicatorInput } from './indicators.service.js';

/** The body of POST /api/v1/indicators/bulk once its shape is checked: plain objects. */
export interface BulkItems {
  items: IndicatorInput[];
}

// A tiny engine with the semantics of the class-validator decorators on CreateIndicatorDto (see
// indicator.dto.ts, which still documents the body in OpenAPI): the same checks, the same
// messages, in the same order, so a client sees what it saw before (ADR 0047).

/**
 * One decorator: a test and its message for `$property`. `each` tests every array element; its
 * default message then starts "each value in" (a custom message is used as it is).
 */
interface Rule {
  ok: (v: unknown) => boolean;
  msg: (property: string) => string;
  each?: boolean;
  custom?: boolean;
}

interface Prop {
  name: string;
  /** @IsOptional(): undefined and null skip every rule. */
  optional?: boolean;
  /** Listed in decorator order, top to bottom (class-validator reports them bottom-up). */
  rules: Rule[];
  /** @ValidateNested() of one object, or of each element (`nestedEach`). */
  nested?: Prop[];
  nestedEach?: boolean;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isString: Rule = { ok: isStr, msg: (p) => `${p} must be a string` };
const isArray: Rule = { ok: Array.isArray, msg: (p) => `${p} must be an array` };
const maxLength = (n: number, each = false): Rule => ({
  ok: (v) => isStr(v) && v.length <= n,
  msg: (p) => `${p} must be shorter than or equal to ${n} characters`,
  each,
});
const arrayMin = (n: number): Rule => ({
  ok: (v) => Array.isArray(v) && v.length >= n,
  msg: (p) => `${p} must contain at least ${n} elements`,
});
const arrayMax = (n: number): Rule => ({
  ok: (v) => Array.isArray(v) && v.length <= n,
  msg: (p) => `${p} must contain no more than ${n} elements`,
});
const isIn = (values: readonly unknown[], each = false): Rule => ({
  ok: (v) => values.includes(v),
  msg: (p) => `${p} must be one of the following values: ${values.join(', ')}`,
  each,
});
const matches = (re: RegExp, message?: string, each = false): Rule => ({
  ok: (v) => isStr(v) && re.test(v),
  msg: (p) => message ?? `${p} must match ${String(re)} regular expression`,
  each,
  custom: message !== undefined,
});
const isInt: Rule = {
  ok: (v) => typeof v === 'number' && Number.isInteger(v),
  msg: (p) => `${p} must be an integer number`,
};
const min = (n: number): Rule => ({
  ok: (v) => typeof v === 'number' && v >= n,
  msg: (p) => `${p} must not be less than ${n}`,
});
const max = (n: number): Rule => ({
  ok: (v) => typeof v === 'number' && v <= n,
  msg: (p) => `${p} must not be greater than ${n}`,
});
const rfc3339 = (name: string): Rule =>
  matches(RFC3339_MS_PATTERN, `${name} must be RFC 3339 UTC with milliseconds`);

const HANDLING: Prop[] = [
  { name: 'code', rules: [isIn(HANDLING_CODES)] },
  { name: 'conditions', optional: true, rules: [isString, maxLength(1000)] },
];
const SCOPE: Prop[] = [
  {
    name: 'addressees',
    rules: [
      isArray,
      arrayMin(1),
      arrayMax(64),
      matches(
        ADDRESSEE_PATTERN,
        'each addressee must be a member id, group:<id>, hub or all',
        true,
      ),
    ],
  },
];
const RELATION: Prop[] = [
  { name: 'type', rules: [isIn(RELATION_TYPES)] },
  { name: 'target', rules: [matches(RECORD_ID_PATTERN_DTO, 'target must be a record id (UUID)')] },
  { name: 'targetOrigin', rules: [matches(MEMBER_ID_PATTERN_DTO)] },
];
const textList = (name: string): Prop => ({
  name,
  optional: true,
  rules: [isArray, arrayMax(50), { ...isString, each: true }, maxLength(1000, true)],
});
const LOCAL: Prop[] = [
  { name: 'caseReference', optional: true, rules: [isString, maxLength(200)] },
  textList('sources'),
  { name: 'notes', optional: true, rules: [isString, maxLength(10000)] },
  textList('evidence'),
];
/** CreateIndicatorDto, in the order class-validator walks it (own fields, then inherited). */
const ITEM: Prop[] = [
  { name: 'type', rules: [isIn(INDICATOR_TYPES)] },
  { name: 'value', rules: [isString, maxLength(2048)] },
  { name: 'subtype', optional: true, rules: [isString, maxLength(32)] },
  { name: 'chain', optional: true, rules: [isString, maxLength(32)] },
  { name: 'categories', rules: [isArray, arrayMax(6), isIn(CONTENT_CATEGORIES, true)] },
  { name: 'confidence', rules: [isInt, min(0), max(100)] },
  { name: 'firstSeen', optional: true, rules: [rfc3339('firstSeen')] },
  { name: 'lastSeen', optional: true, rules: [rfc3339('lastSeen')] },
  { name: 'validUntil', optional: true, rules: [rfc3339('validUntil')] },
  { name: 'reviewBy', optional: true, rules: [rfc3339('reviewBy')] },
  { name: 'tlp', rules: [isIn(TLP_LEVELS)] },
  { name: 'handling', rules: [], nested: HANDLING },
  { name: 'reliability', rules: [isIn(RELIABILITY)] },
  { name: 'accuracy', rules: [isIn([1, 2, 3, 4])] },
  { name: 'scope', rules: [], nested: SCOPE },
  {
    name: 'relations',
    optional: true,
    rules: [isArray, arrayMax(100)],
    nested: RELATION,
    nestedEach: true,
  },
  { name: 'sharedNote', optional: true, rules: [isString, maxLength(4000)] },
  { name: 'local', optional: true, rules: [], nested: LOCAL },
];
const BODY: Prop[] = [
  {
    name: 'items',
    rules: [isArray, arrayMin(1), arrayMax(BULK_MAX_ITEMS)],
    nested: ITEM,
    nestedEach: true,
  },
];

/**
 * Checks `o` against `props` and appends the messages to `out`, each prefixed with the path of
 * its object (`items.3.handling.`), as Nest's ValidationPipe flattens class-validator errors.
 */
function check(o: Record<string, unknown>, props: readonly Prop[], path: string, out: string[]) {
  const prefix = path === '' ? '' : `${path}.`;
  for (const key of Object.keys(o)) {
    if (!props.some((p) => p.name === key)) out.push(`${prefix}property ${key} should not exist`);
  }
  for (const p of props) {
    const v = o[p.name];
    if (p.optional && (v === undefined || v === null)) continue;
    // class-validator reports a property's decorators bottom-up.
    for (let k = p.rules.length - 1; k >= 0; k--) {
      const r = p.rules[k]!;
      const ok = r.each && Array.isArray(v) ? v.every((x) => r.ok(x)) : r.ok(v);
      if (!ok) out.push(`${prefix}${r.each && !r.custom ? 'each value in ' : ''}${r.msg(p.name)}`);
    }
    if (!p.nested) continue;
    const here = `${prefix}${p.name}`;
    if (!p.nestedEach) {
      // A missing or non-object handling/scope/local is refused here; class-validator let an
      // absent one (or an array) through to fail later, per item, with a less clear message.
      if (isObj(v)) check(v, p.nested, here, out);
      else out.push(`${prefix}nested property ${p.name} must be either object or array`);
      continue;
    }
    if (!Array.isArray(v)) {
      if (v !== undefined && (typeof v !== 'object' || v === null)) {
        out.push(`${prefix}each value in nested property ${p.name} must be either object or array`);
      }
      continue;
    }
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (isObj(x)) check(x, p.nested, `${here}.${i}`, out);
      else
        out.push(`${here}.each value in nested property ${p.name} must be either object or array`);
    }
  }
}

/** The messages for a bulk body, empty when it is well-formed (exported for the tests). */
export function bulkBodyErrors(body: unknown): string[] {
  const out: string[] = [];
  check(isObj(body) ? body : {}, BODY, '', out);
  return out;
}

/**
 * Shape check of POST /api/v1/indicators/bulk, instead of the global ValidationPipe (whose
 * class-transformer + class-validator pass over thousands of nested DTOs dominated bulk
 * ingestion): the same rules and messages, on the parsed JSON as it is. Whether a value is a
 * valid indicator is then decided per item by libs/protocol, as before (ADR 0047).
 */
@Injectable()
export class BulkItemsPipe implements PipeTransform<unknown, BulkItems> {
  transform(body: unknown): BulkItems {
    const errors = bulkBodyErrors(body);
    if (errors.length > 0) throw new BadRequestException(errors);
    return body as BulkItems;
  }
}
