import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A TAXII consumer account. Secrets are stored as SHA-256 hex digests (`printf %s secret |
 * sha256sum`), never in clear. An account sees only the collections listed for it.
 */
export interface TaxiiAccount {
  name: string;
  /** HTTP Basic: user `name`, this password. */
  passwordSha256?: string;
  /** `Authorization: Token <t>` (taxii2-client) or `Authorization: Bearer <t>`. */
  tokenSha256?: string;
  /** Collection ids this account may read. */
  read: readonly string[];
  /** Collection ids this account may write (POST objects). */
  write: readonly string[];
  /**
   * Why this consumer reads (a purpose, docs/audit.md): logged with each of its reads unless the
   * request states another in `X-Purpose`. Required in the hosts' TAXII configuration.
   */
  purpose: string;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function matches(secret: string, digestHex: string | undefined): boolean {
  if (!digestHex || !/^[0-9a-f]{64}$/i.test(digestHex)) return false;
  return timingSafeEqual(sha256(secret), Buffer.from(digestHex, 'hex'));
}

/** The account an `Authorization` header authenticates, or undefined. */
export function authenticate(
  header: string | undefined,
  accounts: readonly TaxiiAccount[],
): TaxiiAccount | undefined {
  if (!header) return undefined;
  const m = /^(Basic|Token|Bearer)\s+(\S+)$/i.exec(header.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const cred = m[2]!;
  if (scheme === 'basic') {
    const text = Buffer.from(cred, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    const user = text.slice(0, colon);
    const pass = text.slice(colon + 1);
    const a = accounts.find((x) => x.name === user);
    // Compare even when the user is unknown, so timing does not reveal account names.
    const ok = matches(pass, a?.passwordSha256 ?? '0'.repeat(64));
    return a && ok ? a : undefined;
  }
  let found: TaxiiAccount | undefined;
  for (const a of accounts) if (matches(cred, a.tokenSha256)) found = a;
  return found;
}
