import { Injectable } from '@nestjs/common';
import {
  DEFAULT_IMPORT_DEFAULTS,
  importMispEvent,
  importStixBundle,
  toCsv,
  toMispEvent,
  toStixBundle,
  type ImportCandidate,
  type ImportDefaults,
  type ImportReportEntry,
  type ImportSummary,
} from '../../../../libs/interop/src/index.js';
import {
  normalizeIndicator,
  parseStrictJson,
  toRfc3339Ms,
  type IndicatorRecord,
  type IndicatorType,
  type NormalizedIndicator,
} from '../../../../libs/protocol/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { FederationContext } from '../federation/federation.context.js';
import { NodeStore } from '../persistence/node.store.js';
import { IndicatorsService, type IndicatorInput } from '../indicators/indicators.service.js';

/** Largest number of candidates one import request stores (the bulk endpoint's limit too). */
export const MAX_IMPORT_ITEMS = 5000;

/** What happened to one candidate in the node. */
export interface StoredOutcome {
  ref: string;
  outcome: 'created' | 'existing' | 'would-create' | 'invalid';
  value?: string;
  code?: string;
  detail?: string;
}

export interface ImportResponse {
  dryRun: boolean;
  /** Counts over what reached the node: created (or would be), already held, refused. */
  created: number;
  existing: number;
  invalid: number;
  /** Per object/attribute/line: how the document was mapped (STIX/MISP only). */
  mapping?: { summary: ImportSummary; report: ImportReportEntry[] };
  items: StoredOutcome[];
  /** Where the records wait: nothing is shared until an analyst sets a scope. */
  heldForReview: string;
}

/** The local note of every imported record. */
const HELD_NOTE = 'Imported; held for review (scope: this node only).';

/** A candidate with its canonical value, subtype and chain. */
interface Normalized {
  c: ImportCandidate;
  value: string;
  norm: NormalizedIndicator;
}

export type ExportFormat = 'stix' | 'misp' | 'csv';

/**
 * Imports from STIX, MISP and files into local indicators held for review, and exports. Every
 * import ends in {@link IndicatorsService.createMany}, the same path as the REST bulk endpoint;
 * a value this node already holds as its own indicator of the same type is left as it is, so
 * re-importing a file creates nothing new (ADR 0031).
 */
@Injectable()
export class InteropService {
  constructor(
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    private readonly indicators: IndicatorsService,
    private readonly audit: AuditService,
  ) {}

  private heldNote(): string {
    return `scope [${this.federation.memberId}] only: nothing is shared until an analyst sets a scope (PUT /api/v1/indicators/{id})`;
  }

  async importStix(
    doc: unknown,
    defaults: ImportDefaults | undefined,
    actor: string,
    dryRun: boolean,
  ): Promise<ImportResponse> {
    const r = importStixBundle(doc, defaults ?? DEFAULT_IMPORT_DEFAULTS);
    return this.withMapping(await this.store_(r.candidates, actor, dryRun), r);
  }

  async importMisp(
    doc: unknown,
    defaults: ImportDefaults | undefined,
    actor: string,
    dryRun: boolean,
  ): Promise<ImportResponse> {
    const r = importMispEvent(doc, defaults ?? DEFAULT_IMPORT_DEFAULTS);
    return this.withMapping(await this.store_(r.candidates, actor, dryRun), r);
  }

  /**
   * Candidates already read by `fedctl` from a CSV or list; they are normalized again here. With
   * `report: 'invalid'` the answer lists only the refused rows (the counts cover all of them).
   */
  async importCandidates(
    candidates: ImportCandidate[],
    actor: string,
    dryRun: boolean,
    opts: { report?: 'all' | 'invalid' } = {},
  ): Promise<ImportResponse> {
    return this.store_(candidates, actor, dryRun, opts.report !== 'invalid');
  }

  private withMapping(
    res: ImportResponse,
    r: { summary: ImportSummary; report: ImportReportEntry[] },
  ): ImportResponse {
    return { ...res, mapping: { summary: r.summary, report: r.report } };
  }

  private async store_(
    candidates: ImportCandidate[],
    actor: string,
    dryRun: boolean,
    listAll = true,
  ): Promise<ImportResponse> {
    const me = this.federation.memberId;
    const items: StoredOutcome[] = [];
    let created = 0;
    let existing = 0;
    let invalid = 0;
    const fresh: Normalized[] = [];
    const byType = new Map<IndicatorType, Normalized[]>();
    const seen = new Set<string>();
    for (const c of candidates) {
      let norm: NormalizedIndicator;
      try {
        norm = normalizeIndicator({
          type: c.type,
          value: c.value,
          subtype: c.subtype,
          chain: c.chain,
        });
      } catch (e) {
        invalid++;
        items.push({
          ref: c.ref,
          outcome: 'invalid',
          value: c.value,
          code: (e as { code?: string }).code ?? 'INVALID_VALUE',
          detail: e instanceof Error ? e.message : String(e),
        });
        continue;
      }
      const value = norm.value;
      const key = `${c.type}|${value}`;
      if (seen.has(key)) {
        existing++;
        if (listAll) {
          items.push({
            ref: c.ref,
            outcome: 'existing',
            value,
            detail: 'repeated in this request',
          });
        }
        continue;
      }
      seen.add(key);
      let list = byType.get(c.type);
      if (list === undefined) byType.set(c.type, (list = []));
      list.push({ c, value, norm });
    }
    for (const [type, list] of byType) {
      const held = await this.store.existingValues(
        me,
        type,
        list.map((x) => x.value),
      );
      for (const x of list) {
        if (!held.has(x.value)) fresh.push(x);
        else {
          existing++;
          if (listAll) items.push({ ref: x.c.ref, outcome: 'existing', value: x.value });
        }
      }
    }
    if (!dryRun && fresh.length > 0) {
      // Made one at a time as they are stored (createMany takes any iterable).
      const inputs = function* (this: InteropService): Generator<IndicatorInput> {
        for (const x of fresh) yield this.toInput(x.c, x.norm);
      }.call(this);
      // Values were normalized above (to look them up): createMany does not redo it.
      const { errors } = await this.indicators.createMany(inputs, actor, undefined, {
        normalized: fresh.map((x) => x.norm),
      });
      const failed = new Map(errors.map((e) => [e.index, e]));
      for (let i = 0; i < fresh.length; i++) {
        const x = fresh[i]!;
        const err = failed.get(i);
        if (err) {
          invalid++;
          items.push({
            ref: x.c.ref,
            outcome: 'invalid',
            value: x.value,
            code: err.code,
            detail: err.message,
          });
        } else {
          created++;
          if (listAll) items.push({ ref: x.c.ref, outcome: 'created', value: x.value });
        }
      }
    } else {
      created += fresh.length;
      if (listAll) {
        for (const x of fresh)
          items.push({ ref: x.c.ref, outcome: 'would-create', value: x.value });
      }
    }
    return { dryRun, created, existing, invalid, items, heldForReview: this.heldNote() };
  }

  private toInput(c: ImportCandidate, norm: NormalizedIndicator): IndicatorInput {
    const input: IndicatorInput = {
      type: c.type,
      value: norm.value,
      categories: c.categories,
      confidence: c.confidence,
      tlp: c.tlp,
      handling: c.handling,
      reliability: c.reliability,
      accuracy: c.accuracy,
      // Held for review: addressed to this node only, so the outbox gets nothing (ADR 0031).
      scope: { addressees: [this.federation.memberId] },
      local: {
        sources: c.local.sources.length > 50 ? c.local.sources.slice(0, 50) : c.local.sources,
        notes: c.local.notes ? `${HELD_NOTE}\n${c.local.notes}`.slice(0, 10000) : HELD_NOTE,
      },
    };
    if (norm.subtype !== undefined) input.subtype = norm.subtype;
    if (norm.chain !== undefined) input.chain = norm.chain;
    if (c.firstSeen !== undefined) input.firstSeen = c.firstSeen;
    if (c.validUntil !== undefined) input.validUntil = c.validUntil;
    if (c.sharedNote !== undefined) input.sharedNote = c.sharedNote;
    return input;
  }

  /** Current records, oldest change first, filtered; at most `limit`. */
  async records(q: {
    types?: string[];
    origin?: string;
    since?: string;
    limit: number;
  }): Promise<IndicatorRecord[]> {
    const out: IndicatorRecord[] = [];
    let after: { updatedAt: string; origin: string; recordId: string } | undefined;
    while (out.length < q.limit) {
      const page = await this.store.pageByUpdate({
        after,
        addedAfter: q.since,
        types: q.types,
        origin: q.origin,
        limit: Math.min(1000, q.limit - out.length),
      });
      for (const s of page) out.push(parseStrictJson(s.recordText) as IndicatorRecord);
      const last = page[page.length - 1];
      if (!last || page.length < 1000) break;
      after = { updatedAt: last.updatedAt, origin: last.origin, recordId: last.recordId };
    }
    return out;
  }

  /** Exports are reads: each is audited as a consultation of every record it contains. */
  async export(
    format: ExportFormat,
    q: { types?: string[]; origin?: string; since?: string; limit: number },
    reader: { actor: string; purpose: string },
    now = new Date(),
  ): Promise<{ contentType: string; body: string }> {
    const records = await this.records(q);
    await this.audit.consulted(reader.actor, reader.purpose, records, {
      route: `export-${format}`,
      total: records.length,
    });
    switch (format) {
      case 'stix':
        return {
          contentType: 'application/stix+json;version=2.1',
          body: JSON.stringify(toStixBundle(records)),
        };
      case 'misp':
        return {
          contentType: 'application/json',
          body: JSON.stringify(
            toMispEvent(records, {
              info: `FedIntel ${this.federation.memberId} export ${toRfc3339Ms(now)}`,
              date: toRfc3339Ms(now),
            }),
          ),
        };
      case 'csv':
        return { contentType: 'text/csv; charset=utf-8', body: toCsv(records) };
    }
  }
}
