// Timing of the benchmarks: warm-up, several rounds, the median. Nothing here asserts a figure;
// machines differ too much for that, so the numbers go into docs/benchmarks.md instead.

/** Options shared by every scenario. */
export interface ScenarioOptions {
  /** Size of the workload (records, operations): each scenario documents its default. */
  n?: number;
  /** Tiny run for smoke tests: proves the code path, not the speed. */
  quick?: boolean;
}

/** One measured figure. */
export interface Figure {
  /** What was measured, as it appears in the table. */
  name: string;
  /** Operations per second (median round). */
  perSecond: number;
  /** Microseconds per operation (median round, wall clock). */
  usPerOp: number;
  /**
   * CPU microseconds per operation (median round, user + system of the whole process). On a
   * loaded machine wall time waits for the core; CPU time much less so.
   */
  cpuUsPerOp?: number;
  /** Unit of one operation: "op", "record", "bundle", "request"… */
  unit: string;
  /** Operations per round and number of rounds. */
  opsPerRound: number;
  rounds: number;
  /** Free-form note (e.g. the goal line). */
  note?: string;
  /** A duration, not a rate (latency percentiles): the table leaves the rate column empty. */
  durationOnly?: boolean;
}

/** The result of one scenario, written to bench/results/<scenario>.json. */
export interface Result {
  scenario: string;
  /** RFC 3339 timestamp of the run. */
  at: string;
  /** How the figures were obtained, one sentence each. */
  method: string[];
  figures: Figure[];
  /** Lines that state a goal and the measured value. */
  goals: string[];
}

const now = (): bigint => process.hrtime.bigint();

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs `round` (which performs `opsPerRound` operations) `warmup` times untimed, then `rounds`
 * times timed with process.hrtime.bigint, and reports the median round.
 */
export async function measure(p: {
  name: string;
  unit: string;
  opsPerRound: number;
  rounds: number;
  warmup: number;
  round: () => unknown;
  note?: string;
}): Promise<Figure> {
  for (let i = 0; i < p.warmup; i++) await p.round();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < p.rounds; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    await p.round();
    times.push(Number(now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push(c.user + c.system);
  }
  const usPerOp = median(times) / p.opsPerRound;
  return {
    name: p.name,
    unit: p.unit,
    perSecond: 1e6 / usPerOp,
    usPerOp,
    cpuUsPerOp: median(cpu) / p.opsPerRound,
    opsPerRound: p.opsPerRound,
    rounds: p.rounds,
    ...(p.note === undefined ? {} : { note: p.note }),
  };
}

/** A figure for one timed interval of `ops` operations (end-to-end runs that cannot repeat). */
export function single(name: string, unit: string, ops: number, us: number, note?: string): Figure {
  return {
    name,
    unit,
    perSecond: (ops * 1e6) / us,
    usPerOp: us / ops,
    opsPerRound: ops,
    rounds: 1,
    ...(note === undefined ? {} : { note }),
  };
}

/** A latency figure: `us` microseconds for one `unit`, no rate. */
export function duration(
  name: string,
  unit: string,
  us: number,
  samples: number,
  note?: string,
): Figure {
  return {
    name,
    unit,
    perSecond: 1e6 / us,
    usPerOp: us,
    opsPerRound: samples,
    rounds: 1,
    durationOnly: true,
    ...(note === undefined ? {} : { note }),
  };
}

/** The `q`-quantile (0..1) of a non-empty list, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil(q * s.length)));
  return s[rank - 1]!;
}

/** Microseconds since `t0` (a process.hrtime.bigint reading). */
export function elapsedUs(t0: bigint): number {
  return Number(now() - t0) / 1000;
}

export { now as hrnow };

/** Rounds a figure to 3 significant digits for tables, with thousands separators. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(3)).toString();
}

/** The Markdown table of a result's figures. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.name} | ${f.durationOnly === true ? '' : `${fmt(f.perSecond)} /s`} | ${fmt(f.usPerOp)} µs/${f.unit} | ${f.cpuUsPerOp === undefined ? '' : `${fmt(f.cpuUsPerOp)} µs`} | ${f.opsPerRound} × ${f.rounds} | ${f.note ?? ''}`,
  );
  return [
    '| operation | rate (wall) | wall time | CPU time | ops × rounds | note |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `${r} |`),
  ].join('\n');
}
