import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { isPurpose, PURPOSE_CATEGORIES } from './entry.js';

/** Header that states why records are read (docs/audit.md, "Consultation"). */
export const PURPOSE_HEADER = 'x-purpose';

/**
 * The stated purpose of a read, from the `X-Purpose` header (node and hub APIs). A read without a
 * valid purpose is refused (400 `PURPOSE_REQUIRED`) before anything is read.
 */
export const Purpose = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
  const p = req.headers[PURPOSE_HEADER];
  if (!isPurpose(p)) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'PURPOSE_REQUIRED',
      message: `reading records needs an X-Purpose header: one of ${PURPOSE_CATEGORIES.join(', ')}, optionally followed by :<case reference> (letters, digits, _ / -)`,
    });
  }
  return p;
});
