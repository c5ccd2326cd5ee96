import { Controller, Get, Inject, Post, Req, Res, type Type } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { TaxiiError } from './taxii.errors.js';
import { TaxiiService, type TaxiiPage } from './taxii.service.js';
import { TAXII_MEDIA_TYPE } from './source.js';

/** The slice of an Express request the controller reads. */
interface TaxiiRequest extends AsyncIterable<Buffer> {
  headers: Record<string, string | string[] | undefined>;
  protocol: string;
  originalUrl: string;
  params: Record<string, string>;
  readableEnded?: boolean;
}

interface TaxiiResponse {
  status(code: number): TaxiiResponse;
  setHeader(name: string, value: string): void;
  end(body?: string): void;
}

const header = (req: TaxiiRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** `Accept` names the TAXII 2.1 media type (or none, or a wildcard) — else 406. */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type === '*/*' || type === 'application/*') return true;
    if (type !== 'application/taxii+json') return false;
    const version = params.find((p) => p.startsWith('version='));
    return version === undefined || version === 'version=2.1';
  });
}

/** `Content-Type` of a POST is the TAXII 2.1 media type — else 415. */
export function isTaxiiContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const [type = '', ...params] = ct.split(';').map((s) => s.trim().toLowerCase());
  const version = params.find((p) => p.startsWith('version='));
  return type === 'application/taxii+json' && (version === undefined || version === 'version=2.1');
}

function send(
  res: TaxiiResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  res.status(status);
  res.setHeader('Content-Type', TAXII_MEDIA_TYPE);
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  res.end(JSON.stringify(body));
}

function dateHeaders(p: TaxiiPage): Record<string, string> {
  const first = p.entries[0];
  const last = p.entries[p.entries.length - 1];
  return first && last
    ? { 'X-TAXII-Date-Added-First': first.dateAdded, 'X-TAXII-Date-Added-Last': last.dateAdded }
    : {};
}

const OBJECTS_PARAMS = [
  'added_after',
  'limit',
  'next',
  'match[id]',
  'match[type]',
  'match[version]',
  'match[spec_version]',
];
const OBJECT_PARAMS = ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'];
const VERSIONS_PARAMS = ['added_after', 'limit', 'next', 'match[spec_version]'];

/**
 * Builds the TAXII 2.1 controller mounted at `/<discoveryPath>`. A factory, so the host chooses
 * the path and adds its own decorators (e.g. to exempt these routes from its bearer-token guard:
 * TAXII authenticates with its own accounts). Every response, errors included, is
 * `application/taxii+json;version=2.1`.
 */
export function createTaxiiController(
  discoveryPath: string,
  decorators: ClassDecorator[] = [],
): Type {
  @ApiTags('taxii')
  @Controller(discoveryPath)
  class TaxiiController {
    constructor(@Inject(TaxiiService) private readonly taxii: TaxiiService) {}

    private async run(
      req: TaxiiRequest,
      res: TaxiiResponse,
      fn: (account: ReturnType<TaxiiService['authenticate']>) => Promise<void> | void,
    ): Promise<void> {
      try {
        const account = this.taxii.authenticate(header(req, 'authorization'));
        if (!acceptsTaxii(header(req, 'accept'))) {
          throw new TaxiiError(406, 'not acceptable', `only ${TAXII_MEDIA_TYPE} is served`);
        }
        await fn(account);
      } catch (e) {
        const err =
          e instanceof TaxiiError ? e : new TaxiiError(500, 'internal error', 'see server log');
        if (!(e instanceof TaxiiError)) console.error(e);
        const extra: Record<string, string> =
          err.status === 401 ? { 'WWW-Authenticate': 'Basic realm="taxii", Token' } : {};
        send(
          res,
          err.status,
          {
            title: err.title,
            ...(err.description ? { description: err.description } : {}),
            http_status: String(err.status),
          },
          extra,
        );
      }
    }

    private params(req: TaxiiRequest): URLSearchParams {
      const q = req.originalUrl.indexOf('?');
      return new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
    }

    @Get()
    @ApiOperation({ summary: 'TAXII 2.1 server discovery' })
    async discovery(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, () => {
        const host = header(req, 'host') ?? 'localhost';
        send(res, 200, this.taxii.discovery(`${req.protocol}://${host}/${discoveryPath}`));
      });
    }

    @Get(':root')
    @ApiOperation({ summary: 'TAXII 2.1 API root information' })
    async apiRoot(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, () => send(res, 200, this.taxii.apiRoot(req.params.root ?? '')));
    }

    @Get(':root/status/:statusId')
    @ApiOperation({ summary: 'TAXII 2.1 status of an add-objects request' })
    async status(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, (a) =>
        send(res, 200, this.taxii.status(req.params.root ?? '', req.params.statusId ?? '', a)),
      );
    }

    @Get(':root/collections')
    @ApiOperation({ summary: 'TAXII 2.1 collections this account may see' })
    async collections(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, (a) =>
        send(res, 200, this.taxii.collections(req.params.root ?? '', a)),
      );
    }

    @Get(':root/collections/:id')
    @ApiOperation({ summary: 'TAXII 2.1 collection' })
    async collection(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, (a) =>
        send(
          res,
          200,
          this.taxii.collectionResource(req.params.root ?? '', req.params.id ?? '', a),
        ),
      );
    }

    @Get(':root/collections/:id/manifest')
    @ApiOperation({ summary: 'TAXII 2.1 manifest of a collection (paged)' })
    async manifest(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, async (a) => {
        const { query } = this.taxii.parseQuery(this.params(req), OBJECTS_PARAMS);
        const p = await this.taxii.page(req.params.root ?? '', req.params.id ?? '', a, query, {
          route: 'manifest',
          purposeHeader: header(req, 'x-purpose'),
        });
        send(res, 200, this.taxii.manifest(p), dateHeaders(p));
      });
    }

    @Get(':root/collections/:id/objects')
    @ApiOperation({ summary: 'TAXII 2.1 objects of a collection (paged, filtered)' })
    async objects(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, async (a) => {
        const { query } = this.taxii.parseQuery(this.params(req), OBJECTS_PARAMS);
        const p = await this.taxii.page(req.params.root ?? '', req.params.id ?? '', a, query, {
          route: 'objects',
          purposeHeader: header(req, 'x-purpose'),
        });
        send(res, 200, this.taxii.envelope(p), dateHeaders(p));
      });
    }

    @Post(':root/collections/:id/objects')
    @ApiOperation({ summary: 'TAXII 2.1 add objects to a writable collection' })
    async add(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, async (a) => {
        if (!isTaxiiContentType(header(req, 'content-type'))) {
          throw new TaxiiError(415, 'unsupported media type', `send ${TAXII_MEDIA_TYPE}`);
        }
        // Check the collection before reading the body: no upload for a refusal.
        this.taxii.collection(req.params.root ?? '', req.params.id ?? '', a);
        const body = await readJson(req, this.taxii.options.maxContentLength);
        const status = await this.taxii.add(
          req.params.root ?? '',
          req.params.id ?? '',
          a,
          body,
          new Date(),
        );
        send(res, 202, status);
      });
    }

    @Get(':root/collections/:id/objects/:objectId')
    @ApiOperation({ summary: 'TAXII 2.1 one object (its versions per match[version])' })
    async object(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, async (a) => {
        const { query } = this.taxii.parseQuery(this.params(req), OBJECT_PARAMS);
        const p = await this.taxii.page(
          req.params.root ?? '',
          req.params.id ?? '',
          a,
          { ...query, ids: [req.params.objectId ?? ''] },
          { route: 'object', purposeHeader: header(req, 'x-purpose') },
        );
        if (p.entries.length === 0 && !query.after && !query.addedAfter) {
          throw new TaxiiError(404, 'not found', 'no such object in this collection');
        }
        send(res, 200, this.taxii.envelope(p), dateHeaders(p));
      });
    }

    @Get(':root/collections/:id/objects/:objectId/versions')
    @ApiOperation({ summary: 'TAXII 2.1 versions of one object' })
    async versions(@Req() req: TaxiiRequest, @Res() res: TaxiiResponse): Promise<void> {
      await this.run(req, res, async (a) => {
        const { query } = this.taxii.parseQuery(this.params(req), VERSIONS_PARAMS);
        const p = await this.taxii.page(
          req.params.root ?? '',
          req.params.id ?? '',
          a,
          { ...query, ids: [req.params.objectId ?? ''], versions: 'all' },
          { route: 'versions', purposeHeader: header(req, 'x-purpose') },
        );
        if (p.entries.length === 0 && !query.after && !query.addedAfter) {
          throw new TaxiiError(404, 'not found', 'no such object in this collection');
        }
        send(res, 200, this.taxii.versions(p), dateHeaders(p));
      });
    }
  }
  for (const d of decorators) d(TaxiiController);
  return TaxiiController;
}

/** Reads a JSON body (the host's JSON parser does not take this media type) up to `max` bytes. */
async function readJson(req: TaxiiRequest, max: number): Promise<unknown> {
  if (req.readableEnded) throw new TaxiiError(400, 'bad request', 'body already consumed');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > max) throw new TaxiiError(413, 'payload too large', `at most ${max} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new TaxiiError(400, 'bad request', 'body is not valid JSON');
  }
}
