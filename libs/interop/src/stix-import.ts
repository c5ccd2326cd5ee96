import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  RELIABILITY,
  isRfc3339Ms,
  normalizeIndicator,
  type Accuracy,
  type ContentCategory,
  type Handling,
  type IndicatorInput,
  type Reliability,
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
import { handlingOfStatement, stricterHandling, stricterTlp, tlpOfMarking } from './markings.js';
import { FEDINTEL_RECORD_EXTENSION_ID } from './stix-export.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Most objects one import may hold (a larger feed is split by the sender or fetched by TAXII). */
export const MAX_STIX_OBJECTS = 20000;

/** STIX types that give context to indicators but are not indicators themselves. */
const CONTEXT_TYPES = new Set(['marking-definition', 'identity', 'extension-definition']);

function fedintelExt(o: Obj): Obj | undefined {
  const exts = isObj(o.extensions) ? o.extensions : undefined;
  const ext = exts?.[FEDINTEL_RECORD_EXTENSION_ID];
  return isObj(ext) ? ext : undefined;
}

/** One `object_path = 'literal'` comparison of a STIX pattern. */
export interface PatternComparison {
  objectType: string;
  property: string;
  value: string;
}

/**
 * Parses the subset of STIX patterning FedIntel can represent: one observation expression of
 * equality comparisons joined by AND (`[t:p = 'v' AND t:p2 = 'w']`) on one object type. Anything
 * else (OR, other operators, qualifiers, several observations) returns an error message: a record
 * holds exactly one value, so a broader pattern cannot be imported without changing its meaning.
 */
export function parseSimplePattern(pattern: string): PatternComparison[] | string {
  const s = pattern.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) return 'not a single observation expression [...]';
  const body = s.slice(1, -1);
  const out: PatternComparison[] = [];
  const re = /\s*([a-z0-9][a-z0-9-]*):([a-z0-9_]+)\s*=\s*'((?:[^'\\]|\\['\\])*)'\s*(AND(?=\s)|$)/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) return 'only equality comparisons joined by AND are supported';
    out.push({
      objectType: m[1]!,
      property: m[2]!,
      value: m[3]!.replace(/\\(['\\])/g, '$1'),
    });
    pos = re.lastIndex;
    if (m[4] === '' && pos < body.length) return 'unexpected text after a comparison';
  }
  if (out.length === 0) return 'empty pattern';
  if (new Set(out.map((c) => c.objectType)).size > 1) {
    return 'comparisons on more than one object type';
  }
  return out;
}

/** What a STIX observable (or a pattern over one) means as a FedIntel indicator. */
function indicatorOfObservable(
  type: string,
  props: Record<string, string>,
): IndicatorInput | string {
  switch (type) {
    case 'domain-name':
      return props.value ? { type: 'domain', value: props.value } : 'domain-name without value';
    case 'url':
      return props.value ? { type: 'url', value: props.value } : 'url without value';
    case 'ipv4-addr':
    case 'ipv6-addr':
      if (!props.value) return `${type} without value`;
      if (props.value.includes('/')) return 'a CIDR range is not a single IP indicator';
      return { type: 'ip', value: props.value };
    case 'email-addr':
      return props.value
        ? { type: 'operator-alias', subtype: 'email', value: props.value }
        : 'email-addr without value';
    case 'user-account':
      if (props.account_type && props.user_id) {
        return {
          type: 'operator-alias',
          subtype: 'messenger-id',
          value: `${props.account_type}:${props.user_id}`,
        };
      }
      if (props.account_login) {
        return { type: 'operator-alias', subtype: 'handle', value: props.account_login };
      }
      if (props.user_id) return { type: 'operator-alias', subtype: 'handle', value: props.user_id };
      return 'user-account without account_login or user_id';
    case 'payment-account':
      if (!props.value || !props.account_type) return 'payment-account without account_type/value';
      return {
        type: 'payment-account',
        subtype: props.account_type,
        value: props.value,
        ...(props.chain ? { chain: props.chain } : {}),
      };
    // OpenCTI's custom observables for the same things.
    case 'cryptocurrency-wallet':
      if (!props.value) return 'cryptocurrency-wallet without value';
      return {
        type: 'payment-account',
        subtype: 'crypto-address',
        value: props.value,
        chain: props.value.startsWith('0x') ? 'ethereum' : 'bitcoin',
      };
    case 'bank-account':
      return props.iban
        ? { type: 'payment-account', subtype: 'iban', value: props.iban }
        : 'bank-account without iban';
    default:
      return `STIX type ${type} has no FedIntel indicator equivalent`;
  }
}

interface MarkingContext {
  /** marking-definition objects found in the bundle, by id. */
  definitions: Map<string, Obj>;
}

/**
 * Resolves an object's markings (object and granular) to the strictest TLP and handling.
 * Returns an error for a marking it cannot interpret: an unknown marking could restrict use in
 * a way FedIntel would then ignore, so the object is refused rather than widened (ADR 0032).
 */
function markingsOf(
  o: Obj,
  ctx: MarkingContext,
  defaults: ImportDefaults,
): { tlp: Tlp; handling: Handling; tlpFound: boolean } | string {
  const refs: string[] = [];
  if (Array.isArray(o.object_marking_refs)) {
    for (const r of o.object_marking_refs) if (typeof r === 'string') refs.push(r);
  }
  if (Array.isArray(o.granular_markings)) {
    for (const g of o.granular_markings) {
      if (isObj(g) && typeof g.marking_ref === 'string') refs.push(g.marking_ref);
      // A granular marking by language (`lang`) restricts nothing we could map.
    }
  }
  let tlp: Tlp | undefined;
  let handling: Handling = defaults.handling;
  for (const ref of refs) {
    const known = tlpOfMarking(ref);
    if (known) {
      tlp = tlp ? stricterTlp(tlp, known) : known;
      continue;
    }
    const def = ctx.definitions.get(ref);
    if (!def) return `marking ${ref} is not TLP and its definition is not in the bundle`;
    const ext = isObj(def.extensions) ? def.extensions : {};
    const tlp2 = Object.values(ext).find((e) => isObj(e) && typeof e.tlp_2_0 === 'string') as
      Obj | undefined;
    if (tlp2) {
      const level = String(tlp2.tlp_2_0).toUpperCase() as Tlp;
      if (!['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'].includes(level)) {
        return `marking ${ref} has an unknown TLP level "${String(tlp2.tlp_2_0)}"`;
      }
      tlp = tlp ? stricterTlp(tlp, level) : level;
      continue;
    }
    const definition = isObj(def.definition) ? def.definition : {};
    if (def.definition_type === 'statement' && typeof definition.statement === 'string') {
      handling = stricterHandling(handling, handlingOfStatement(definition.statement));
      continue;
    }
    if (def.definition_type === 'tlp' && typeof definition.tlp === 'string') {
      const level = { white: 'CLEAR', green: 'GREEN', amber: 'AMBER', red: 'RED' }[
        definition.tlp.toLowerCase()
      ] as Tlp | undefined;
      if (!level) return `marking ${ref} has an unknown TLP 1.0 level "${definition.tlp}"`;
      tlp = tlp ? stricterTlp(tlp, level) : level;
      continue;
    }
    return `marking ${ref} is of a kind FedIntel cannot honour`;
  }
  return { tlp: tlp ?? defaults.tlp, handling, tlpFound: tlp !== undefined };
}

const ISO_Z = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/;

/** STIX timestamps may carry 0..9 fraction digits; records carry exactly 3. */
function toMs(ts: unknown): string | undefined {
  if (typeof ts !== 'string') return undefined;
  const m = ISO_Z.exec(ts);
  if (!m) return undefined;
  const out = `${m[1]}.${((m[2] ?? '.').slice(1) + '000').slice(0, 3)}Z`;
  return isRfc3339Ms(out) ? out : undefined;
}

function categoriesOf(labels: unknown, defaults: ImportDefaults): ContentCategory[] {
  const out = new Set<ContentCategory>(defaults.categories);
  if (Array.isArray(labels)) {
    for (const l of labels) {
      if (typeof l !== 'string') continue;
      const c = l.startsWith('content:') ? l.slice('content:'.length) : l;
      if ((CONTENT_CATEGORIES as readonly string[]).includes(c)) out.add(c as ContentCategory);
    }
  }
  return [...out];
}

/**
 * Reads a STIX 2.1 bundle into candidates for local indicators, with one report entry per
 * object. Indicators with a simple pattern and standalone observables are mapped; an observable
 * that an imported indicator is `based-on` (or whose value it already carries) is reported as
 * covered. Nothing here decides sharing: candidates carry no scope (ADR 0031).
 *
 * @throws {InteropError} `NOT_A_STIX_BUNDLE` when the document is not a bundle at all.
 */
export function importStixBundle(
  doc: unknown,
  defaults: ImportDefaults = DEFAULT_IMPORT_DEFAULTS,
): ImportResult {
  if (!isObj(doc) || doc.type !== 'bundle' || !Array.isArray(doc.objects)) {
    throw new InteropError(
      'NOT_A_STIX_BUNDLE',
      'expected a STIX 2.1 bundle: {"type":"bundle","objects":[...]}',
    );
  }
  if (doc.objects.length > MAX_STIX_OBJECTS) {
    throw new InteropError(
      'TOO_MANY_ROWS',
      `a bundle may hold at most ${MAX_STIX_OBJECTS} objects`,
    );
  }
  const bundleId = str(doc.id) ?? 'bundle';
  const objects = doc.objects as unknown[];
  const ctx: MarkingContext = { definitions: new Map() };
  for (const o of objects) {
    if (isObj(o) && o.type === 'marking-definition' && typeof o.id === 'string') {
      ctx.definitions.set(o.id, o);
    }
  }
  const candidates: ImportCandidate[] = [];
  const report: ImportReportEntry[] = [];
  const coveredScos = new Map<string, string>();
  for (const o of objects) {
    if (isObj(o) && o.type === 'relationship' && o.relationship_type === 'based-on') {
      const src = str(o.source_ref);
      const dst = str(o.target_ref);
      if (src?.startsWith('indicator--') && dst) coveredScos.set(dst, src);
    }
  }
  const seen = new Map<string, string>(); // type|value → ref of the candidate

  const add = (o: Obj, ref: string, kind: string, input: IndicatorInput | string): void => {
    if (typeof input === 'string') {
      report.push({ ref, kind, outcome: 'skipped', code: 'UNMAPPABLE', detail: input });
      return;
    }
    if (o.revoked === true) {
      report.push({
        ref,
        kind,
        outcome: 'skipped',
        code: 'REVOKED',
        detail: 'revoked by its producer',
      });
      return;
    }
    const marks = markingsOf(o, ctx, defaults);
    if (typeof marks === 'string') {
      report.push({ ref, kind, outcome: 'skipped', code: 'UNKNOWN_MARKING', detail: marks });
      return;
    }
    let norm;
    try {
      norm = normalizeIndicator(input);
    } catch (e) {
      report.push({
        ref,
        kind,
        outcome: 'invalid',
        code: (e as { code?: string }).code ?? 'INVALID_VALUE',
        detail: e instanceof Error ? e.message : String(e),
        value: input.value,
      });
      return;
    }
    const key = `${input.type}|${norm.value}`;
    const dup = seen.get(key);
    if (dup) {
      report.push({
        ref,
        kind,
        outcome: 'skipped',
        code: 'DUPLICATE',
        detail: `same value as ${dup}`,
        value: norm.value,
      });
      return;
    }
    seen.set(key, ref);
    const ext = fedintelExt(o) ?? {};
    let handling = marks.handling;
    const hc = str(ext.handling_code);
    if (hc && (HANDLING_CODES as readonly string[]).includes(hc)) {
      const h: Handling =
        hc === 'H3'
          ? { code: 'H3', conditions: str(ext.handling_conditions) ?? 'see originator' }
          : { code: hc as Handling['code'] };
      handling = stricterHandling(handling, h);
    }
    const reliability = (RELIABILITY as readonly string[]).includes(String(ext.reliability))
      ? (ext.reliability as Reliability)
      : defaults.reliability;
    const accuracy = [1, 2, 3, 4].includes(Number(ext.accuracy))
      ? (Number(ext.accuracy) as Accuracy)
      : defaults.accuracy;
    const confidence =
      typeof o.confidence === 'number' &&
      Number.isInteger(o.confidence) &&
      o.confidence >= 0 &&
      o.confidence <= 100
        ? o.confidence
        : defaults.confidence;
    const c: ImportCandidate = {
      ref,
      type: input.type,
      value: norm.value,
      categories: categoriesOf(
        [
          ...(Array.isArray(o.labels) ? (o.labels as unknown[]) : []),
          ...(Array.isArray(ext.categories) ? (ext.categories as unknown[]) : []),
        ],
        defaults,
      ),
      confidence,
      tlp: marks.tlp,
      handling,
      reliability,
      accuracy,
      local: { sources: [`stix:${bundleId}/${ref}`] },
    };
    if (norm.subtype !== undefined) c.subtype = norm.subtype;
    if (norm.chain !== undefined) c.chain = norm.chain;
    const from = toMs(o.valid_from) ?? toMs(o.first_observed);
    const until = toMs(o.valid_until);
    if (from) c.firstSeen = from;
    if (until) c.validUntil = until;
    if (typeof o.description === 'string' && o.description.trim() !== '') {
      c.local.notes = `STIX description: ${o.description.slice(0, 4000)}`;
    }
    candidates.push(c);
    report.push({
      ref,
      kind,
      outcome: 'mapped',
      value: norm.value,
      ...(marks.tlpFound ? {} : { detail: `no TLP marking: ${defaults.tlp} applied` }),
    });
  };

  objects.forEach((raw, i) => {
    if (!isObj(raw) || typeof raw.type !== 'string' || typeof raw.id !== 'string') {
      report.push({
        ref: `objects[${i}]`,
        kind: 'unknown',
        outcome: 'invalid',
        code: 'NOT_A_STIX_OBJECT',
        detail: 'an object needs a type and an id',
      });
      return;
    }
    const o = raw;
    const ref = raw.id;
    const kind = raw.type;
    if (CONTEXT_TYPES.has(kind)) {
      report.push({
        ref,
        kind,
        outcome: 'skipped',
        code: 'CONTEXT',
        detail: 'used to read the other objects, not an indicator',
      });
      return;
    }
    if (kind === 'relationship') {
      report.push({
        ref,
        kind,
        outcome: 'skipped',
        code: 'RELATIONSHIP',
        detail: 'relations are set by an analyst on reviewed indicators',
      });
      return;
    }
    if (kind === 'indicator') {
      const ext = fedintelExt(o);
      if (o.pattern_type !== 'stix' || typeof o.pattern !== 'string') {
        report.push({
          ref,
          kind,
          outcome: 'skipped',
          code: 'UNSUPPORTED_PATTERN',
          detail: `pattern_type ${String(o.pattern_type)} is not stix`,
        });
        return;
      }
      const parsed = parseSimplePattern(o.pattern);
      if (typeof parsed === 'string') {
        report.push({
          ref,
          kind,
          outcome: 'skipped',
          code: 'UNSUPPORTED_PATTERN',
          detail: parsed,
          value: o.pattern.slice(0, 200),
        });
        return;
      }
      const props: Record<string, string> = {};
      for (const c of parsed) props[c.property] = c.value;
      let input = indicatorOfObservable(parsed[0]!.objectType, props);
      // An IPTV service exports as a url pattern; the FedIntel extension restores its type.
      if (
        typeof input !== 'string' &&
        ext?.indicator_type === 'iptv-service' &&
        input.type === 'url'
      ) {
        input = { type: 'iptv-service', value: input.value };
      }
      add(o, ref, kind, input);
      return;
    }
    if (kind === 'infrastructure') {
      const ext = fedintelExt(o);
      if (ext && ext.indicator_type === 'iptv-service' && typeof o.name === 'string') {
        add(o, ref, kind, { type: 'iptv-service', value: o.name });
      } else {
        report.push({
          ref,
          kind,
          outcome: 'skipped',
          code: 'UNMAPPABLE',
          detail: 'only FedIntel IPTV-service infrastructure is imported',
        });
      }
      return;
    }
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) if (typeof v === 'string') props[k] = v;
    const input = indicatorOfObservable(kind, props);
    const coveredBy = coveredScos.get(ref);
    if (typeof input !== 'string' && coveredBy) {
      report.push({
        ref,
        kind,
        outcome: 'skipped',
        code: 'COVERED',
        detail: `observable of ${coveredBy}`,
      });
      return;
    }
    add(o, ref, kind, input);
  });
  return { candidates, report, summary: summarize(report) };
}
