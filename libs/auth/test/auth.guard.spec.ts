import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { generateKeyPairSync } from 'node:crypto';
import { apiAudience, issueApiToken, type ApiRole } from '../../keystore/src/index.js';
import { AuthGuard, Public, Roles, type Actor } from '../src/index.js';

class Routes {
  @Roles('hub-operator')
  operate(): void {}
  @Roles('hub-operator', 'auditor')
  read(): void {}
  @Public()
  health(): void {}
  unmarked(): void {}
}

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const guard = new AuthGuard(new Reflector(), {
  audience: apiAudience('hub'),
  publicKey: keys.publicKey,
});

function http(
  handler: keyof Routes,
  authorization?: string,
): { ctx: ExecutionContext; req: { actor?: Actor } } {
  const req: { headers: Record<string, string | undefined>; actor?: Actor } = {
    headers: { authorization },
  };
  const ctx = {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { ctx, req };
}

async function token(roles: ApiRole[], memberId = 'hub', key = keys.privateKey): Promise<string> {
  const t = await issueApiToken({
    memberId,
    subject: 'op.interpol',
    roles,
    kid: 'api-1',
    key,
    now: new Date(),
    ttlSeconds: 600,
  });
  return `Bearer ${t}`;
}

describe('AuthGuard', () => {
  it('lets a token with one of the route roles through and records the actor', async () => {
    const { ctx, req } = http('read', await token(['auditor']));
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(req.actor).toEqual({ subject: 'op.interpol', roles: ['auditor'] });
  });

  it('refuses a token without the route role with 403', async () => {
    const { ctx } = http('operate', await token(['auditor']));
    await expect(guard.canActivate(ctx)).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('refuses a missing, foreign-audience or foreign-key token with 401', async () => {
    await expect(guard.canActivate(http('operate').ctx)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    const foreign = await token(['hub-operator'], 'kr');
    await expect(guard.canActivate(http('operate', foreign).ctx)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    const forged = await token(['hub-operator'], 'hub', other.privateKey);
    await expect(guard.canActivate(http('operate', forged).ctx)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it('opens public routes without a token and closes unmarked routes to every token', async () => {
    await expect(guard.canActivate(http('health').ctx)).resolves.toBe(true);
    const { ctx } = http('unmarked', await token(['hub-operator', 'admin']));
    await expect(guard.canActivate(ctx)).rejects.toBeInstanceOf(ForbiddenException);
  });
});
