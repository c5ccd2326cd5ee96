import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to {@link JetStreamServer} unchanged.
 *
 * Nest's default RPC exception filter turns any error that is not an `RpcException` into a
 * generic `{ status: 'error', message: 'Internal server error' }`, which would hide a `permanent`
 * flag (or a `code`) from the transport: such an error would then be retried up to `maxDeliver`
 * before being dead-lettered. Register this filter for JetStream handlers
 * (`app.useGlobalFilters(new JetStreamExceptionFilter())` or `@UseFilters`) so that the transport
 * sees the original error. {@link PermanentMessageError} works with or without it.
 */
@Catch()
export class JetStreamExceptionFilter implements RpcExceptionFilter<unknown> {
  /** Rethrows `exception` as it is. */
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
