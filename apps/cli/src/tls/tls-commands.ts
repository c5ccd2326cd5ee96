import { Option, type Command } from 'commander';
import { UsageError, parsePositiveInt } from '../usage-error.js';
import { createCa, issueCertificate, type TlsKeyType } from './tls.js';

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const keyTypeOption = () =>
  new Option('--key-type <type>', 'key algorithm').choices(['p256', 'ed25519']).default('p256');

/** Registers `fedctl tls ca` and `fedctl tls issue` (docs/deployment.md, "TLS"). */
export function registerTlsCommands(program: Command, line: (t: string) => void): void {
  const tls = program
    .command('tls')
    .description('federation certificate authority and certificates');
  tls
    .command('ca')
    .description('create the federation CA: ca.pem and ca-key.pem (mode 0600; keep it offline)')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--cn <name>', 'CA common name', 'FedIntel federation CA')
    .option('--days <n>', 'validity in days', '3650')
    .addOption(keyTypeOption())
    .option('--force', 'replace existing files')
    .action((o: { out: string; cn: string; days: string; keyType: string; force?: boolean }) => {
      const r = createCa({
        out: o.out,
        commonName: o.cn,
        days: parsePositiveInt(o.days, '--days', 3650),
        keyType: o.keyType as TlsKeyType,
        force: o.force,
      });
      line(`wrote ${r.cert}`);
      line(`wrote ${r.key} (mode 0600)`);
    });
  tls
    .command('issue')
    .description(
      'issue a server certificate signed by the CA (serverAuth + clientAuth): <name>.pem and ' +
        '<name>-key.pem (mode 0600)',
    )
    .requiredOption('--ca <dir>', 'CA folder written by fedctl tls ca')
    .requiredOption('--name <server>', 'server name, e.g. hub, hub-store, kr')
    .option('--dns <names>', 'comma-separated DNS names the server is reached by')
    .option('--ip <ips>', 'comma-separated IP addresses the server is reached by')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--days <n>', 'validity in days', '825')
    .addOption(keyTypeOption())
    .option('--force', 'replace existing files')
    .action(
      (o: {
        ca: string;
        name: string;
        dns?: string;
        ip?: string;
        out: string;
        days: string;
        keyType: string;
        force?: boolean;
      }) => {
        if (o.dns === undefined && o.ip === undefined) {
          throw new UsageError('--dns', 'give --dns and/or --ip');
        }
        const r = issueCertificate({
          ca: o.ca,
          name: o.name,
          dns: list(o.dns),
          ips: list(o.ip),
          out: o.out,
          days: parsePositiveInt(o.days, '--days', 3650),
          keyType: o.keyType as TlsKeyType,
          force: o.force,
        });
        line(`wrote ${r.cert}`);
        line(`wrote ${r.key} (mode 0600)`);
        line(`wrote ${r.ca} (the CA certificate, public)`);
      },
    );
}
