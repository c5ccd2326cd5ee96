import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import { normalizeIndicator, type IndicatorType } from '../../../../libs/protocol/src/index.js';
import { Roles, type Actor } from '../../../../libs/auth/src/index.js';
import { Purpose } from '../../../../libs/audit/src/index.js';
import {
  BulkCreateDto,
  CreateIndicatorDto,
  SearchQueryDto,
  UpdateIndicatorDto,
} from './indicator.dto.js';
import { BulkItemsPipe, type BulkItems } from './bulk-items.pipe.js';
import { toIndicatorResponse } from './indicator.mapper.js';
import { IndicatorsService } from './indicators.service.js';

type Req = { actor: Actor };

/** REST API v1 for indicators. Thin: translate, call one service method, map. */
@ApiTags('indicators')
@ApiBearerAuth()
@Controller('api/v1/indicators')
export class IndicatorsController {
  constructor(private readonly indicators: IndicatorsService) {}

  @Post()
  @Roles('analyst', 'supervisor')
  async create(@Body() body: CreateIndicatorDto, @Req() req: Req): Promise<unknown> {
    const r = await this.indicators.create(body, req.actor.subject);
    return { indicator: toIndicatorResponse(r.indicator), sharing: r.sharing };
  }

  @Post('bulk')
  @HttpCode(200)
  @Roles('analyst', 'supervisor')
  @ApiBody({ type: BulkCreateDto })
  async bulk(@Body(BulkItemsPipe) body: BulkItems, @Req() req: Req): Promise<unknown> {
    return this.indicators.createMany(body.items, req.actor.subject);
  }

  @Get()
  @Roles('analyst', 'supervisor')
  @ApiHeader({
    name: 'X-Purpose',
    required: true,
    description: 'why: investigation[:case-ref], analysis, ...',
  })
  async search(
    @Query() q: SearchQueryDto,
    @Purpose() purpose: string,
    @Req() req: Req,
  ): Promise<unknown> {
    const page = q.page ?? 1;
    const pageSize = q.pageSize ?? 50;
    let value = q.value;
    if (value !== undefined && q.type) {
      value = normalizeIndicator({ type: q.type as IndicatorType, value }).value;
    }
    const r = await this.indicators.search(
      {
        type: q.type,
        value,
        origin: q.origin,
        category: q.category,
        status: q.status,
        updatedSince: q.since,
        updatedUntil: q.until,
      },
      { offset: (page - 1) * pageSize, limit: pageSize },
      { actor: req.actor.subject, purpose },
    );
    return { total: r.total, page, pageSize, items: r.items.map(toIndicatorResponse) };
  }

  @Get(':origin/:id')
  @Roles('analyst', 'supervisor')
  @ApiHeader({
    name: 'X-Purpose',
    required: true,
    description: 'why: investigation[:case-ref], analysis, ...',
  })
  async get(
    @Param('origin') origin: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Purpose() purpose: string,
    @Req() req: Req,
  ): Promise<unknown> {
    const r = await this.indicators.get(origin, id, { actor: req.actor.subject, purpose });
    return {
      indicator: toIndicatorResponse(r.indicator),
      history: r.history,
      disclosures: r.disclosures,
    };
  }

  @Put(':id')
  @Roles('analyst', 'supervisor')
  async update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdateIndicatorDto,
    @Req() req: Req,
  ): Promise<unknown> {
    const r = await this.indicators.update(id, body, req.actor.subject);
    return { indicator: toIndicatorResponse(r.indicator), sharing: r.sharing };
  }

  @Post(':id/retract')
  @HttpCode(200)
  @Roles('analyst', 'supervisor')
  async retract(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: Req): Promise<unknown> {
    const r = await this.indicators.retract(id, req.actor.subject);
    return { indicator: toIndicatorResponse(r.indicator), sharing: r.sharing };
  }
}
