/**
 * Bad input on the command line: the CLI prints the message (which names the argument) and exits
 * with code 2. Anything else that fails exits with code 1.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    /** the argument at fault, e.g. `--member` */
    readonly argument: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${argument}: ${message}`, options);
  }
}

/** Member ids as the directory and the node accept them. */
export const MEMBER_ID = /^[a-z][a-z0-9-]{1,15}$/;

/** Parse a comma-separated member list, naming `argument` in any error. */
export function parseMemberList(value: string, argument: string): string[] {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0) throw new UsageError(argument, 'needs at least one member id');
  for (const id of ids) {
    if (!MEMBER_ID.test(id)) {
      throw new UsageError(argument, `"${id}" is not a member id ([a-z][a-z0-9-]{1,15})`);
    }
    if (id === 'hub' || id === 'all') {
      throw new UsageError(argument, `"${id}" is reserved and cannot be a member id`);
    }
  }
  if (new Set(ids).size !== ids.length) throw new UsageError(argument, 'lists a member twice');
  return ids;
}

/** Parse a positive integer option, naming `argument` in any error. */
export function parsePositiveInt(
  value: string,
  argument: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^\d+$/.test(value)) throw new UsageError(argument, `"${value}" is not a positive integer`);
  const n = Number(value);
  if (n < 1 || n > max) throw new UsageError(argument, `must be between 1 and ${max}`);
  return n;
}

/** Parse a TCP port option, naming `argument` in any error. */
export function parsePort(value: string, argument: string): number {
  return parsePositiveInt(value, argument, 65535);
}
