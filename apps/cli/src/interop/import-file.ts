import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import {
  DEFAULT_IMPORT_DEFAULTS,
  InteropError,
  readCsv,
  readList,
  summarize,
  type FileRows,
  type ImportCandidate,
  type ImportDefaults,
  type ImportReportEntry,
} from '../../../../libs/interop/src/index.js';
import {
  CONTENT_CATEGORIES,
  INDICATOR_TYPES,
  RELIABILITY,
  TLP_LEVELS,
  parseStrictJson,
  type ContentCategory,
  type IndicatorType,
} from '../../../../libs/protocol/src/index.js';
import { UsageError } from '../usage-error.js';

export type ImportFormat = 'csv' | 'list' | 'stix' | 'misp';

export interface ImportOptions {
  file: string;
  format: ImportFormat;
  node: string;
  token: string;
  dryRun: boolean;
  defaults: ImportDefaults;
  /** Value type of a plain list. */
  listType: IndicatorType;
  subtype?: string;
  chain?: string;
  /** Rows per request (the node accepts at most 5000). */
  batch: number;
  /** Progress and per-line errors (stderr). */
  err: (text: string) => void;
  /** True when stderr is a terminal: the bar redraws in place. */
  tty: boolean;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Totals of an import, as printed on stdout (and returned to tests). */
export interface ImportTotals {
  read: number;
  created: number;
  existing: number;
  invalid: number;
  skipped: number;
  seconds: number;
  /** Per line/object problems: what was invalid or skipped and why. */
  problems: { ref: string; outcome: string; code?: string; detail?: string; value?: string }[];
}

/** Largest file `fedctl import` reads (it is read into memory). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_JSON_BYTES = 2 * 1024 * 1024;
/** Import requests sent before the oldest is answered. */
const MAX_IN_FLIGHT = 2;
/** Rows in the first request of a file (at most `--batch`). */
const FIRST_BATCH = 500;

export function parseDefaults(o: {
  tlp: string;
  confidence: string;
  reliability: string;
  accuracy: string;
  categories?: string;
}): ImportDefaults {
  const tlp = o.tlp.toUpperCase();
  if (!(TLP_LEVELS as readonly string[]).includes(tlp)) {
    throw new UsageError('--tlp', `one of ${TLP_LEVELS.join(', ')}`);
  }
  const confidence = Number(o.confidence);
  if (!Number.isInteger(confidence) || confidence < 0 || confidence > 100) {
    throw new UsageError('--confidence', 'an integer 0..100');
  }
  const reliability = o.reliability.toUpperCase();
  if (!(RELIABILITY as readonly string[]).includes(reliability)) {
    throw new UsageError('--reliability', `one of ${RELIABILITY.join(', ')}`);
  }
  if (!['1', '2', '3', '4'].includes(o.accuracy)) throw new UsageError('--accuracy', '1..4');
  const categories = (o.categories ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of categories) {
    if (!(CONTENT_CATEGORIES as readonly string[]).includes(c)) {
      throw new UsageError('--categories', `"${c}" is not one of ${CONTENT_CATEGORIES.join(', ')}`);
    }
  }
  return {
    ...DEFAULT_IMPORT_DEFAULTS,
    tlp: tlp as ImportDefaults['tlp'],
    confidence,
    reliability: reliability as ImportDefaults['reliability'],
    accuracy: Number(o.accuracy) as ImportDefaults['accuracy'],
    categories: categories as ContentCategory[],
  };
}

export function parseListType(v: string): IndicatorType {
  if (!(INDICATOR_TYPES as readonly string[]).includes(v)) {
    throw new UsageError('--type', `one of ${INDICATOR_TYPES.join(', ')}`);
  }
  return v as IndicatorType;
}

/** The node's base URL, given as such or as its API URL (`…/api/v1`, as federation.json has it). */
export function nodeBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

function bar(done: number, total: number, rate: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} rows  ${Math.round(rate)} rows/s`;
}

interface NodeImportResponse {
  created: number;
  existing: number;
  invalid: number;
  items: { ref: string; outcome: string; code?: string; detail?: string; value?: string }[];
  mapping?: { report: ImportReportEntry[]; summary: unknown };
}

async function post(o: ImportOptions, path: string, body: string): Promise<NodeImportResponse> {
  const f = o.fetch ?? fetch;
  const url = `${nodeBase(o.node)}${path}`;
  let res: Response;
  try {
    res = await f(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/json' },
      body,
    });
  } catch (cause) {
    throw new Error(`cannot reach the node at ${url}`, { cause });
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 500);
    try {
      const j = JSON.parse(text) as { error?: string; message?: unknown };
      detail = `${j.error ?? res.status}: ${Array.isArray(j.message) ? j.message.join('; ') : String(j.message)}`;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`node refused the import (HTTP ${res.status}) ${detail}`);
  }
  return JSON.parse(text) as NodeImportResponse;
}

/** Fields every row must have: sent once per request as `defaults`, per row only where different. */
const SHARED = ['type', 'confidence', 'tlp', 'reliability', 'accuracy'] as const;
/** Fields a row may lack: never defaulted, sent with the row that has them. */
const OPTIONAL = ['subtype', 'chain', 'firstSeen', 'validUntil', 'sharedNote'] as const;

const sameHandling = (a: ImportCandidate['handling'], b: ImportCandidate['handling']) =>
  a.code === b.code && a.conditions === b.conditions;

/**
 * The body of one `import/rows` request (ADR 0054): what the rows share, taken from the first,
 * is stated once in `defaults`; a row is `{ref, value}` plus what differs; the node names each
 * row's source `file:<file>#<ref>`, and lists only the refused rows in its answer.
 */
export function rowsBody(part: readonly ImportCandidate[], file: string, dryRun: boolean): string {
  const first = part[0]!;
  const defaults: Record<string, unknown> = {
    categories: first.categories,
    handling: first.handling,
  };
  for (const k of SHARED) defaults[k] = first[k];
  const cats = first.categories.join(',');
  const items = part.map((c) => {
    const item: Record<string, unknown> = { ref: c.ref, value: c.value };
    for (const k of SHARED) if (c[k] !== first[k]) item[k] = c[k];
    if (c.categories.join(',') !== cats) item.categories = c.categories;
    if (!sameHandling(c.handling, first.handling)) item.handling = c.handling;
    for (const k of OPTIONAL) if (c[k] !== undefined) item[k] = c[k];
    return item;
  });
  return JSON.stringify({
    defaults,
    file,
    report: 'invalid',
    items,
    ...(dryRun ? { dryRun: true } : {}),
  });
}

/**
 * `fedctl import`: a CSV or plain list is read, validated and normalized here (per-line report),
 * then sent in batches to the node, which stores what it does not hold yet as indicators held for
 * review; a STIX bundle or MISP event is sent whole and mapped by the node.
 */
export async function importFile(o: ImportOptions): Promise<ImportTotals> {
  const now = o.now ?? (() => performance.now());
  const started = now();
  let size: number;
  try {
    size = statSync(o.file).size;
  } catch (cause) {
    throw new UsageError('<file>', `cannot read ${o.file}`, { cause });
  }
  const limit = o.format === 'stix' || o.format === 'misp' ? MAX_JSON_BYTES : MAX_FILE_BYTES;
  if (size > limit) {
    throw new UsageError('<file>', `${o.file} is larger than ${limit} bytes (split it)`);
  }
  const text = readFileSync(o.file, 'utf8');
  const totals: ImportTotals = {
    read: 0,
    created: 0,
    existing: 0,
    invalid: 0,
    skipped: 0,
    seconds: 0,
    problems: [],
  };
  const q = o.dryRun ? '?dryRun=true' : '';
  if (o.format === 'stix' || o.format === 'misp') {
    let doc: unknown;
    try {
      doc = parseStrictJson(text);
    } catch (cause) {
      throw new UsageError('<file>', `${o.file} is not valid JSON`, { cause });
    }
    const d = o.defaults;
    const params = new URLSearchParams({
      tlp: d.tlp,
      confidence: String(d.confidence),
      reliability: d.reliability,
      accuracy: String(d.accuracy),
      ...(o.dryRun ? { dryRun: 'true' } : {}),
    });
    const r = await post(
      o,
      `/api/v1/interop/import/${o.format}?${params.toString()}`,
      JSON.stringify(doc),
    );
    const report = r.mapping?.report ?? [];
    totals.read = report.length;
    totals.created = r.created;
    totals.existing = r.existing;
    totals.invalid = r.invalid + report.filter((e) => e.outcome === 'invalid').length;
    totals.skipped = report.filter((e) => e.outcome === 'skipped').length;
    totals.problems = [
      ...report.filter((e) => e.outcome !== 'mapped'),
      ...r.items.filter((i) => i.outcome === 'invalid'),
    ];
    totals.seconds = (now() - started) / 1000;
    return totals;
  }
  let rows: FileRows;
  try {
    rows =
      o.format === 'csv'
        ? readCsv(text, { ...o.defaults, source: basename(o.file) })
        : readList(text, {
            ...o.defaults,
            listType: o.listType,
            ...(o.subtype ? { subtype: o.subtype } : {}),
            ...(o.chain ? { chain: o.chain } : {}),
            source: basename(o.file),
          });
  } catch (e) {
    if (e instanceof InteropError) throw new UsageError('<file>', e.message, { cause: e });
    throw e;
  }
  totals.read = rows.total;
  // Rows the node refused; listed after the file's own problems, once the file is read.
  const refused: ImportTotals['problems'] = [];
  let done = 0;
  const draw = () => {
    const rate = done / Math.max((now() - started) / 1000, 1e-3);
    o.err(o.tty ? `\r${bar(done, rows.total, rate)}` : `${bar(done, rows.total, rate)}\n`);
  };
  draw();
  // The file is checked a slice (one request) at a time, and up to two requests are in flight:
  // the node stores one slice while the next is read, normalized and sent. Values are unique
  // across the file (FileRows drops repeats), so two requests never race for the same value;
  // results are taken in order.
  const inFlight: { rows: number; response: Promise<NodeImportResponse> }[] = [];
  const take = async (): Promise<void> => {
    const next = inFlight.shift()!;
    let r: NodeImportResponse;
    try {
      r = await next.response;
    } catch (e) {
      await Promise.allSettled(inFlight.map((f) => f.response));
      throw e;
    }
    totals.created += r.created;
    totals.existing += r.existing;
    totals.invalid += r.invalid;
    for (const x of r.items) if (x.outcome === 'invalid') refused.push(x);
    done += next.rows;
    draw();
  };
  const source = basename(o.file);
  while (!rows.done) {
    const before = rows.read;
    // A small first request: the node starts storing while the first full one is read.
    const part = rows.next(before === 0 ? Math.min(o.batch, FIRST_BATCH) : o.batch);
    if (part.length === 0) {
      // Only refused or repeated rows were left: nothing to send for them.
      done += rows.read - before;
      break;
    }
    const response = post(o, `/api/v1/interop/import/rows${q}`, rowsBody(part, source, o.dryRun));
    // Rejections are handled by take(); this only keeps an early one from being "unhandled".
    response.catch(() => undefined);
    inFlight.push({ rows: rows.read - before, response });
    if (inFlight.length >= MAX_IN_FLIGHT) await take();
    // Let the request go out before the next slice is read (reading does not yield).
    else await setImmediate();
  }
  while (inFlight.length > 0) await take();
  const summary = summarize(rows.report);
  totals.invalid += summary.invalid;
  totals.skipped = summary.skipped;
  totals.problems = [...rows.report.filter((e) => e.outcome !== 'mapped'), ...refused];
  if (o.tty) o.err('\n');
  totals.seconds = (now() - started) / 1000;
  return totals;
}

/** `fedctl export`: the node's indicators as STIX, MISP or CSV. */
export async function exportIndicators(o: {
  node: string;
  token: string;
  format: 'csv' | 'stix' | 'misp';
  type?: string;
  since?: string;
  limit?: number;
  /** X-Purpose of the read (the node audits exports as consultations). */
  purpose: string;
  fetch?: typeof fetch;
}): Promise<string> {
  const f = o.fetch ?? fetch;
  const params = new URLSearchParams({ format: o.format });
  if (o.type) params.set('type', parseListType(o.type));
  if (o.since) params.set('since', o.since);
  if (o.limit) params.set('limit', String(o.limit));
  const url = `${nodeBase(o.node)}/api/v1/interop/export?${params.toString()}`;
  let res: Response;
  try {
    res = await f(url, { headers: { Authorization: `Bearer ${o.token}`, 'X-Purpose': o.purpose } });
  } catch (cause) {
    throw new Error(`cannot reach the node at ${url}`, { cause });
  }
  const text = await res.text();
  if (!res.ok)
    throw new Error(`node refused the export (HTTP ${res.status}) ${text.slice(0, 500)}`);
  return text;
}
