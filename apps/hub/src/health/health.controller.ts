import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../../../../libs/auth/src/index.js';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  @Get()
  @ApiOkResponse({ description: 'The hub process is up' })
  health(): { status: 'ok'; service: 'hub' } {
    return { status: 'ok', service: 'hub' };
  }
}
