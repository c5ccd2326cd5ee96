import type { KeyObject } from 'node:crypto';

/**
 * How an app's API tokens are verified.
 * @example
 * { provide: AUTH_OPTIONS, inject: [FederationContext], useFactory: (f) => ({
 *     audience: apiAudience('kr'), publicKey: f.apiKey.publicKey, oidc: undefined }) }
 */
export interface AuthOptions {
  /** `aud` and `iss` that the app's own tokens carry, e.g. `fedintel:kr` or `fedintel:hub`. */
  readonly audience: string;
  /** Ed25519 public key that verifies the app's own tokens (EdDSA). */
  readonly publicKey: KeyObject;
  /** Optional external OIDC issuer whose JWKS also signs tokens for the same audience. */
  readonly oidc?: { readonly jwksUrl: string; readonly issuer: string | undefined } | undefined;
}

/** Injection token for the {@link AuthOptions} the {@link AuthGuard} uses. */
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');
