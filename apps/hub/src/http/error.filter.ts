import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { ProtocolError } from '../../../../libs/protocol/src/index.js';
import { HubError } from '../api/hub.errors.js';

type Res = { status(code: number): Res; json(body: unknown): void };

const HUB_STATUS = { NOT_FOUND: 404, BAD_CURSOR: 400 } as const;

/** The one place where domain and protocol errors become HTTP responses. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(e: unknown, host: ArgumentsHost): void | Observable<never> {
    // Message handlers keep their own error semantics (ack, retry, dead-letter) in the transport.
    if (host.getType() !== 'http') return throwError(() => e);
    const res = host.switchToHttp().getResponse<Res>();
    if (e instanceof HubError) {
      const status = HUB_STATUS[e.code];
      res.status(status).json({ statusCode: status, error: e.code, message: e.message });
    } else if (e instanceof ProtocolError) {
      res.status(400).json({ statusCode: 400, error: e.code, field: e.field, message: e.message });
    } else if (e instanceof HttpException) {
      const body = e.getResponse();
      res
        .status(e.getStatus())
        .json(typeof body === 'string' ? { statusCode: e.getStatus(), message: body } : body);
    } else {
      this.log.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      res.status(500).json({ statusCode: 500, error: 'INTERNAL', message: 'internal error' });
    }
  }
}
