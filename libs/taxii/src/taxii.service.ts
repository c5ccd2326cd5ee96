import { randomUUID } from 'node:crypto';
import { authenticate, type TaxiiAccount } from './accounts.js';
import { taxiiPurpose, type TaxiiReadLog } from './read-log.js';
import { TaxiiError } from './taxii.errors.js';
import {
  STIX_MEDIA_TYPE,
  TAXII_MEDIA_TYPE,
  type TaxiiCollection,
  type TaxiiEntry,
  type TaxiiQuery,
  type TaxiiSource,
} from './source.js';

/** How the host configures its TAXII server. */
export interface TaxiiOptions {
  /** Path of the discovery resource, without slashes (default `taxii2`). */
  discoveryPath?: string;
  /** Name of the one API root, served at `/<discoveryPath>/<apiRoot>/` (default `api`). */
  apiRoot?: string;
  title: string;
  description?: string;
  contact?: string;
  accounts: readonly TaxiiAccount[];
  /** Largest page (`limit` is capped to it; default 1000). */
  maxPageSize?: number;
  /** Largest POST body in bytes, advertised as `max_content_length` (default 10 MiB). */
  maxContentLength?: number;
  /** Decorators for the generated controller, e.g. the host's "no bearer token" marker. */
  controllerDecorators?: ClassDecorator[];
}

export interface ResolvedTaxiiOptions extends Required<
  Omit<TaxiiOptions, 'description' | 'contact'>
> {
  description?: string;
  contact?: string;
}

export function resolveTaxiiOptions(o: TaxiiOptions): ResolvedTaxiiOptions {
  return {
    discoveryPath: 'taxii2',
    apiRoot: 'api',
    maxPageSize: 1000,
    maxContentLength: 10 * 1024 * 1024,
    controllerDecorators: [],
    ...o,
  };
}

/** A page of entries and what the response headers and `next` say about it. */
export interface TaxiiPage {
  entries: TaxiiEntry[];
  more: boolean;
  next?: string;
}

interface StatusResource {
  owner: string;
  body: Record<string, unknown>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Normalizes a TAXII timestamp filter to RFC 3339 with milliseconds (the stored precision). */
function timestampParam(name: string, v: string): string {
  if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) {
    throw new TaxiiError(400, 'bad filter', `${name} must be an RFC 3339 UTC timestamp`);
  }
  const [head, frac = ''] = v.slice(0, -1).split('.');
  // Truncation keeps the filter exact for stored millisecond times: "> t.1239" ≡ "> t.123"
  // only when nothing has sub-millisecond precision, which is the case here.
  return `${head}.${(frac + '000').slice(0, 3)}Z`;
}

/**
 * The TAXII 2.1 use cases, independent of HTTP: who may see what, filters, paging, status.
 * Every collection an account may not read is reported as not found, never as forbidden, so an
 * account cannot learn that another collection exists (TAXII 2.1 §5.2 leaves this to the server).
 */
export class TaxiiService {
  private readonly statuses = new Map<string, StatusResource>();

  constructor(
    readonly options: ResolvedTaxiiOptions,
    private readonly source: TaxiiSource,
    private readonly readLog?: TaxiiReadLog,
  ) {}

  authenticate(header: string | undefined): TaxiiAccount {
    const a = authenticate(header, this.options.accounts);
    if (!a) throw new TaxiiError(401, 'unauthorized', 'HTTP Basic or Token credentials required');
    return a;
  }

  discovery(baseUrl: string): Record<string, unknown> {
    const root = `${baseUrl}/${this.options.apiRoot}/`;
    return {
      title: this.options.title,
      ...(this.options.description ? { description: this.options.description } : {}),
      ...(this.options.contact ? { contact: this.options.contact } : {}),
      default: root,
      api_roots: [root],
    };
  }

  apiRoot(root: string): Record<string, unknown> {
    this.checkRoot(root);
    return {
      title: this.options.title,
      ...(this.options.description ? { description: this.options.description } : {}),
      versions: [TAXII_MEDIA_TYPE],
      max_content_length: this.options.maxContentLength,
    };
  }

  checkRoot(root: string): void {
    if (root !== this.options.apiRoot) throw new TaxiiError(404, 'not found', 'no such API root');
  }

  private visible(account: TaxiiAccount): TaxiiCollection[] {
    return this.source
      .collections()
      .filter((c) => account.read.includes(c.id) || account.write.includes(c.id));
  }

  private describe(c: TaxiiCollection, account: TaxiiAccount): Record<string, unknown> {
    return {
      id: c.id,
      title: c.title,
      ...(c.description ? { description: c.description } : {}),
      can_read: account.read.includes(c.id),
      can_write: c.writable && account.write.includes(c.id),
      media_types: [STIX_MEDIA_TYPE],
    };
  }

  collections(root: string, account: TaxiiAccount): Record<string, unknown> {
    this.checkRoot(root);
    const list = this.visible(account).map((c) => this.describe(c, account));
    return list.length > 0 ? { collections: list } : {};
  }

  collection(root: string, id: string, account: TaxiiAccount): TaxiiCollection {
    this.checkRoot(root);
    const c = this.visible(account).find((x) => x.id === id);
    if (!c) throw new TaxiiError(404, 'not found', 'no such collection');
    return c;
  }

  collectionResource(root: string, id: string, account: TaxiiAccount): Record<string, unknown> {
    return this.describe(this.collection(root, id, account), account);
  }

  private readable(root: string, id: string, account: TaxiiAccount): TaxiiCollection {
    const c = this.collection(root, id, account);
    if (!account.read.includes(c.id)) {
      throw new TaxiiError(403, 'forbidden', 'this account may not read this collection');
    }
    return c;
  }

  /** Parses the query string of objects, manifest, object and versions requests. */
  parseQuery(
    params: URLSearchParams,
    allowed: readonly string[],
  ): { query: TaxiiQuery; limit: number } {
    for (const k of params.keys()) {
      if (!allowed.includes(k)) {
        throw new TaxiiError(400, 'bad filter', `unsupported query parameter ${k}`);
      }
    }
    const list = (k: string) => {
      const v = params.get(k);
      return v === null
        ? undefined
        : v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    };
    let limit = this.options.maxPageSize;
    const l = params.get('limit');
    if (l !== null) {
      if (!/^[0-9]{1,9}$/.test(l) || Number(l) < 1) {
        throw new TaxiiError(400, 'bad filter', 'limit must be a positive integer');
      }
      limit = Math.min(Number(l), this.options.maxPageSize);
    }
    let after: string | undefined;
    const next = params.get('next');
    if (next !== null) {
      try {
        after = Buffer.from(next, 'base64url').toString('utf8');
      } catch {
        after = undefined;
      }
      if (!after || Buffer.from(after, 'utf8').toString('base64url') !== next) {
        throw new TaxiiError(400, 'bad next', 'next is not a token this server issued');
      }
    }
    const addedAfter = params.get('added_after');
    const versionList = list('match[version]');
    let versions: TaxiiQuery['versions'] = 'last';
    if (versionList && versionList.length > 0) {
      if (versionList.length === 1 && ['last', 'first', 'all'].includes(versionList[0]!)) {
        versions = versionList[0] as 'last' | 'first' | 'all';
      } else {
        versions = versionList.map((v) => timestampParam('match[version]', v));
      }
    }
    const spec = list('match[spec_version]');
    if (spec && !spec.includes('2.1')) {
      // Everything here is STIX 2.1: asking only for other versions matches nothing.
      return { query: { types: ['-'], versions, limit }, limit };
    }
    return {
      query: {
        ...(after ? { after } : {}),
        ...(addedAfter !== null ? { addedAfter: timestampParam('added_after', addedAfter) } : {}),
        ...(list('match[type]') ? { types: list('match[type]') } : {}),
        ...(list('match[id]') ? { ids: list('match[id]') } : {}),
        versions,
        limit,
      },
      limit,
    };
  }

  /**
   * A page of a collection's entries. With `read` (every GET of objects), the read is logged as a
   * consultation with its purpose ({@link taxiiPurpose}) before the answer leaves.
   */
  async page(
    root: string,
    id: string,
    account: TaxiiAccount,
    query: TaxiiQuery,
    read?: { route: string; purposeHeader: string | undefined },
  ): Promise<TaxiiPage> {
    const c = this.readable(root, id, account);
    const purpose = read ? taxiiPurpose(account, read.purposeHeader) : undefined;
    const got = await this.source.entries(c.id, query);
    const entries = got.slice(0, query.limit);
    const more = got.length > query.limit;
    if (read && purpose && this.readLog) {
      await this.readLog.consulted({
        account: account.name,
        purpose,
        collection: c.id,
        route: read.route,
        objects: entries.length,
        records: [...new Set(entries.flatMap((e) => (e.record === undefined ? [] : [e.record])))],
      });
    }
    const last = entries[entries.length - 1];
    return {
      entries,
      more,
      ...(more && last ? { next: Buffer.from(last.cursor, 'utf8').toString('base64url') } : {}),
    };
  }

  /** Objects as an envelope (TAXII 2.1 §5.4). */
  envelope(p: TaxiiPage): Record<string, unknown> {
    return {
      more: p.more,
      ...(p.next ? { next: p.next } : {}),
      ...(p.entries.length > 0 ? { objects: p.entries.map((e) => e.object) } : {}),
    };
  }

  manifest(p: TaxiiPage): Record<string, unknown> {
    return {
      more: p.more,
      ...(p.next ? { next: p.next } : {}),
      ...(p.entries.length > 0
        ? {
            objects: p.entries.map((e) => ({
              id: e.id,
              date_added: e.dateAdded,
              version: e.version,
              media_type: STIX_MEDIA_TYPE,
            })),
          }
        : {}),
    };
  }

  versions(p: TaxiiPage): Record<string, unknown> {
    return {
      more: p.more,
      ...(p.entries.length > 0 ? { versions: p.entries.map((e) => e.version) } : {}),
    };
  }

  /** Adds an envelope's objects to a writable collection; returns the status resource. */
  async add(
    root: string,
    id: string,
    account: TaxiiAccount,
    body: unknown,
    now: Date,
  ): Promise<Record<string, unknown>> {
    const c = this.collection(root, id, account);
    if (!c.writable || !account.write.includes(c.id) || !this.source.add) {
      throw new TaxiiError(403, 'forbidden', 'this account may not write to this collection');
    }
    const objects =
      typeof body === 'object' &&
      body !== null &&
      Array.isArray((body as { objects?: unknown }).objects)
        ? (body as { objects: unknown[] }).objects
        : undefined;
    if (!objects)
      throw new TaxiiError(422, 'unprocessable', 'expected an envelope {"objects": [...]}');
    const valid = objects.filter(
      (o): o is Record<string, unknown> =>
        typeof o === 'object' &&
        o !== null &&
        !Array.isArray(o) &&
        typeof (o as { id?: unknown }).id === 'string',
    );
    const outcomes = await this.source.add(c.id, valid, account.name);
    const invalidCount = objects.length - valid.length;
    const successes = outcomes.filter((o) => o.ok).map((o) => ({ id: o.id, version: o.version }));
    const failures = [
      ...outcomes
        .filter((o) => !o.ok)
        .map((o) => ({ id: o.id, version: o.version, message: o.message ?? 'refused' })),
    ];
    const status = {
      id: randomUUID(),
      status: 'complete',
      request_timestamp: now.toISOString(),
      total_count: objects.length,
      success_count: successes.length,
      failure_count: failures.length + invalidCount,
      pending_count: 0,
      ...(successes.length > 0 ? { successes } : {}),
      ...(failures.length > 0 ? { failures } : {}),
    };
    this.statuses.set(status.id, { owner: account.name, body: status });
    // Bounded memory: a status is kept for the last 1000 requests.
    if (this.statuses.size > 1000) this.statuses.delete(this.statuses.keys().next().value!);
    return status;
  }

  status(root: string, statusId: string, account: TaxiiAccount): Record<string, unknown> {
    this.checkRoot(root);
    const s = this.statuses.get(statusId);
    if (!s || s.owner !== account.name) throw new TaxiiError(404, 'not found', 'no such status');
    return s.body;
  }
}
