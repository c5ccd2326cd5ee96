// `npm run bench [-- <scenario>] [--n N] [--quick]`: runs every scenario (or the named ones),
// prints each table, writes bench/results/<scenario>.json and rewrites the scenario's section of
// docs/benchmarks.md.
import { pathToFileURL } from 'node:url';
import { runAudit } from './audit.js';
import { runCatchup } from './catchup.js';
import { runExchange } from './exchange.js';
import { runHub } from './hub.js';
import { runLatency } from './latency.js';
import { runImport } from './import.js';
import { table, type Result, type ScenarioOptions } from './measure.js';
import { runProtocol } from './protocol.js';
import { formatMarkdown, machine, updateDocs, writeResult } from './report.js';

/**
 * Every scenario by name, in the order `npm run bench` runs them. A new scenario is one line
 * here: a function of {@link ScenarioOptions} that returns a {@link Result}; the result file and
 * the docs section (markers `bench:<result.scenario>`) follow from the result's scenario name.
 */
export const SCENARIOS: Readonly<Record<string, (opts: ScenarioOptions) => Promise<Result>>> = {
  protocol: runProtocol,
  exchange: (o) => runExchange({ ...o, database: 'sqlite' }),
  'exchange-postgres': (o) => runExchange({ ...o, database: 'postgres' }),
  latency: runLatency,
  catchup: runCatchup,
  import: runImport,
  hub: runHub,
  audit: runAudit,
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
    if (args.docs) {
      const doc = updateDocs(result, m);
      await formatMarkdown(doc);
      console.log(`docs: ${doc}`);
    }
  }
}

// Run only as a script (`node dist/bench/run.js`), not when a test imports the registry.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exitCode = 1;
  });
}
