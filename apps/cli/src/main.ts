// fedctl entry point: everything lives in cli.ts so tests can run the CLI in-process.
import { run } from './cli.js';

process.exitCode = await run(process.argv.slice(2));
