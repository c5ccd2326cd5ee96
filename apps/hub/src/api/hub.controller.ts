import { Controller, Get, Param, ParseUUIDPipe, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Purpose } from '../../../../libs/audit/src/index.js';
import { Roles, type Actor } from '../../../../libs/auth/src/index.js';
import { HubAuditService } from '../audit/hub-audit.service.js';
import {
  AggregateQueryDto,
  NetworkQueryDto,
  PageQueryDto,
  RecordQueryDto,
  StatsQueryDto,
} from './hub.dto.js';
import { HubQueryService } from './hub-query.service.js';

const DEFAULT_LIMIT = 50;

type Req = { actor: Actor };

/**
 * The hub operator's REST API (read-only): aggregates, networks, successor flags, cross-border
 * statistics and the cited records. Hub operators and auditors may read. Every read states a
 * purpose (`X-Purpose`, 400 PURPOSE_REQUIRED otherwise) and is logged as a consultation with the
 * user and the records the answer cites (docs/audit.md).
 */
@ApiTags('hub')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Purpose', required: true, description: 'Why (docs/audit.md)' })
@Roles('hub-operator', 'auditor')
@Controller('api/v1')
export class HubController {
  constructor(
    private readonly hub: HubQueryService,
    private readonly audit: HubAuditService,
  ) {}

  /** Answer, then log the consultation before the answer leaves the hub. */
  private async read<T>(req: Req, purpose: string, route: string, answer: Promise<T>): Promise<T> {
    const result = await answer;
    await this.audit.consulted(req.actor.subject, purpose, route, result);
    return result;
  }

  @Get('aggregates')
  @ApiOperation({ summary: 'Search aggregated indicators (ordered by type, value)' })
  @ApiOkResponse({ description: '{ items: Aggregate[], nextCursor }' })
  aggregates(
    @Query() q: AggregateQueryDto,
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    const filters = {
      type: q.type,
      valuePrefix: q.valuePrefix,
      country: q.country,
      category: q.category,
      minSources: q.minSources,
    };
    const answer = this.hub.searchAggregates(filters, q.cursor, q.limit ?? DEFAULT_LIMIT);
    return this.read(req, purpose, 'aggregates', answer);
  }

  @Get('aggregates/:type/:value')
  @ApiOperation({ summary: 'One aggregate with its contributing records' })
  @ApiOkResponse({ description: 'Aggregate' })
  aggregate(
    @Param('type') type: string,
    @Param('value') value: string,
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    return this.read(req, purpose, 'aggregate', this.hub.aggregate(type, value));
  }

  @Get('networks')
  @ApiOperation({ summary: 'Operator networks spanning countries, with members and evidence' })
  @ApiOkResponse({ description: '{ items: Network[], nextCursor }' })
  networks(
    @Query() q: NetworkQueryDto,
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    const answer = this.hub.networks(q.country, q.cursor, q.limit ?? DEFAULT_LIMIT);
    return this.read(req, purpose, 'networks', answer);
  }

  @Get('networks/:id')
  @ApiOperation({ summary: 'One operator network' })
  @ApiOkResponse({ description: 'Network' })
  network(@Param('id') id: string, @Req() req: Req, @Purpose() purpose: string): Promise<unknown> {
    return this.read(req, purpose, 'network', this.hub.network(id));
  }

  @Get('successors')
  @ApiOperation({ summary: 'Probable successor domains of known networks, with evidence' })
  @ApiOkResponse({ description: '{ items: SuccessorFlag[], nextCursor }' })
  successors(
    @Query() q: PageQueryDto,
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    const answer = this.hub.successors(q.cursor, q.limit ?? DEFAULT_LIMIT);
    return this.read(req, purpose, 'successors', answer);
  }

  @Get('stats/cross-border')
  @ApiOperation({
    summary:
      'Cross-border aggregates by country pair, indicator type, content category or ISO week',
  })
  @ApiOkResponse({ description: '{ items: { key, aggregates }[], nextCursor }' })
  stats(@Query() q: StatsQueryDto, @Req() req: Req, @Purpose() purpose: string): Promise<unknown> {
    const answer = this.hub.stats(
      q.dimension ?? 'country-pair',
      q.cursor,
      q.limit ?? DEFAULT_LIMIT,
    );
    return this.read(req, purpose, 'stats', answer);
  }

  @Get('dead-letters')
  @ApiOperation({ summary: 'What ingest refused (bundles and records), with code and reason' })
  @ApiOkResponse({ description: '{ items: DeadLetter[], nextCursor }' })
  deadLetters(
    @Query() q: PageQueryDto,
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    const answer = this.hub.deadLetters(q.cursor, q.limit ?? DEFAULT_LIMIT);
    return this.read(req, purpose, 'dead-letters', answer);
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
    @Req() req: Req,
    @Purpose() purpose: string,
  ): Promise<unknown> {
    return this.read(req, purpose, 'record', this.hub.record(origin, id, q.version));
  }
}
