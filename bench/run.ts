// `npm run bench [-- <scenario>] [--n N] [--quick]`: runs every scenario (or the named ones),
// prints each table, writes bench/results/<scenario>.json and rewrites the scenario's section of
// docs/benchmarks.md.
import { runExchange } from './exchange.js';
import { runImport } from './import.js';
import { table, type Result, type ScenarioOptions } from './measure.js';
import { runProtocol } from './protocol.js';
import { machine, updateDocs, writeResult } from './report.js';

/** Every scenario by name, in the order `npm run bench` runs them. */
export const SCENARIOS: Readonly<Record<string, (opts: ScenarioOptions) => Promise<Result>>> = {
  protocol: runProtocol,
  exchange: runExchange,
  import: runImport,
};

interface Args {
  names: string[];
  opts: ScenarioOptions;
  docs: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const names: string[] = [];
  const opts: ScenarioOptions = {};
  let docs = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-docs') docs = false;
    else if (a === '--n' || a.startsWith('--n=')) {
      const v = a === '--n' ? argv[++i] : a.slice(4);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--n: a positive integer, not ${v}`);
      opts.n = n;
    } else if (a in SCENARIOS) names.push(a);
    else {
      throw new Error(
        `unknown argument ${a}; usage: run.js [${Object.keys(SCENARIOS).join('|')}]... [--n N] [--quick] [--no-docs]`,
      );
    }
  }
  // A quick run proves the code, its figures mean nothing: keep them out of the docs.
  if (opts.quick) docs = false;
  return { names: names.length > 0 ? names : Object.keys(SCENARIOS), opts, docs };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const m = machine();
  console.log(
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.natsServer}, load ${m.load1}`,
  );
  for (const name of args.names) {
    console.log(`\n== ${name}`);
    const result = await SCENARIOS[name]!(args.opts);
    console.log(table(result.figures));
    for (const g of result.goals) console.log(`goal: ${g}`);
    console.log(`result: ${writeResult(result, { machine: m })}`);
    if (args.docs) console.log(`docs: ${updateDocs(result, m)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
