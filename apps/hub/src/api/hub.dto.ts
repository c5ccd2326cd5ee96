import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { STAT_DIMENSIONS } from '../../../../libs/correlation/src/index.js';
import { CONTENT_CATEGORIES, INDICATOR_TYPES } from '../../../../libs/protocol/src/index.js';

// Shape only; the strict global ValidationPipe refuses unknown and mistyped parameters with 400.

const COUNTRY = /^[A-Z]{2}$/;

export class PageQueryDto {
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

export class AggregateQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: string;

  @ApiPropertyOptional({ description: 'Prefix of the normalized value, e.g. `toonkor`' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  valuePrefix?: string;

  @ApiPropertyOptional({ description: 'ISO 3166-1 alpha-2 country with a sighting, e.g. `KR`' })
  @IsOptional()
  @Matches(COUNTRY, { message: 'country must be two upper-case letters, e.g. KR' })
  country?: string;

  @ApiPropertyOptional({ enum: CONTENT_CATEGORIES })
  @IsOptional()
  @IsIn(CONTENT_CATEGORIES)
  category?: string;

  @ApiPropertyOptional({ description: 'Least number of contributing records', minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  minSources?: number;
}

export class NetworkQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only networks spanning this country, e.g. `VN`' })
  @IsOptional()
  @Matches(COUNTRY, { message: 'country must be two upper-case letters, e.g. KR' })
  country?: string;
}

export class StatsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STAT_DIMENSIONS, default: 'country-pair' })
  @IsOptional()
  @IsIn(STAT_DIMENSIONS)
  dimension?: (typeof STAT_DIMENSIONS)[number];
}

export class RecordQueryDto {
  @ApiPropertyOptional({ description: 'Version (default: the latest the hub accepted)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}
