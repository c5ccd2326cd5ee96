import { run } from '../../apps/cli/src/cli.js';

/** fedctl in this process (the CLI's own `run`), with what it printed to stdout and stderr. */
export async function fedctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  return { code, out, err };
}
