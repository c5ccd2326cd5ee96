import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELIABILITY,
  TLP_LEVELS,
  isRfc3339Ms,
  normalizeIndicator,
  type Accuracy,
  type ContentCategory,
  type Handling,
  type IndicatorRecord,
  type IndicatorType,
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

/** Columns a FedIntel CSV may have; `type` and `value` are required, the rest default. */
export const CSV_COLUMNS = [
  'type',
  'value',
  'subtype',
  'chain',
  'categories',
  'confidence',
  'tlp',
  'handling',
  'handling_conditions',
  'reliability',
  'accuracy',
  'first_seen',
  'valid_until',
  'shared_note',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/**
 * Splits RFC 4180 CSV text into rows of fields (quoted fields may hold commas, quotes as `""` and
 * line breaks). Each row keeps the 1-based line number it starts on, for error reports.
 */
export function parseCsvRows(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

function oneOf<T extends string>(v: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw new Error(`${name}: "${v}" is not one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** The importing analyst's defaults plus the value type of a plain list. */
export interface FileImportOptions extends ImportDefaults {
  /** Type of every line of a plain list (default `domain`). */
  listType?: IndicatorType;
  subtype?: string;
  chain?: string;
  /** Name of the file, kept in each candidate's local sources. */
  source?: string;
}

function row(
  ref: string,
  cells: Partial<Record<CsvColumn, string>>,
  o: FileImportOptions,
): ImportCandidate {
  const get = (c: CsvColumn) => {
    const v = cells[c]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const type = oneOf(get('type') ?? '', INDICATOR_TYPES, 'type');
  const raw = cells.value ?? '';
  const norm = normalizeIndicator({
    type,
    value: raw,
    subtype: get('subtype'),
    chain: get('chain'),
  });
  const categories = get('categories')
    ? get('categories')!
        .split(/[;|]/)
        .map((c) => oneOf(c.trim(), CONTENT_CATEGORIES, 'categories'))
    : o.categories;
  const confidenceText = get('confidence');
  const confidence = confidenceText === undefined ? o.confidence : Number(confidenceText);
  if (!Number.isInteger(confidence) || confidence < 0 || confidence > 100) {
    throw new Error(`confidence: "${confidenceText}" is not an integer 0..100`);
  }
  const tlp = get('tlp')
    ? oneOf(get('tlp')!.toUpperCase().replace(/^TLP:/, ''), TLP_LEVELS, 'tlp')
    : o.tlp;
  let handling: Handling = o.handling;
  if (get('handling')) {
    const code = oneOf(get('handling')!.toUpperCase(), HANDLING_CODES, 'handling');
    handling = code === 'H3' ? { code, conditions: get('handling_conditions') ?? '' } : { code };
    if (code === 'H3' && !handling.conditions)
      throw new Error('handling_conditions: required for H3');
  }
  const reliability = get('reliability')
    ? oneOf(get('reliability')!.toUpperCase(), RELIABILITY, 'reliability')
    : o.reliability;
  const accuracy = get('accuracy')
    ? (Number(oneOf(get('accuracy')!, ['1', '2', '3', '4'], 'accuracy')) as Accuracy)
    : o.accuracy;
  const c: ImportCandidate = {
    ref,
    type,
    value: norm.value,
    categories: [...new Set<ContentCategory>(categories)],
    confidence,
    tlp,
    handling,
    reliability,
    accuracy,
    local: { sources: [o.source ? `file:${o.source}#${ref}` : ref] },
  };
  if (norm.subtype !== undefined) c.subtype = norm.subtype;
  if (norm.chain !== undefined) c.chain = norm.chain;
  for (const [col, field] of [
    ['first_seen', 'firstSeen'],
    ['valid_until', 'validUntil'],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    if (!isRfc3339Ms(v))
      throw new Error(`${col}: "${String(v)}" is not RFC 3339 UTC with milliseconds`);
    c[field] = v;
  }
  if (get('shared_note')) c.sharedNote = get('shared_note');
  return c;
}

/** One data row of a file before it is checked: where it is (`line <n>`) and its cells. */
interface RawRow {
  ref: string;
  cells: Partial<Record<CsvColumn, string>>;
}

/**
 * A file's rows, checked a slice at a time: {@link FileRows.next} validates and normalizes rows
 * until it holds `n` candidates or the file ends, and drops a value already read earlier in the
 * file (`DUPLICATE`, naming the first line). Every row read gets one entry in `report`, in file
 * order. `fedctl import` sends each slice to the node while it reads the next one, so the node
 * starts storing before the whole file is checked.
 */
export class FileRows {
  /** One entry per row read so far; complete once {@link done}. */
  readonly report: ImportReportEntry[] = [];
  private readonly seen = new Map<string, string>();
  private at = 0;

  /**
   * @param total data rows in the file (blank lines, comments and a CSV header not counted)
   * @param rowAt the data row at an index below `total`, read when its turn comes
   */
  constructor(
    readonly total: number,
    private readonly rowAt: (i: number) => RawRow,
    private readonly o: FileImportOptions,
  ) {}

  /** Rows read so far. */
  get read(): number {
    return this.at;
  }

  get done(): boolean {
    return this.at >= this.total;
  }

  /** The next candidates, at most `n` (fewer only at the end of the file; none once done). */
  next(n: number): ImportCandidate[] {
    const out: ImportCandidate[] = [];
    while (out.length < n && this.at < this.total) {
      const { ref, cells } = this.rowAt(this.at++);
      try {
        const c = row(ref, cells, this.o);
        const key = `${c.type}|${c.value}`;
        const dup = this.seen.get(key);
        if (dup) {
          this.report.push({
            ref,
            kind: 'row',
            outcome: 'skipped',
            code: 'DUPLICATE',
            detail: `same value as ${dup}`,
            value: c.value,
          });
          continue;
        }
        this.seen.set(key, ref);
        out.push(c);
        this.report.push({ ref, kind: 'row', outcome: 'mapped', value: c.value });
      } catch (e) {
        this.report.push({
          ref,
          kind: 'row',
          outcome: 'invalid',
          code: (e as { code?: string }).code ?? 'INVALID_FIELD',
          detail: e instanceof Error ? e.message : String(e),
          value: (cells.value ?? '').slice(0, 200),
        });
      }
    }
    return out;
  }

  /** The whole file at once (what is left of it, if slices were read). */
  all(): ImportResult {
    const candidates = this.next(Number.POSITIVE_INFINITY);
    return { candidates, report: this.report, summary: summarize(this.report) };
  }
}

/**
 * A FedIntel CSV (header row naming columns from {@link CSV_COLUMNS}) → candidates, one report
 * entry per data row (`line <n>`). Unknown or missing required columns refuse the whole file.
 *
 * @throws {InteropError} `BAD_CSV_HEADER`
 */
export function importCsv(
  text: string,
  o: FileImportOptions = { ...DEFAULT_IMPORT_DEFAULTS },
): ImportResult {
  return readCsv(text, o).all();
}

/**
 * {@link importCsv} a slice at a time. The header is checked here, before any row.
 *
 * @throws {InteropError} `BAD_CSV_HEADER`
 */
export function readCsv(
  text: string,
  o: FileImportOptions = { ...DEFAULT_IMPORT_DEFAULTS },
): FileRows {
  const rows = parseCsvRows(text);
  const header = rows.shift();
  if (!header)
    throw new InteropError(
      'BAD_CSV_HEADER',
      'empty file: expected a header row such as "type,value"',
    );
  const cols = header.fields.map((f) => f.trim().toLowerCase());
  for (const c of cols) {
    if (!(CSV_COLUMNS as readonly string[]).includes(c)) {
      throw new InteropError(
        'BAD_CSV_HEADER',
        `unknown column "${c}" (known: ${CSV_COLUMNS.join(', ')})`,
      );
    }
  }
  for (const required of ['type', 'value']) {
    if (!cols.includes(required))
      throw new InteropError('BAD_CSV_HEADER', `missing column "${required}"`);
  }
  return new FileRows(
    rows.length,
    (i) => {
      const r = rows[i]!;
      if (r.fields.length !== cols.length) {
        // Reported by row(): an empty type or value names what is wrong.
        return {
          ref: `line ${r.line}`,
          cells: {
            type: `(${r.fields.length} fields, header has ${cols.length})`,
            value: r.fields.join(','),
          },
        };
      }
      const cells: Partial<Record<CsvColumn, string>> = {};
      cols.forEach((c, j) => (cells[c as CsvColumn] = r.fields[j]));
      return { ref: `line ${r.line}`, cells };
    },
    o,
  );
}

/**
 * A plain list (one value per line; blank lines and `#` comments ignored; hosts-file lines
 * `0.0.0.0 example.com` read as the host) → candidates of `o.listType` (default `domain`).
 */
export function importList(
  text: string,
  o: FileImportOptions = { ...DEFAULT_IMPORT_DEFAULTS },
): ImportResult {
  return readList(text, o).all();
}

/** {@link importList} a slice at a time. */
export function readList(
  text: string,
  o: FileImportOptions = { ...DEFAULT_IMPORT_DEFAULTS },
): FileRows {
  const type = o.listType ?? 'domain';
  const lines = text.split(/\r?\n/);
  // Line numbers (0-based) of the data lines: the rest is read lazily, slice by slice.
  const data: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const v = lines[i]!.trim();
    if (v !== '' && !v.startsWith('#')) data.push(i);
  }
  return new FileRows(
    data.length,
    (k) => {
      const i = data[k]!;
      let v = lines[i]!.trim();
      const hosts = /^(?:0\.0\.0\.0|127\.0\.0\.1)\s+(\S+)$/.exec(v);
      if (hosts && type === 'domain') v = hosts[1]!;
      const cells: Partial<Record<CsvColumn, string>> = { type, value: v };
      if (o.subtype) cells.subtype = o.subtype;
      if (o.chain) cells.chain = o.chain;
      return { ref: `line ${i + 1}`, cells };
    },
    o,
  );
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Records → FedIntel CSV (the same columns {@link importCsv} reads, so an export re-imports). */
export function toCsv(records: readonly IndicatorRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    const cells: Record<CsvColumn, string> = {
      type: r.type,
      value: r.value,
      subtype: r.subtype ?? '',
      chain: r.chain ?? '',
      categories: r.categories.join(';'),
      confidence: String(r.confidence),
      tlp: r.tlp,
      handling: r.handling.code,
      handling_conditions: r.handling.conditions ?? '',
      reliability: r.reliability,
      accuracy: String(r.accuracy),
      first_seen: r.firstSeen,
      valid_until: r.validUntil,
      shared_note: r.sharedNote ?? '',
    };
    lines.push(CSV_COLUMNS.map((c) => csvField(cells[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
