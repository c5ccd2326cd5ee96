// Where benchmark results go: a JSON file per scenario (bench/results/, gitignored) and the
// generated sections of docs/benchmarks.md. Hand-written analysis in that file lives outside the
// generated markers and survives every run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerBinary } from '../libs/testing/src/index.js';
import { table, type Result } from './measure.js';

/** The repository root, found from this file (bench/ in the sources, dist/bench/ when built). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The machine a run happened on, as docs/benchmarks.md states it. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  natsServer: string;
  /** 1-minute load average at the start of the run: other work on the box skews every figure. */
  load1: number;
}

/** Cores, memory, Node and nats-server versions of this machine. */
export function machine(): Machine {
  let natsServer = 'not found';
  try {
    natsServer = execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // A protocol-only run does not need nats-server; say so rather than fail.
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** Writes bench/results/<scenario>.json and returns its path. */
export function writeResult(result: Result, extra: Record<string, unknown> = {}): string {
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.scenario}.json`);
  writeFileSync(file, `${JSON.stringify({ ...result, ...extra }, null, 2)}\n`);
  return file;
}

const DOC_SKELETON = `# Benchmarks

Figures produced by \`npm run bench\` (all scenarios) or \`node dist/bench/run.js <scenario>\` after
\`npm run build\`. The sections between the \`bench:\` markers are rewritten by each run; the
rest is written by hand.
`;

/** The generated Markdown of one scenario's section. */
export function section(result: Result, m: Machine): string {
  return [
    `### ${result.scenario} (run ${result.at})`,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.natsServer}, ` +
      `load average ${m.load1} at start.`,
    '',
    'Method:',
    '',
    ...result.method.map((l) => `- ${l}`),
    '',
    table(result.figures),
    '',
    ...(result.goals.length > 0 ? ['Goals:', '', ...result.goals.map((g) => `- ${g}`), ''] : []),
  ].join('\n');
}

/**
 * Replaces the scenario's generated section of docs/benchmarks.md (between
 * `<!-- bench:<scenario>:start -->` and `<!-- bench:<scenario>:end -->`), appending it if absent.
 */
export function updateDocs(result: Result, m: Machine, docPath?: string): string {
  const file = docPath ?? resolve(repoRoot(), 'docs', 'benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : DOC_SKELETON;
  const start = `<!-- bench:${result.scenario}:start -->`;
  const end = `<!-- bench:${result.scenario}:end -->`;
  const body = `${start}\n${section(result, m)}${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + body + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${body}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, next);
  return file;
}

/**
 * Formats a Markdown file with the repository's Prettier settings, so that a benchmark run leaves
 * docs/benchmarks.md as `npm run check` wants it (the generated tables are not aligned).
 */
export async function formatMarkdown(file: string): Promise<void> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
}
