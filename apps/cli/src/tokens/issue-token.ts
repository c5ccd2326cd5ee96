import {
  API_ROLES,
  issueApiToken,
  readMemberKeyFile,
  type ApiRole,
  type MemberKeyFile,
} from '../../../../libs/keystore/src/index.js';
import { importPrivateKey } from '../../../../libs/protocol/src/index.js';
import { UsageError } from '../usage-error.js';

/** Parse `analyst,supervisor` into API roles, naming `--role` in any error. */
export function parseRoles(value: string): ApiRole[] {
  const roles = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (roles.length === 0) throw new UsageError('--role', 'needs at least one role');
  for (const r of roles) {
    if (!(API_ROLES as readonly string[]).includes(r)) {
      throw new UsageError('--role', `"${r}" is not a role (one of ${API_ROLES.join(', ')})`);
    }
  }
  return [...new Set(roles)] as ApiRole[];
}

/** Read a member key file, reporting a missing or malformed file as bad `--keys` input. */
export function loadKeysArgument(file: string): MemberKeyFile {
  try {
    return readMemberKeyFile(file);
  } catch (e) {
    const why =
      (e as { code?: string }).code === 'ENOENT' ? 'no such file' : String((e as Error).message);
    throw new UsageError('--keys', `${file}: ${why}`, { cause: e });
  }
}

/** Issue a bearer token for a user of the node whose key file is given, signed with its api key. */
export async function issueToken(p: {
  keys: MemberKeyFile;
  roles: ApiRole[];
  subject: string;
  ttlSeconds: number;
  now: Date;
}): Promise<string> {
  if (p.subject.trim() === '') throw new UsageError('--subject', 'must not be empty');
  return issueApiToken({
    memberId: p.keys.memberId,
    subject: p.subject,
    roles: p.roles,
    kid: p.keys.api.kid,
    key: importPrivateKey(p.keys.api.privateJwk, 'Ed25519'),
    now: p.now,
    ttlSeconds: p.ttlSeconds,
  });
}
