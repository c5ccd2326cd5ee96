import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../../../libs/auth/src/index.js';
import {
  AggregateQueryDto,
  NetworkQueryDto,
  PageQueryDto,
  RecordQueryDto,
  StatsQueryDto,
} from './hub.dto.js';
import { HubQueryService } from './hub-query.service.js';

const DEFAULT_LIMIT = 50;

/**
 * The hub operator's REST API (read-only): aggregates, networks, successor flags, cross-border
 * statistics and the cited records. Hub operators and auditors may read.
 */
@ApiTags('hub')
@ApiBearerAuth()
@Roles('hub-operator', 'auditor')
@Controller('api/v1')
export class HubController {
  constructor(private readonly hub: HubQueryService) {}

  @Get('aggregates')
  @ApiOperation({ summary: 'Search aggregated indicators (ordered by type, value)' })
  @ApiOkResponse({ description: '{ items: Aggregate[], nextCursor }' })
  aggregates(@Query() q: AggregateQueryDto): Promise<unknown> {
    return this.hub.searchAggregates(
      {
        type: q.type,
        valuePrefix: q.valuePrefix,
        country: q.country,
        category: q.category,
        minSources: q.minSources,
      },
      q.cursor,
      q.limit ?? DEFAULT_LIMIT,
    );
  }

  @Get('aggregates/:type/:value')
  @ApiOperation({ summary: 'One aggregate with its contributing records' })
  @ApiOkResponse({ description: 'Aggregate' })
  aggregate(@Param('type') type: string, @Param('value') value: string): Promise<unknown> {
    return this.hub.aggregate(type, value);
  }

  @Get('networks')
  @ApiOperation({ summary: 'Operator networks spanning countries, with members and evidence' })
  @ApiOkResponse({ description: '{ items: Network[], nextCursor }' })
  networks(@Query() q: NetworkQueryDto): Promise<unknown> {
    return this.hub.networks(q.country, q.cursor, q.limit ?? DEFAULT_LIMIT);
  }

  @Get('networks/:id')
  @ApiOperation({ summary: 'One operator network' })
  @ApiOkResponse({ description: 'Network' })
  network(@Param('id') id: string): Promise<unknown> {
    return this.hub.network(id);
  }

  @Get('successors')
  @ApiOperation({ summary: 'Probable successor domains of known networks, with evidence' })
  @ApiOkResponse({ description: '{ items: SuccessorFlag[], nextCursor }' })
  successors(@Query() q: PageQueryDto): Promise<unknown> {
    return this.hub.successors(q.cursor, q.limit ?? DEFAULT_LIMIT);
  }

  @Get('stats/cross-border')
  @ApiOperation({
    summary:
      'Cross-border aggregates by country pair, indicator type, content category or ISO week',
  })
  @ApiOkResponse({ description: '{ items: { key, aggregates }[], nextCursor }' })
  stats(@Query() q: StatsQueryDto): Promise<unknown> {
    return this.hub.stats(q.dimension ?? 'country-pair', q.cursor, q.limit ?? DEFAULT_LIMIT);
  }

  @Get('dead-letters')
  @ApiOperation({ summary: 'What ingest refused (bundles and records), with code and reason' })
  @ApiOkResponse({ description: '{ items: DeadLetter[], nextCursor }' })
  deadLetters(@Query() q: PageQueryDto): Promise<unknown> {
    return this.hub.deadLetters(q.cursor, q.limit ?? DEFAULT_LIMIT);
  }

  @Get('records/:origin/:id')
  @ApiOperation({
    summary:
      'A cited record: its signed canonical text, the signed bundle header and its inclusion proof',
  })
  @ApiOkResponse({ description: '{ origin, id, version, recordText, proof }' })
  record(
    @Param('origin') origin: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() q: RecordQueryDto,
  ): Promise<unknown> {
    return this.hub.record(origin, id, q.version);
  }
}
