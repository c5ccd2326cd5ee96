import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { AUDIT_OPERATIONS } from './entry.js';

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID = /^[a-z][a-z0-9-]{0,31}$/;

/** Filters of `GET /api/v1/audit/entries` (all optional, combined with AND). */
export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'At or after (RFC 3339 ms)' })
  @IsOptional()
  @Matches(RFC3339_MS)
  since?: string;
  @ApiPropertyOptional({ description: 'Before (RFC 3339 ms)' })
  @IsOptional()
  @Matches(RFC3339_MS)
  until?: string;
  @ApiPropertyOptional({ description: 'API subject, member id or `system`' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._@:-]{1,128}$/)
  actor?: string;
  @ApiPropertyOptional({ enum: AUDIT_OPERATIONS })
  @IsOptional()
  @IsIn(AUDIT_OPERATIONS)
  op?: string;
  @ApiPropertyOptional({ description: 'Record id (UUID)' })
  @IsOptional()
  @Matches(/^[0-9a-f-]{36}$/)
  record?: string;
  @ApiPropertyOptional({ description: 'Partner member id (recipient or sender)' })
  @IsOptional()
  @Matches(ID)
  partner?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/)
  agreement?: string;
  @ApiPropertyOptional({ description: 'Only entries after this position (paging)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  afterSeq?: number;
  @ApiPropertyOptional({ default: 1000, maximum: 5000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export class InclusionQueryDto {
  @Type(() => Number) @IsInt() @Min(0) seq!: number;
  @ApiPropertyOptional({ description: 'Tree size (default: current)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  size?: number;
}

export class ConsistencyQueryDto {
  @Type(() => Number) @IsInt() @Min(0) from!: number;
  @ApiPropertyOptional({ description: 'Tree size (default: current)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  to?: number;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ description: 'Tree size to export up to (default: current)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  size?: number;
}
