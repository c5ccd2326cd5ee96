import { UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';

/**
 * The check of `GET /metrics` on a node and on the hub: with a configured token the request must
 * carry `Authorization: Bearer <token>` (compared in constant time); without one it is open.
 * @throws UnauthorizedException otherwise
 */
export function requireMetricsToken(
  authorization: string | undefined,
  token: string | undefined,
): void {
  if (!token) return;
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  const given = Buffer.from(m?.[1] ?? '');
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new UnauthorizedException('metrics token required');
  }
}
