import { SetMetadata } from '@nestjs/common';
import type { ApiRole } from '../../keystore/src/index.js';

export const ROLES_KEY = 'fedintel:roles';
export const PUBLIC_KEY = 'fedintel:public';

/** Roles allowed on a route (any of them). Every route has either this or {@link Public}. */
export const Roles = (...roles: ApiRole[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);

/** A route open without a token (health, OpenAPI). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
