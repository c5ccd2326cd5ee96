import { Injectable, Logger } from '@nestjs/common';
import {
  canonicalize,
  evaluateDisclosure,
  normalizeIndicator,
  parseRecord,
  parseStrictJson,
  RecordBatch,
  resolveAddressees,
  toRfc3339Ms,
  type Accuracy,
  type ContentCategory,
  type Handling,
  type IndicatorRecord,
  type IndicatorType,
  type LocalFields,
  type NormalizedIndicator,
  type Relation,
  type Reliability,
  type Tlp,
  uuidv7,
} from '../../../../libs/protocol/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import {
  NodeStore,
  type OwnVersion,
  type OutboxProjection,
  type StoredIndicator,
} from '../persistence/node.store.js';
import { RelayService } from '../sharing/relay.service.js';
import { AuditService, type VersionRef } from '../audit/audit.service.js';
import { IndicatorError } from './indicator.errors.js';
import { canonicalRecordText } from './record-text.js';

/** What an analyst supplies for a new indicator (already shape-validated at the edge). */
export interface IndicatorInput {
  type: IndicatorType;
  value: string;
  subtype?: string;
  chain?: string;
  categories: ContentCategory[];
  confidence: number;
  firstSeen?: string;
  lastSeen?: string;
  validUntil?: string;
  reviewBy?: string;
  tlp: Tlp;
  handling: Handling;
  reliability: Reliability;
  accuracy: Accuracy;
  scope: { addressees: string[] };
  relations?: Relation[];
  sharedNote?: string;
  local?: LocalFields;
}

/** Fields of an update; absent fields keep their value. The value itself never changes. */
export type IndicatorPatch = Partial<Omit<IndicatorInput, 'type' | 'value' | 'subtype' | 'chain'>>;

export interface SharingOutcome {
  recipient: string;
  disclosed: boolean;
  agreementId?: string;
  reason?: string;
  detail?: string;
}

export interface IndicatorView {
  record: IndicatorRecord;
  local: LocalFields | null;
  receivedFrom: string | null;
  updatedAt: string;
}

const DEFAULT_VALIDITY_DAYS = 180;

/** The clock of one request: every record it creates carries the same instants. */
interface Clock {
  nowText: string;
  defaultValidUntil: string;
}

interface Plan {
  outbox: OutboxProjection[];
  outcomes: SharingOutcome[];
}

const NONE: ReadonlyMap<string, string> = new Map();

/** A copy without repeats, in first-seen order (no Set for the one- or two-item lists). */
function distinct<T>(xs: readonly T[]): T[] {
  const out: T[] = [];
  for (const x of xs) if (!out.includes(x)) out.push(x);
  return out;
}

function normalizeOf(input: IndicatorInput): NormalizedIndicator {
  return normalizeIndicator({
    type: input.type,
    value: input.value,
    subtype: input.subtype,
    chain: input.chain,
  });
}

// Inputs may be DTO class instances; the record is built from plain objects only.
function plainHandling(h: Handling): Handling {
  return h.conditions === undefined ? { code: h.code } : { code: h.code, conditions: h.conditions };
}

function view(s: StoredIndicator): IndicatorView {
  return {
    record: parseStrictJson(s.recordText) as IndicatorRecord,
    local: s.local,
    receivedFrom: s.receivedFrom,
    updatedAt: s.updatedAt,
  };
}

/**
 * The analyst's use cases on indicators: create, update, retract, search, read. Each new version
 * is stored with its per-recipient projections in the transactional outbox, in one transaction.
 */
@Injectable()
export class IndicatorsService {
  private readonly log = new Logger(IndicatorsService.name);

  constructor(
    private readonly store: NodeStore,
    private readonly federation: FederationContext,
    private readonly relay: RelayService,
    private readonly audit: AuditService,
  ) {}

  /** One reading of the clock for a whole request: its text and the default end of validity. */
  private clock(now: Date): Clock {
    return {
      nowText: toRfc3339Ms(now),
      defaultValidUntil: toRfc3339Ms(
        new Date(now.getTime() + DEFAULT_VALIDITY_DAYS * 24 * 3600 * 1000),
      ),
    };
  }

  /**
   * The record of a version, validated by libs/protocol (`parseRecord`). The value is normalized
   * once: here, or by the caller, which then passes `normalizeIndicator`'s output as `norm`
   * (imports look values up by their canonical form first); `parseRecord` takes that output
   * instead of normalizing again, and still refuses a record whose value, subtype or chain
   * differ from it.
   */
  private buildRecord(
    input: IndicatorInput,
    base: { id: string; version: number; status: 'active' | 'retracted' },
    clock: Clock,
    norm: NormalizedIndicator = normalizeOf(input),
  ): IndicatorRecord {
    // The value, subtype and chain are normalizeIndicator's output (here or the caller's).
    return parseRecord(this.candidate(input, base, clock, norm), { normalized: norm });
  }

  /** The unvalidated record of an input, for parseRecord or a RecordBatch. */
  private candidate(
    input: IndicatorInput,
    base: { id: string; version: number; status: 'active' | 'retracted' },
    clock: Clock,
    norm: NormalizedIndicator,
  ): Record<string, unknown> {
    const nowText = clock.nowText;
    const candidate: Record<string, unknown> = {
      id: base.id,
      origin: this.federation.memberId,
      version: base.version,
      status: base.status,
      type: input.type,
      value: norm.value,
      categories: distinct(input.categories),
      confidence: input.confidence,
      firstSeen: input.firstSeen ?? nowText,
      lastSeen: input.lastSeen ?? input.firstSeen ?? nowText,
      validUntil: input.validUntil ?? clock.defaultValidUntil,
      tlp: input.tlp,
      handling: plainHandling(input.handling),
      reliability: input.reliability,
      accuracy: input.accuracy,
      scope: { addressees: distinct(input.scope.addressees) },
      relations: (input.relations ?? []).map((r) => ({
        type: r.type,
        target: r.target,
        targetOrigin: r.targetOrigin,
      })),
      issuedAt: nowText,
    };
    if (norm.subtype !== undefined) candidate.subtype = norm.subtype;
    if (norm.chain !== undefined) candidate.chain = norm.chain;
    if (input.reviewBy !== undefined) candidate.reviewBy = input.reviewBy;
    if (input.sharedNote !== undefined) candidate.sharedNote = input.sharedNote;
    return candidate;
  }

  /**
   * Decide every recipient of a version. Recipients of earlier versions that may no longer
   * receive it get a tombstone projection, so nobody keeps a version the origin withdrew.
   */
  private async plan(record: IndicatorRecord, recordText: string, now: Date): Promise<Plan> {
    // A first version has no earlier recipients: skip the look-ups (bulk imports create many).
    if (record.version === 1) return this.planRecipients(record, recordText, now, NONE, NONE);
    const previous = new Map(
      (await this.store.previousRecipients(record.id)).map((p) => [p.addressee, p.agreementId]),
    );
    // What each earlier recipient last got: a withdrawal repeats only what it already saw.
    const lastSent = await this.store.lastProjections(record.id);
    return this.planRecipients(record, recordText, now, previous, lastSent);
  }

  /**
   * The decisions of {@link plan} once the earlier recipients are known: synchronous, so a bulk
   * request plans thousands of first versions without a turn of the event loop each.
   * `recordText` is `canonicalize(record)`; a disclosure without a relation filter is a copy of
   * the record (libs/protocol evaluateDisclosure), so its projection is that same text.
   */
  private planRecipients(
    record: IndicatorRecord,
    recordText: string,
    now: Date,
    previous: ReadonlyMap<string, string>,
    lastSent: ReadonlyMap<string, string>,
  ): Plan {
    const directory = this.federation.directory;
    const outbox: OutboxProjection[] = [];
    const outcomes: SharingOutcome[] = [];
    // Kept at this node only (every import until an analyst widens it): nobody to plan for.
    const only = record.scope.addressees;
    if (previous.size === 0 && only.length === 1 && only[0] === this.federation.memberId) {
      return { outbox, outcomes };
    }
    const withdrawn = (r: string): boolean => {
      const text = lastSent.get(r);
      return (
        text !== undefined && (parseStrictJson(text) as IndicatorRecord).status === 'retracted'
      );
    };
    const candidates = new Set<string>(previous.keys());
    if (record.status === 'active') {
      try {
        for (const r of resolveAddressees(record.scope, directory)) candidates.add(r);
      } catch {
        // An unresolvable scope shows up per recipient below as SCOPE_INVALID.
      }
    }
    candidates.delete(this.federation.memberId);
    if (candidates.size === 0) return { outbox, outcomes };
    for (const recipient of [...candidates].sort()) {
      if (record.status === 'retracted') {
        if (withdrawn(recipient)) {
          outcomes.push({
            recipient,
            disclosed: false,
            reason: 'WITHDRAWN',
            detail: 'withdrawn earlier',
          });
          continue;
        }
        outbox.push({
          addressee: recipient,
          agreementId: previous.get(recipient) ?? 'retraction',
          recordText,
        });
        outcomes.push({ recipient, disclosed: true, agreementId: previous.get(recipient) });
        continue;
      }
      const d = evaluateDisclosure({ record, directory, recipient, now });
      if (d.allowed) {
        outbox.push({ addressee: recipient, agreementId: d.agreementId, recordText });
        outcomes.push({ recipient, disclosed: true, agreementId: d.agreementId });
      } else if (previous.has(recipient) && withdrawn(recipient)) {
        outcomes.push({
          recipient,
          disclosed: false,
          reason: d.reason,
          detail: `${d.detail}; withdrawn earlier`,
        });
      } else if (previous.has(recipient)) {
        // The tombstone carries the content the recipient already holds, never the new version
        // it is no longer allowed to see (new scope, confidence, notes).
        const seen = parseStrictJson(lastSent.get(recipient) ?? recordText) as IndicatorRecord;
        const tombstone = parseRecord({
          ...seen,
          version: record.version,
          status: 'retracted',
          issuedAt: record.issuedAt,
        });
        outbox.push({
          addressee: recipient,
          agreementId: previous.get(recipient) ?? 'withdrawal',
          recordText: canonicalize(tombstone),
        });
        outcomes.push({
          recipient,
          disclosed: false,
          reason: d.reason,
          detail: `${d.detail}; earlier version withdrawn`,
        });
      } else {
        outcomes.push({ recipient, disclosed: false, reason: d.reason, detail: d.detail });
      }
    }
    return { outbox, outcomes };
  }

  async create(
    input: IndicatorInput,
    actor: string,
    now = new Date(),
  ): Promise<{ indicator: IndicatorView; sharing: SharingOutcome[] }> {
    const record = this.buildRecord(
      input,
      { id: uuidv7(now.getTime()), version: 1, status: 'active' },
      this.clock(now),
    );
    return this.persist(record, input.local ?? {}, actor, now);
  }

  /**
   * Bulk create: one transaction for many indicators; returns per-item outcomes. An item that
   * libs/protocol refuses is reported by its index and the others are stored. With
   * `opts.normalized`, `normalizeIndicator`'s output for each input, by index (see buildRecord).
   */
  async createMany(
    inputs: Iterable<IndicatorInput>,
    actor: string,
    now = new Date(),
    opts: { normalized?: readonly NormalizedIndicator[] } = {},
  ): Promise<{ created: number; errors: { index: number; code: string; message: string }[] }> {
    const errors: { index: number; code: string; message: string }[] = [];
    const clock = this.clock(now);
    const ms = now.getTime();
    // Inputs of one request mostly share all but their value: each shape is validated once
    // (ADR 0057).
    const batch = new RecordBatch(canonicalRecordText);
    // What the audit entry names of each stored record: kept small, so that each record, its
    // text and its local fields can be collected as soon as their rows are written (ADR 0064).
    const issued: VersionRef[] = [];
    // Built one at a time as the store writes them, inside its transaction.
    const rows = function* (this: IndicatorsService): Generator<OwnVersion> {
      let index = -1;
      for (const input of inputs) {
        index++;
        let item: OwnVersion;
        try {
          const norm = opts.normalized?.[index] ?? normalizeOf(input);
          const first = { id: uuidv7(ms), version: 1, status: 'active' } as const;
          const { record, text: recordText } = batch.build(
            this.candidate(input, first, clock, norm),
            norm,
          );
          const { outbox } = this.planRecipients(record, recordText, now, NONE, NONE);
          item = {
            record,
            recordText,
            local: input.local ?? {},
            actor,
            now: clock.nowText,
            outbox,
          };
        } catch (e) {
          const code = (e as { code?: string }).code ?? 'INVALID_VALUE';
          errors.push({ index, code, message: e instanceof Error ? e.message : String(e) });
          continue;
        }
        const r = item.record;
        issued.push({ origin: r.origin, id: r.id, version: r.version, status: r.status });
        yield item;
      }
    }.call(this);
    await this.audit.within(
      () => this.audit.versionsIssuedEvents(actor, issued, now),
      (audit) => this.store.saveOwnVersions(rows, audit),
    );
    this.relay.kick();
    return { created: issued.length, errors };
  }

  private async persist(
    record: IndicatorRecord,
    local: LocalFields,
    actor: string,
    now: Date,
  ): Promise<{ indicator: IndicatorView; sharing: SharingOutcome[] }> {
    const recordText = canonicalRecordText(record);
    const { outbox, outcomes } = await this.plan(record, recordText, now);
    const events = this.audit.versionsIssuedEvents(actor, [record], now);
    await this.audit.within(events, (audit) =>
      this.store.saveOwnVersion(
        { record, recordText, local, actor, now: toRfc3339Ms(now), outbox },
        audit,
      ),
    );
    this.relay.kick();
    this.log.debug(`${record.id} v${record.version} queued for ${outbox.length} recipient(s)`);
    return {
      indicator: { record, local, receivedFrom: null, updatedAt: toRfc3339Ms(now) },
      sharing: outcomes,
    };
  }

  private async own(id: string): Promise<{ record: IndicatorRecord; local: LocalFields }> {
    const current = await this.store.getCurrent(this.federation.memberId, id);
    if (!current) throw new IndicatorError('NOT_FOUND', `no own indicator ${id}`);
    return {
      record: parseStrictJson(current.recordText) as IndicatorRecord,
      local: current.local ?? {},
    };
  }

  async update(
    id: string,
    patch: IndicatorPatch,
    actor: string,
    now = new Date(),
  ): Promise<{ indicator: IndicatorView; sharing: SharingOutcome[] }> {
    const { record: prev, local } = await this.own(id);
    if (prev.status === 'retracted') {
      throw new IndicatorError('ALREADY_RETRACTED', `indicator ${id} is retracted`);
    }
    const input: IndicatorInput = {
      type: prev.type,
      value: prev.value,
      subtype: prev.subtype,
      chain: prev.chain,
      categories: patch.categories ?? prev.categories,
      confidence: patch.confidence ?? prev.confidence,
      firstSeen: patch.firstSeen ?? prev.firstSeen,
      lastSeen: patch.lastSeen ?? prev.lastSeen,
      validUntil: patch.validUntil ?? prev.validUntil,
      reviewBy: patch.reviewBy ?? prev.reviewBy,
      tlp: patch.tlp ?? prev.tlp,
      handling: patch.handling ?? prev.handling,
      reliability: patch.reliability ?? prev.reliability,
      accuracy: patch.accuracy ?? prev.accuracy,
      scope: patch.scope ?? prev.scope,
      relations: patch.relations ?? prev.relations,
      sharedNote: patch.sharedNote ?? prev.sharedNote,
    };
    const record = this.buildRecord(
      input,
      { id, version: prev.version + 1, status: 'active' },
      this.clock(now),
    );
    return this.persist(record, { ...local, ...(patch.local ?? {}) }, actor, now);
  }

  /** Retract: a signed tombstone (a new version with status `retracted`) to every earlier recipient. */
  async retract(
    id: string,
    actor: string,
    now = new Date(),
  ): Promise<{ indicator: IndicatorView; sharing: SharingOutcome[] }> {
    const { record: prev, local } = await this.own(id);
    if (prev.status === 'retracted') {
      throw new IndicatorError('ALREADY_RETRACTED', `indicator ${id} is already retracted`);
    }
    const record = parseRecord({
      ...prev,
      version: prev.version + 1,
      status: 'retracted',
      issuedAt: toRfc3339Ms(now),
    });
    return this.persist(record, local, actor, now);
  }

  async search(
    filter: Parameters<NodeStore['search']>[0],
    page: { offset: number; limit: number },
    reader: { actor: string; purpose: string },
  ): Promise<{ total: number; items: IndicatorView[] }> {
    const r = await this.store.search(filter, page);
    const items = r.items.map(view);
    await this.audit.consulted(
      reader.actor,
      reader.purpose,
      items.map((i) => i.record),
      {
        route: 'search',
        filters: Object.keys(filter)
          .filter((k) => filter[k as keyof typeof filter] !== undefined)
          .join(','),
        total: r.total,
      },
    );
    return { total: r.total, items };
  }

  /** One indicator with its provenance: history, signature check, receipt and disclosures. */
  async get(
    origin: string,
    id: string,
    reader: { actor: string; purpose: string },
  ): Promise<{
    indicator: IndicatorView;
    history: {
      version: number;
      recordedAt: string;
      receivedFrom: string | null;
      actor: string | null;
      proof: unknown;
    }[];
    disclosures: Awaited<ReturnType<NodeStore['disclosures']>>;
  }> {
    const current = await this.store.getCurrent(origin, id);
    if (!current) throw new IndicatorError('NOT_FOUND', `no indicator ${origin}/${id}`);
    const history = await this.store.history(origin, id);
    const disclosures = origin === this.federation.memberId ? await this.store.disclosures(id) : [];
    const indicator = view(current);
    await this.audit.consulted(reader.actor, reader.purpose, [indicator.record], { route: 'get' });
    return {
      indicator,
      history: history.map((h) => ({
        version: h.version,
        recordedAt: h.recordedAt,
        receivedFrom: h.receivedFrom,
        actor: h.actor,
        proof: h.proofJson ? (JSON.parse(h.proofJson) as unknown) : null,
      })),
      disclosures,
    };
  }
}
