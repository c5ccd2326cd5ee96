import {
  Catch,
  Controller,
  Get,
  Query,
  Req,
  Res,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles, type Actor } from '../../auth/src/index.js';
import { AuditLog } from './audit-log.js';
import { AuditError } from './errors.js';
import {
  AuditQueryDto,
  ConsistencyQueryDto,
  ExportQueryDto,
  InclusionQueryDto,
} from './audit.dto.js';

type Req = { actor: Actor };
type Res = {
  status(code: number): Res;
  json(body: unknown): void;
  setHeader(k: string, v: string): void;
  write(chunk: string): boolean;
  end(): void;
  once(ev: 'drain', cb: () => void): void;
  headersSent: boolean;
};

const STATUS: Record<AuditError['code'], number> = {
  INVALID_ENTRY: 400,
  INVALID_CHECKPOINT: 400,
  INVALID_PROOF_REQUEST: 400,
  PURPOSE_REQUIRED: 400,
  CHECKPOINT_ROLLBACK: 409,
  CHECKPOINT_FORK: 409,
  CHECKPOINT_INCONSISTENT: 409,
  SIGNATURE_INVALID: 400,
  NODE_MISSING: 404,
};

/** Where audit errors become HTTP responses. */
@Catch(AuditError)
export class AuditHttpFilter implements ExceptionFilter {
  catch(e: AuditError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Res>();
    const status = STATUS[e.code];
    res.status(status).json({ statusCode: status, error: e.code, message: e.message });
  }
}

/**
 * The auditor's REST API of a log (the node's and the hub's, same routes): read-only, `auditor`
 * role only; every call is itself logged. An app provides its log as `AuditLog`
 * (`{ provide: AuditLog, useExisting: ItsAuditService }`).
 */
@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@UseFilters(AuditHttpFilter)
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get('entries')
  @ApiOperation({ summary: 'Log entries by time, actor, operation, record, partner, agreement' })
  async entries(@Query() q: AuditQueryDto, @Req() req: Req): Promise<unknown> {
    const items = await this.audit.entries(
      { ...q, limit: q.limit ?? 1000 },
      { actor: req.actor.subject },
    );
    return { items };
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'Signed checkpoints with the hub witness cosignatures' })
  async checkpoints(@Req() req: Req): Promise<unknown> {
    return { items: await this.audit.checkpointList({ actor: req.actor.subject }) };
  }

  @Get('proofs/inclusion')
  @ApiOperation({ summary: 'RFC 9162 inclusion proof of an entry in a tree size' })
  async inclusion(@Query() q: InclusionQueryDto, @Req() req: Req): Promise<unknown> {
    return this.audit.inclusion(q.seq, q.size, { actor: req.actor.subject });
  }

  @Get('proofs/consistency')
  @ApiOperation({ summary: 'RFC 9162 consistency proof between two tree sizes' })
  async consistency(@Query() q: ConsistencyQueryDto, @Req() req: Req): Promise<unknown> {
    return this.audit.consistency(q.from, q.to, { actor: req.actor.subject });
  }

  @Get('export/manifest')
  @ApiOperation({
    summary: 'Signed manifest of an export (fixes its size), with checkpoints and directory',
  })
  async manifest(@Query() q: ExportQueryDto, @Req() req: Req): Promise<unknown> {
    return this.audit.exportManifest(q.size, { actor: req.actor.subject });
  }

  @Get('export/entries')
  @ApiOperation({ summary: 'The retained entries up to `size` as JSON Lines' })
  @ApiOkResponse({ description: 'application/x-ndjson, one canonical entry per line' })
  async exportEntries(@Query() q: ExportQueryDto, @Res() res: Res): Promise<void> {
    const lines = this.audit.exportLines(this.audit.range(q.size).size);
    res.setHeader('content-type', 'application/x-ndjson');
    for await (const line of lines) {
      if (!res.write(line)) await new Promise<void>((r) => res.once('drain', r));
    }
    res.end();
  }
}
