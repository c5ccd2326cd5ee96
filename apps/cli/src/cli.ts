import { Command, CommanderError, Option } from 'commander';
import { BrokerError } from '../../../libs/broker/src/index.js';
import { registerAuditCommands } from './audit/audit-commands.js';
import { DemoInterrupted, describeDemo, runDemo } from './demo/demo.js';
import type { SampleSize } from './demo/sample.js';
import { registerBackupCommands } from './backup/backup-commands.js';
import { registerDirectoryCommands } from './directory/directory-commands.js';
import { registerInteropCommands } from './interop/commands.js';
import { registerTlsCommands } from './tls/tls-commands.js';
import { generateMemberKeys } from './keys/generate-keys.js';
import { writeNatsConfigs } from './nats/write-nats-configs.js';
import { issueToken, loadKeysArgument, parseRoles } from './tokens/issue-token.js';
import { UsageError, parseMemberList, parsePort, parsePositiveInt } from './usage-error.js';

/** Where the CLI writes; tests pass collectors, main.ts the process streams. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** resolves when the user asks the demo to stop (Ctrl-C); default: SIGINT or SIGTERM */
  interrupted?: () => Promise<void>;
}

/** Exit codes: 0 success, 1 unexpected failure, 2 bad input, 130 demo interrupted while starting. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** Resolves on the first SIGINT or SIGTERM (both handlers removed then). */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

function buildProgram(io: CliIo, verbose: { on: boolean }): Command {
  const line = (t: string) => io.out(`${t}\n`);
  const program = new Command('fedctl')
    .description('FedIntel operations: keys, tokens, NATS configs and the local federation demo')
    .option('--verbose', 'print stack traces of unexpected errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .hook('preAction', (cmd) => {
      verbose.on = Boolean(cmd.opts<{ verbose?: boolean }>().verbose);
    });

  program
    .command('demo')
    .description(
      'start a local federation (hub NATS, a leaf and a node per member, SQLite files), load ' +
        'sample records, show what crossed which border, run until Ctrl-C',
    )
    .option('--data-dir <dir>', 'data folder, wiped at start', './.fedintel/demo')
    .option('--members <ids>', 'comma-separated member ids', 'kr,vn,th')
    .option('--no-sample', 'load no sample records')
    .addOption(
      new Option('--sample-size <size>', 'how many sample records')
        .choices(['full', 'tiny'])
        .default('full'),
    )
    .action(
      async (o: { dataDir: string; members: string; sample: boolean; sampleSize: string }) => {
        const members = parseMemberList(o.members, '--members');
        const sample: SampleSize = o.sample ? (o.sampleSize as SampleSize) : 'none';
        const stopRequested = new AbortController();
        const interrupted = (io.interrupted ?? untilSignal)().then(() => stopRequested.abort());
        line(`starting a local federation of ${members.join(', ')} in ${o.dataDir} ...`);
        const demo = await runDemo({
          dataDir: o.dataDir,
          members,
          sample,
          signal: stopRequested.signal,
          log: (t) => line(`  ${t}`),
        });
        for (const l of describeDemo(demo)) line(l);
        line('');
        line('Running. Press Ctrl-C to stop everything.');
        await interrupted;
        line('stopping nodes and nats-servers ...');
        await demo.stop();
        line('stopped.');
      },
    );

  const keys = program.command('keys').description('member key files');
  keys
    .command('generate')
    .description(
      'write a member key file (signing, encryption, api keys; mode 0600) and print the public JWKs',
    )
    .requiredOption('--member <id>', 'member id, e.g. kr')
    .requiredOption('--out <file>', 'private key file to write')
    .option('--force', 'overwrite an existing key file')
    .action(async (o: { member: string; out: string; force?: boolean }) => {
      const r = await generateMemberKeys({ memberId: o.member, out: o.out, force: o.force });
      io.err(`wrote ${r.file} (mode 0600); public keys for the directory:\n`);
      line(JSON.stringify(r.publicKeys, null, 2));
    });

  const token = program.command('token').description('API bearer tokens');
  token
    .command('issue')
    .description("print a bearer token for a node's REST API, signed with the node's api key")
    .requiredOption('--keys <file>', "the node's key file")
    .requiredOption(
      '--role <roles>',
      'comma-separated: analyst, supervisor, auditor, admin, hub-operator',
    )
    .requiredOption('--subject <name>', 'who the token is for, e.g. analyst.kim')
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .action(async (o: { keys: string; role: string; subject: string; ttl: string }) => {
      const roles = parseRoles(o.role);
      const ttlSeconds = parsePositiveInt(o.ttl, '--ttl', 31 * 24 * 3600);
      const keyFile = loadKeysArgument(o.keys);
      line(
        await issueToken({ keys: keyFile, roles, subject: o.subject, ttlSeconds, now: new Date() }),
      );
    });

  const nats = program.command('nats').description('nats-server configurations');
  nats
    .command('config')
    .description('write hub, hub-store and per-member leaf configs plus credentials.json')
    .requiredOption('--members <ids>', 'comma-separated member ids')
    .option('--out <dir>', 'output folder', 'deploy/nats/generated')
    .option('--host <host>', 'interface every server listens on and connects to', '127.0.0.1')
    .option('--hub-client-port <port>', 'hub core client port', '4222')
    .option('--hub-leaf-port <port>', 'hub core leaf-node port', '7422')
    .option('--hub-monitor-port <port>', 'hub core monitoring port', '8222')
    .option('--hub-store-port <port>', 'hub store (JetStream domain hub) client port', '4223')
    .option('--hub-store-monitor-port <port>', 'hub store monitoring port', '8223')
    .option('--member-client-base <port>', 'first member leaf client port (+1 per member)', '4231')
    .option(
      '--member-monitor-base <port>',
      'first member leaf monitoring port (+1 per member)',
      '8231',
    )
    .option(
      '--store-root <dir>',
      'JetStream stores go to <dir>/<server>',
      '/var/lib/nats/jetstream',
    )
    .option(
      '--tls-dir <dir>',
      'TLS everywhere: folder where servers find ca.pem, <server>.pem, <server>-key.pem',
    )
    .option('--hub-leaf-hosts <hosts>', 'comma-separated hosts leaves dial (default: --host)')
    .option('--hub-cluster-routes <routes>', 'hub core cluster: comma-separated host:port routes')
    .option('--hub-cluster-port <port>', 'hub core cluster route port', '6222')
    .action(
      (o: {
        members: string;
        out: string;
        host: string;
        hubClientPort: string;
        hubLeafPort: string;
        hubMonitorPort: string;
        hubStorePort: string;
        hubStoreMonitorPort: string;
        memberClientBase: string;
        memberMonitorBase: string;
        storeRoot: string;
        tlsDir?: string;
        hubLeafHosts?: string;
        hubClusterRoutes?: string;
        hubClusterPort: string;
      }) => {
        const csv = (v: string) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
        const { files } = writeNatsConfigs({
          members: parseMemberList(o.members, '--members'),
          out: o.out,
          host: o.host,
          hubClientPort: parsePort(o.hubClientPort, '--hub-client-port'),
          hubLeafPort: parsePort(o.hubLeafPort, '--hub-leaf-port'),
          hubMonitorPort: parsePort(o.hubMonitorPort, '--hub-monitor-port'),
          hubStorePort: parsePort(o.hubStorePort, '--hub-store-port'),
          hubStoreMonitorPort: parsePort(o.hubStoreMonitorPort, '--hub-store-monitor-port'),
          memberClientBase: parsePort(o.memberClientBase, '--member-client-base'),
          memberMonitorBase: parsePort(o.memberMonitorBase, '--member-monitor-base'),
          storeRoot: o.storeRoot,
          tlsDir: o.tlsDir,
          hubLeafHosts: o.hubLeafHosts === undefined ? undefined : csv(o.hubLeafHosts),
          hubCluster:
            o.hubClusterRoutes === undefined
              ? undefined
              : {
                  name: 'fedintel-hub',
                  port: parsePort(o.hubClusterPort, '--hub-cluster-port'),
                  routes: csv(o.hubClusterRoutes),
                },
        });
        for (const f of files) line(`wrote ${f}`);
      },
    );

  registerDirectoryCommands(program, line);
  registerBackupCommands(program, line);
  registerInteropCommands(program, io);
  registerAuditCommands(program, line, (t) => io.err(`${t}\n`));
  registerTlsCommands(program, line);

  return program;
}

/**
 * Run `fedctl` with `argv` (without the node and script paths) and return the exit code:
 * 0 success (and `--help`), 2 bad input (the message names the argument), 1 anything else
 * (message only; the stack with `--verbose`).
 */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const verbose = { on: argv.includes('--verbose') };
  const program = buildProgram(io, verbose);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message (which names the option or command).
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
      if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync')
        return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return EXIT.usage;
    }
    if (e instanceof DemoInterrupted) {
      io.err(`fedctl: ${e.message}\n`);
      return EXIT.interrupted;
    }
    if (e instanceof UsageError || (e instanceof BrokerError && e.code === 'INVALID_TOPOLOGY')) {
      io.err(`fedctl: ${e.message}\n`);
      return EXIT.usage;
    }
    // Duck-typed: errors from Node built-ins may come from another realm (e.g. under Jest).
    const err =
      typeof e === 'object' && e !== null ? (e as { message?: unknown; stack?: unknown }) : {};
    const message = typeof err.message === 'string' ? err.message : String(e);
    io.err(`fedctl: ${message}\n`);
    if (verbose.on && typeof err.stack === 'string') io.err(`${err.stack}\n`);
    return EXIT.failure;
  }
}
