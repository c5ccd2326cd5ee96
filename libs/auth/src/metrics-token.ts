import { UnauthorizedException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** The OpenAPI description of `GET /metrics`, the same on a node and on the hub. */
export const METRICS_OPERATION = {
  summary: 'Prometheus metrics (text exposition format)',
  description:
    'Open unless FEDINTEL_METRICS_TOKEN is set; then `Authorization: Bearer <token>` is required.',
};

/** Answer a scrape: the token check, then the registry's exposition text with its content type. */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  scrape: () => Promise<{ contentType: string; body: string }>,
): Promise<void> {
  requireMetricsToken(req.headers.authorization, token);
  const { contentType, body } = await scrape();
  res.setHeader('Content-Type', contentType);
  res.end(body);
}
