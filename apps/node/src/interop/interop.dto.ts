import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
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
import { INDICATOR_TYPES, RELIABILITY, TLP_LEVELS } from '../../../../libs/protocol/src/index.js';
import { UpdateIndicatorDto } from '../indicators/indicator.dto.js';
import { MAX_IMPORT_ITEMS } from './interop.service.js';

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const bool = ({ value }: { value: unknown }) =>
  value === true || value === 'true' ? true : value === false || value === 'false' ? false : value;

/** Defaults for what a STIX bundle or MISP event leaves unsaid, and the dry-run switch. */
export class ImportQueryDto {
  @ApiPropertyOptional({ description: 'Validate and report; store nothing', default: false })
  @IsOptional()
  @Transform(bool)
  @IsBoolean()
  dryRun?: boolean;
  @ApiPropertyOptional({
    enum: TLP_LEVELS,
    description: 'TLP of unmarked objects',
    default: 'AMBER',
  })
  @IsOptional()
  @IsIn(TLP_LEVELS)
  tlp?: (typeof TLP_LEVELS)[number];
  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100)
  confidence?: number;
  @ApiPropertyOptional({ enum: RELIABILITY, default: 'X' })
  @IsOptional()
  @IsIn(RELIABILITY)
  reliability?: (typeof RELIABILITY)[number];
  @ApiPropertyOptional({ enum: [1, 2, 3, 4], default: 3 })
  @IsOptional()
  @Type(() => Number)
  @IsIn([1, 2, 3, 4])
  accuracy?: 1 | 2 | 3 | 4;
  @ApiPropertyOptional({ enum: ['H0', 'H1', 'H2'], default: 'H0' })
  @IsOptional()
  @IsIn(['H0', 'H1', 'H2'])
  handling?: 'H0' | 'H1' | 'H2';
}

/**
 * What the rows of one import request share, stated once (ADR 0054): a row takes each field it
 * does not carry from here. `ImportRowsPipe` applies the rules; these classes document them.
 */
export class ImportDefaultsDto extends PickType(UpdateIndicatorDto, [
  'categories',
  'confidence',
  'validUntil',
  'tlp',
  'handling',
  'reliability',
  'accuracy',
  'sharedNote',
] as const) {
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: (typeof INDICATOR_TYPES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) subtype?: string;
  @ApiPropertyOptional() @IsOptional() @IsIn(['bitcoin', 'ethereum']) chain?:
    'bitcoin' | 'ethereum';
  @ApiPropertyOptional() @IsOptional() @Matches(RFC3339_MS) firstSeen?: string;
}

/**
 * One row already read from a CSV or list by `fedctl` (normalized again by the node): `ref` and
 * `value`, and every other field unless `defaults` gives it. `type`, `categories`, `confidence`,
 * `tlp`, `handling`, `reliability` and `accuracy` are required from one or the other.
 */
export class ImportItemDto extends ImportDefaultsDto {
  @ApiProperty({ example: 'line 12' }) @IsString() @MaxLength(200) ref!: string;
  @ApiProperty() @IsString() @MaxLength(2048) value!: string;
  @ApiPropertyOptional({
    description:
      'Where the row came from (kept locally, never shared); default file:<file>#<ref>, or <ref>',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  source?: string;
}

export class ImportItemsDto {
  @ApiProperty({ type: [ImportItemDto], maxItems: MAX_IMPORT_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => ImportItemDto)
  items!: ImportItemDto[];
  @ApiPropertyOptional({ type: ImportDefaultsDto, description: 'Fields the rows share' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ImportDefaultsDto)
  defaults?: ImportDefaultsDto;
  @ApiPropertyOptional({
    example: 'piracy-domains.txt',
    description: 'Name of the file read: a row without `source` gets file:<file>#<ref>',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  file?: string;
  @ApiPropertyOptional({
    enum: ['all', 'invalid'],
    default: 'all',
    description: '`invalid`: the answer lists only refused rows (the counts cover all rows)',
  })
  @IsOptional()
  @IsIn(['all', 'invalid'])
  report?: 'all' | 'invalid';
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() dryRun?: boolean;
}

export class ExportQueryDto {
  @ApiProperty({ enum: ['stix', 'misp', 'csv'] }) @IsIn(['stix', 'misp', 'csv']) format!:
    'stix' | 'misp' | 'csv';
  @ApiPropertyOptional({ enum: INDICATOR_TYPES })
  @IsOptional()
  @IsIn(INDICATOR_TYPES)
  type?: string;
  @ApiPropertyOptional({ example: 'kr' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{1,15}$/)
  origin?: string;
  @ApiPropertyOptional({ description: 'Only records changed after this time (RFC 3339 UTC ms)' })
  @IsOptional()
  @Matches(RFC3339_MS)
  since?: string;
  @ApiPropertyOptional({ default: 10000, maximum: 100000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  limit?: number;
}
