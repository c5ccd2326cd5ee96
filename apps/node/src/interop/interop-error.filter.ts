import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { InteropError } from '../../../../libs/interop/src/index.js';

type Res = { status(code: number): Res; json(body: unknown): void };

/** A document that is not what its endpoint reads (not a bundle, not an event): 400 with its code. */
@Catch(InteropError)
export class InteropErrorFilter implements ExceptionFilter {
  catch(e: InteropError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Res>();
    res.status(400).json({ statusCode: 400, error: e.code, message: e.message });
  }
}
