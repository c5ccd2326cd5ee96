import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  DEFAULT_IMPORT_DEFAULTS,
  type ImportDefaults,
} from '../../../../libs/interop/src/index.js';
import { Roles, type Actor } from '../../../../libs/auth/src/index.js';
import { Purpose } from '../../../../libs/audit/src/index.js';
import { ImportRowsPipe, type ImportRows } from './import-rows.pipe.js';
import { InteropErrorFilter } from './interop-error.filter.js';
import { ExportQueryDto, ImportItemsDto, ImportQueryDto } from './interop.dto.js';
import { InteropService, type ImportResponse } from './interop.service.js';

type Req = { actor: Actor };
type Res = {
  status(code: number): Res;
  setHeader(k: string, v: string): void;
  send(b: string): void;
};

function defaultsOf(q: ImportQueryDto): ImportDefaults {
  return {
    ...DEFAULT_IMPORT_DEFAULTS,
    tlp: q.tlp ?? DEFAULT_IMPORT_DEFAULTS.tlp,
    confidence: q.confidence ?? DEFAULT_IMPORT_DEFAULTS.confidence,
    reliability: q.reliability ?? DEFAULT_IMPORT_DEFAULTS.reliability,
    accuracy: q.accuracy ?? DEFAULT_IMPORT_DEFAULTS.accuracy,
    handling: { code: q.handling ?? 'H0' },
  };
}

/**
 * Standards interop on the node (docs/interop.md): STIX 2.1 bundles, MISP events and rows read
 * from files become local indicators held for review; exports to STIX, MISP and CSV.
 */
@ApiTags('interop')
@ApiBearerAuth()
@UseFilters(InteropErrorFilter)
@Controller('api/v1/interop')
export class InteropController {
  constructor(private readonly interop: InteropService) {}

  @Post('import/stix')
  @HttpCode(200)
  @Roles('analyst', 'supervisor')
  @ApiOperation({ summary: 'Import a STIX 2.1 bundle as local indicators held for review' })
  @ApiBody({ schema: { type: 'object', description: 'STIX 2.1 bundle' } })
  @ApiOkResponse({ description: 'Per-object mapping report and per-indicator outcome' })
  async importStix(
    @Body() body: Record<string, unknown>,
    @Query() q: ImportQueryDto,
    @Req() req: Req,
  ): Promise<ImportResponse> {
    return this.interop.importStix(body, defaultsOf(q), req.actor.subject, q.dryRun ?? false);
  }

  @Post('import/misp')
  @HttpCode(200)
  @Roles('analyst', 'supervisor')
  @ApiOperation({ summary: 'Import a MISP event (JSON) as local indicators held for review' })
  @ApiBody({ schema: { type: 'object', description: 'MISP event: {"Event": {...}}' } })
  @ApiOkResponse({ description: 'Per-attribute mapping report and per-indicator outcome' })
  async importMisp(
    @Body() body: Record<string, unknown>,
    @Query() q: ImportQueryDto,
    @Req() req: Req,
  ): Promise<ImportResponse> {
    return this.interop.importMisp(body, defaultsOf(q), req.actor.subject, q.dryRun ?? false);
  }

  @Post('import/rows')
  @HttpCode(200)
  @Roles('analyst', 'supervisor')
  @ApiOperation({
    summary: 'Import rows read from a CSV or plain list (fedctl import); idempotent by value',
  })
  @ApiOkResponse({ description: 'Per-row outcome: created, existing, would-create or invalid' })
  @ApiBody({ type: ImportItemsDto })
  async importRows(
    @Body(ImportRowsPipe) body: ImportRows,
    @Req() req: Req,
  ): Promise<ImportResponse> {
    return this.interop.importCandidates(body.candidates, req.actor.subject, body.dryRun, {
      report: body.report,
    });
  }

  @Get('export')
  @Roles('analyst', 'supervisor')
  @ApiOperation({ summary: 'Export current indicators as a STIX 2.1 bundle, a MISP event or CSV' })
  @ApiOkResponse({ description: 'application/stix+json;version=2.1, application/json or text/csv' })
  @ApiHeader({
    name: 'X-Purpose',
    required: true,
    description:
      'why: investigation[:case-ref], analysis, ... (the export is audited as a consultation)',
  })
  async export(
    @Query() q: ExportQueryDto,
    @Purpose() purpose: string,
    @Req() req: Req,
    @Res() res: Res,
  ): Promise<void> {
    const out = await this.interop.export(
      q.format,
      {
        types: q.type ? [q.type] : undefined,
        origin: q.origin,
        since: q.since,
        limit: q.limit ?? 10000,
      },
      { actor: req.actor.subject, purpose },
    );
    res.setHeader('Content-Type', out.contentType);
    res.status(200).send(out.body);
  }
}
