import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  CONTENT_CATEGORIES,
  HANDLING_CODES,
  INDICATOR_TYPES,
  RELATION_TYPES,
  RELIABILITY,
  TLP_LEVELS,
} from '../../../../libs/protocol/src/index.js';

// Shape only: whether a value is valid (canonical form, checksums, dates, scope) is decided by
// libs/protocol, the same code everywhere. These DTOs refuse unknown and mistyped fields.

// Shared with the bulk endpoint's hand-written check (bulk-items.pipe.ts).
export const RFC3339_MS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ADDRESSEE_PATTERN = /^([a-z][a-z0-9-]{1,15}|group:[a-z][a-z0-9-]{1,15})$/;
export const RECORD_ID_PATTERN_DTO = /^[0-9a-f-]{36}$/;
export const MEMBER_ID_PATTERN_DTO = /^[a-z][a-z0-9-]{1,15}$/;
/** Most items in one bulk request. */
export const BULK_MAX_ITEMS = 5000;
const RFC3339_MS = RFC3339_MS_PATTERN;
const ADDRESSEE = ADDRESSEE_PATTERN;

export class HandlingDto {
  @ApiProperty({ enum: HANDLING_CODES })
  @IsIn(HANDLING_CODES)
  code!: (typeof HANDLING_CODES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) conditions?: string;
}

export class ScopeDto {
  @ApiProperty({ example: ['vn', 'group:kr-vn-mou', 'hub', 'all'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @Matches(ADDRESSEE, {
    each: true,
    message: 'each addressee must be a member id, group:<id>, hub or all',
  })
  addressees!: string[];
}

export class RelationDto {
  @ApiProperty({ enum: RELATION_TYPES })
  @IsIn(RELATION_TYPES)
  type!: (typeof RELATION_TYPES)[number];
  @ApiProperty()
  @Matches(RECORD_ID_PATTERN_DTO, { message: 'target must be a record id (UUID)' })
  target!: string;
  @ApiProperty() @Matches(MEMBER_ID_PATTERN_DTO) targetOrigin!: string;
}

export class LocalFieldsDto {
  @ApiPropertyOptional({ description: 'Never leaves this node' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  caseReference?: string;
  @ApiPropertyOptional({ description: 'Never leaves this node' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  sources?: string[];
  @ApiPropertyOptional({ description: 'Never leaves this node' })
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  notes?: string;
  @ApiPropertyOptional({ description: 'Never leaves this node' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  evidence?: string[];
}

class IndicatorFieldsDto {
  @ApiProperty({ enum: CONTENT_CATEGORIES, isArray: true })
  @IsArray()
  @ArrayMaxSize(6)
  @IsIn(CONTENT_CATEGORIES, { each: true })
  categories!: (typeof CONTENT_CATEGORIES)[number][];

  @ApiProperty({ minimum: 0, maximum: 100 }) @IsInt() @Min(0) @Max(100) confidence!: number;
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00.000Z' })
  @IsOptional()
  @Matches(RFC3339_MS, { message: 'firstSeen must be RFC 3339 UTC with milliseconds' })
  firstSeen?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(RFC3339_MS, { message: 'lastSeen must be RFC 3339 UTC with milliseconds' })
  lastSeen?: string;
  @ApiPropertyOptional({ description: 'Default: 180 days from now' })
  @IsOptional()
  @Matches(RFC3339_MS, { message: 'validUntil must be RFC 3339 UTC with milliseconds' })
  validUntil?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(RFC3339_MS, { message: 'reviewBy must be RFC 3339 UTC with milliseconds' })
  reviewBy?: string;
  @ApiProperty({ enum: TLP_LEVELS }) @IsIn(TLP_LEVELS) tlp!: (typeof TLP_LEVELS)[number];
  @ApiProperty({ type: HandlingDto })
  @ValidateNested()
  @Type(() => HandlingDto)
  handling!: HandlingDto;
  @ApiProperty({ enum: RELIABILITY }) @IsIn(RELIABILITY) reliability!: (typeof RELIABILITY)[number];
  @ApiProperty({ enum: [1, 2, 3, 4] }) @IsIn([1, 2, 3, 4]) accuracy!: 1 | 2 | 3 | 4;
  @ApiProperty({ type: ScopeDto }) @ValidateNested() @Type(() => ScopeDto) scope!: ScopeDto;
  @ApiPropertyOptional({ type: [RelationDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => RelationDto)
  relations?: RelationDto[];
  @ApiPropertyOptional({ description: 'Free text explicitly marked shareable' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  sharedNote?: string;
  @ApiPropertyOptional({ type: LocalFieldsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => LocalFieldsDto)
  local?: LocalFieldsDto;
}

export class CreateIndicatorDto extends IndicatorFieldsDto {
  @ApiProperty({ enum: INDICATOR_TYPES })
  @IsIn(INDICATOR_TYPES)
  type!: (typeof INDICATOR_TYPES)[number];
  @ApiProperty({ example: 'newtoki469.com' }) @IsString() @MaxLength(2048) value!: string;
  @ApiPropertyOptional({ example: 'iban' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  subtype?: string;
  @ApiPropertyOptional({ example: 'bitcoin' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  chain?: string;
}

/** Update: every field optional; type and value never change (a new value is a new indicator). */
export class UpdateIndicatorDto {
  @ApiPropertyOptional({ enum: CONTENT_CATEGORIES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(6)
  @IsIn(CONTENT_CATEGORIES, { each: true })
  categories?: (typeof CONTENT_CATEGORIES)[number][];
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(100) confidence?: number;
  @ApiPropertyOptional() @IsOptional() @Matches(RFC3339_MS) lastSeen?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(RFC3339_MS) validUntil?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(RFC3339_MS) reviewBy?: string;
  @ApiPropertyOptional({ enum: TLP_LEVELS })
  @IsOptional()
  @IsIn(TLP_LEVELS)
  tlp?: (typeof TLP_LEVELS)[number];
  @ApiPropertyOptional({ type: HandlingDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => HandlingDto)
  handling?: HandlingDto;
  @ApiPropertyOptional({ enum: RELIABILITY })
  @IsOptional()
  @IsIn(RELIABILITY)
  reliability?: (typeof RELIABILITY)[number];
  @ApiPropertyOptional({ enum: [1, 2, 3, 4] }) @IsOptional() @IsIn([1, 2, 3, 4]) accuracy?:
    1 | 2 | 3 | 4;
  @ApiPropertyOptional({ type: ScopeDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScopeDto)
  scope?: ScopeDto;
  @ApiPropertyOptional({ type: [RelationDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => RelationDto)
  relations?: RelationDto[];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(4000) sharedNote?: string;
  @ApiPropertyOptional({ type: LocalFieldsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => LocalFieldsDto)
  local?: LocalFieldsDto;
}

/**
 * The bulk body as OpenAPI documents it. The endpoint checks it with BulkItemsPipe (the same
 * rules and messages, written out; ADR 0047), not with class-validator.
 */
export class BulkCreateDto {
  @ApiProperty({ type: [CreateIndicatorDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => CreateIndicatorDto)
  items!: CreateIndicatorDto[];
}

export class SearchQueryDto {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: string;
  @ApiPropertyOptional({
    description: 'Normalized value (exact match); raw input is normalized when type is given',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  value?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(/^[a-z][a-z0-9-]{1,15}$/) origin?: string;
  @ApiPropertyOptional({ enum: CONTENT_CATEGORIES })
  @IsOptional()
  @IsIn(CONTENT_CATEGORIES)
  category?: string;
  @ApiPropertyOptional({ enum: ['active', 'retracted'] })
  @IsOptional()
  @IsIn(['active', 'retracted'])
  status?: string;
  @ApiPropertyOptional({ description: 'Updated at or after (RFC 3339 ms)' })
  @IsOptional()
  @Matches(RFC3339_MS)
  since?: string;
  @ApiPropertyOptional({ description: 'Updated before (RFC 3339 ms)' })
  @IsOptional()
  @Matches(RFC3339_MS)
  until?: string;
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  page?: number;
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize?: number;
}
