import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A node application started as a child process of the CLI. */
export interface NodeProcess {
  readonly id: string;
  readonly url: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL when the process has not exited after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Spawn `node <entry>` with exactly `env` (plus PATH and HOME), output appended to `logFile`.
 * Apps never import each other: the CLI runs the compiled node as a separate process.
 */
export function spawnNode(p: {
  id: string;
  entry: string;
  env: Record<string, string>;
  url: string;
  logFile: string;
  /** V8 flags before the entry (a member node gets NODE_PROCESS_FLAGS). */
  nodeArgs?: readonly string[];
}): NodeProcess {
  const fd = openSync(p.logFile, 'a');
  // The parent's FEDINTEL_* and NODE_OPTIONS (jest's vm-modules flag) must not leak into a node.
  const inherited: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG']) {
    const v = process.env[k];
    if (v !== undefined) inherited[k] = v;
  }
  const child: ChildProcess = spawn(process.execPath, [...(p.nodeArgs ?? []), p.entry], {
    env: { ...inherited, ...p.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const isRunning = () =>
    child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    id: p.id,
    url: p.url,
    logFile: p.logFile,
    get pid() {
      return child.pid;
    },
    get running() {
      return isRunning();
    },
    async stop(graceMs = 5_000) {
      if (!isRunning() || child.pid === undefined) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!done && isRunning()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Wait until `GET <url>/health` answers 200, failing early if the process dies. */
export async function waitHealthy(node: NodeProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!node.running) {
      throw new Error(
        `node ${node.id} exited during start-up; ${node.logFile}:\n${tail(node.logFile)}`,
      );
    }
    try {
      const res = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `node ${node.id} not healthy after ${timeoutMs} ms; ${node.logFile}:\n${tail(node.logFile)}`,
      );
    }
    await sleep(100);
  }
}
