import { Injectable, Logger } from '@nestjs/common';
import {
  canonicalize,
  evaluateDisclosure,
  normalizeIndicator,
  parseRecord,
  parseStrictJson,
  resolveAddressees,
  toRfc3339Ms,
  type Accuracy,
  type ContentCategory,
  type Handling,
  type IndicatorRecord,
  type IndicatorType,
  type LocalFields,
  type Relation,
  type Reliability,
  type Tlp,
  uuidv7,
} from '../../../../libs/protocol/src/index.js';
import { FederationContext } from '../federation/federation.context.js';
import {
  NodeStore,
  type OutboxProjection,
  type StoredIndicator,
} from '../persistence/node.store.js';
import { RelayService } from '../sharing/relay.service.js';
import { AuditService } from '../audit/audit.service.js';
import { IndicatorError } from './indicator.errors.js';

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

  private buildRecord(
    input: IndicatorInput,
    base: { id: string; version: number; status: 'active' | 'retracted' },
    now: Date,
  ): IndicatorRecord {
    const norm = normalizeIndicator({
      type: input.type,
      value: input.value,
      subtype: input.subtype,
      chain: input.chain,
    });
    const nowText = toRfc3339Ms(now);
    const validUntil =
      input.validUntil ??
      toRfc3339Ms(new Date(now.getTime() + DEFAULT_VALIDITY_DAYS * 24 * 3600 * 1000));
    const candidate: Record<string, unknown> = {
      id: base.id,
      origin: this.federation.memberId,
      version: base.version,
      status: base.status,
      type: input.type,
      value: norm.value,
      categories: [...new Set(input.categories)],
      confidence: input.confidence,
      firstSeen: input.firstSeen ?? nowText,
      lastSeen: input.lastSeen ?? input.firstSeen ?? nowText,
      validUntil,
      tlp: input.tlp,
      handling: plainHandling(input.handling),
      reliability: input.reliability,
      accuracy: input.accuracy,
      scope: { addressees: [...new Set(input.scope.addressees)] },
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
    return parseRecord(candidate);
  }

  /**
   * Decide every recipient of a version. Recipients of earlier versions that may no longer
   * receive it get a tombstone projection, so nobody keeps a version the origin withdrew.
   */
  private async plan(
    record: IndicatorRecord,
    now: Date,
  ): Promise<{ outbox: OutboxProjection[]; outcomes: SharingOutcome[] }> {
    const directory = this.federation.directory;
    const outbox: OutboxProjection[] = [];
    const outcomes: SharingOutcome[] = [];
    // A first version has no earlier recipients: skip the look-up (bulk imports create many).
    const previous = new Map(
      record.version === 1
        ? []
        : (await this.store.previousRecipients(record.id)).map((p) => [p.addressee, p.agreementId]),
    );
    // What each earlier recipient last got: a withdrawal repeats only what it already saw.
    const lastSent =
      record.version === 1
        ? new Map<string, string>()
        : await this.store.lastProjections(record.id);
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
          recordText: canonicalize(record),
        });
        outcomes.push({ recipient, disclosed: true, agreementId: previous.get(recipient) });
        continue;
      }
      const d = evaluateDisclosure({ record, directory, recipient, now });
      if (d.allowed) {
        outbox.push({
          addressee: recipient,
          agreementId: d.agreementId,
          recordText: canonicalize(d.record),
        });
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
        const seen = parseStrictJson(
          lastSent.get(recipient) ?? canonicalize(record),
        ) as IndicatorRecord;
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
      now,
    );
    return this.persist(record, input.local ?? {}, actor, now);
  }

  /** Bulk create: one transaction for many indicators; returns per-item outcomes. */
  async createMany(
    inputs: IndicatorInput[],
    actor: string,
    now = new Date(),
  ): Promise<{ created: number; errors: { index: number; code: string; message: string }[] }> {
    const items: Parameters<NodeStore['saveOwnVersions']>[0] = [];
    const errors: { index: number; code: string; message: string }[] = [];
    const nowText = toRfc3339Ms(now);
    for (const [index, input] of inputs.entries()) {
      try {
        const record = this.buildRecord(
          input,
          { id: uuidv7(now.getTime()), version: 1, status: 'active' },
          now,
        );
        const { outbox } = await this.plan(record, now);
        items.push({
          record,
          recordText: canonicalize(record),
          local: input.local ?? {},
          actor,
          now: nowText,
          outbox,
        });
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'INVALID_VALUE';
        errors.push({ index, code, message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (items.length > 0) await this.store.saveOwnVersions(items);
    await this.audit.versionsIssued(
      actor,
      items.map((i) => i.record),
      now,
    );
    this.relay.kick();
    return { created: items.length, errors };
  }

  private async persist(
    record: IndicatorRecord,
    local: LocalFields,
    actor: string,
    now: Date,
  ): Promise<{ indicator: IndicatorView; sharing: SharingOutcome[] }> {
    const { outbox, outcomes } = await this.plan(record, now);
    const recordText = canonicalize(record);
    await this.store.saveOwnVersion({
      record,
      recordText,
      local,
      actor,
      now: toRfc3339Ms(now),
      outbox,
    });
    await this.audit.versionsIssued(actor, [record], now);
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
      now,
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
