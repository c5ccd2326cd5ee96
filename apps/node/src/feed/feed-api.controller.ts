import { BadRequestException, Controller, Get, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Roles, type Actor } from '../../../../libs/auth/src/index.js';
import { INDICATOR_TYPES } from '../../../../libs/protocol/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { Purpose } from '../../../../libs/audit/src/index.js';
import { FeedService } from './feed.service.js';

export class FeedQueryDto {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: string;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (`nextCursor`)' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  cursor?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

function decodeCursor(c: string | undefined): { type: string; value: string } | undefined {
  if (c === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string'
    ) {
      return { type: v[0], value: v[1] };
    }
  } catch {
    // fall through
  }
  throw new BadRequestException({
    statusCode: 400,
    error: 'BAD_CURSOR',
    message: 'cursor is not valid',
  });
}

/** The hub's aggregated feed as this member received it (signed by the hub, verified on receipt). */
@ApiTags('feed')
@ApiBearerAuth()
@Controller('api/v1/feed')
export class FeedApiController {
  constructor(
    private readonly feed: FeedService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Roles('analyst', 'supervisor')
  @ApiOperation({ summary: 'Aggregated indicators from the hub feed (ordered by type, value)' })
  @ApiOkResponse({ description: '{ items: { type, value, item, seq, updatedAt }[], nextCursor }' })
  @ApiHeader({
    name: 'X-Purpose',
    required: true,
    description: 'why: investigation[:case-ref], analysis, ... (the read is logged)',
  })
  async list(
    @Query() q: FeedQueryDto,
    @Purpose() purpose: string,
    @Req() req: { actor: Actor },
  ): Promise<unknown> {
    const limit = q.limit ?? 50;
    const rows = await this.feed.page({ type: q.type }, decodeCursor(q.cursor), limit + 1);
    const items = rows.slice(0, limit);
    // A consultation like any read of records: who, why, how much of the hub's feed (no values).
    await this.audit.consulted(req.actor.subject, purpose, [], {
      source: 'hub-feed',
      items: items.length,
    });
    const last = items[items.length - 1];
    return {
      items: items.map((r) => ({
        type: r.type,
        value: r.value,
        item: r.item,
        seq: String(r.seq),
        updatedAt: r.updatedAt,
      })),
      nextCursor:
        rows.length > limit && last
          ? Buffer.from(JSON.stringify([last.type, last.value]), 'utf8').toString('base64url')
          : null,
    };
  }
}
