// Public door of libs/auth: bearer-JWT authentication and role authorization for the REST APIs
// of the node, the hub and the auditor. Generic: each app says, through AUTH_OPTIONS, which
// audience its tokens carry and which key (and optional OIDC issuer) signs them.
export { AUTH_OPTIONS, type AuthOptions } from './auth.options.js';
export { AuthGuard, type Actor } from './auth.guard.js';
export { PUBLIC_KEY, ROLES_KEY, Public, Roles } from './roles.decorator.js';
export { METRICS_OPERATION, requireMetricsToken, serveMetrics } from './metrics-token.js';
