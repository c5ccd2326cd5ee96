import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { API_ROLES, type ApiRole } from '../../keystore/src/index.js';
import { AUTH_OPTIONS, type AuthOptions } from './auth.options.js';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator.js';

/** The authenticated caller, attached to the request. */
export interface Actor {
  subject: string;
  roles: ApiRole[];
}

/**
 * Global guard: every route needs a valid bearer JWT with one of its roles, unless marked
 * `@Public()`. A route with neither marker is refused (closed by default).
 * Register it with `{ provide: APP_GUARD, useClass: AuthGuard }` next to an {@link AUTH_OPTIONS}
 * provider.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly oidc: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {
    this.oidc = options.oidc ? createRemoteJWKSet(new URL(options.oidc.jwksUrl)) : undefined;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    // Federation messages are authenticated by the broker's ACLs and the origin's signature,
    // checked by the receiving service; bearer tokens are for the HTTP API only.
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES_KEY, targets);
    const req = ctx
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; actor?: Actor }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match?.[1]) throw new UnauthorizedException('missing bearer token');
    const payload = await this.verify(match[1]);
    const granted = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is ApiRole => API_ROLES.includes(r as ApiRole))
      : [];
    if (!roles || roles.length === 0) throw new ForbiddenException('route has no roles');
    if (!granted.some((r) => roles.includes(r))) {
      throw new ForbiddenException(`requires one of the roles: ${roles.join(', ')}`);
    }
    req.actor = { subject: String(payload.sub ?? 'unknown'), roles: granted };
    return true;
  }

  private async verify(token: string): Promise<JWTPayload> {
    const audience = this.options.audience;
    try {
      const { payload } = await jwtVerify(token, this.options.publicKey, {
        algorithms: ['EdDSA'],
        audience,
        issuer: audience,
      });
      return payload;
    } catch (first) {
      if (!this.oidc) throw new UnauthorizedException('invalid token', { cause: first });
      try {
        const { payload } = await jwtVerify(token, this.oidc, {
          algorithms: ['EdDSA', 'ES256', 'RS256'],
          audience,
          issuer: this.options.oidc?.issuer,
        });
        return payload;
      } catch (second) {
        throw new UnauthorizedException('invalid token', { cause: second });
      }
    }
  }
}
