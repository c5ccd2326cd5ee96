import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../usage-error.js';

/**
 * The federation's private certificate authority (docs/deployment.md, ADR 0040). Keys are made
 * with node:crypto and written with mode 0600; certificates are signed by the `openssl` CLI.
 * Every file is refused if it already exists, unless `force` is set.
 */

/** Key algorithm of a CA or certificate: EC P-256 (default, widest support) or Ed25519. */
export type TlsKeyType = 'p256' | 'ed25519';

/** File names inside a CA folder and a certificate folder. */
export const CA_CERT = 'ca.pem';
export const CA_KEY = 'ca-key.pem';
export const certFileName = (name: string): string => `${name}.pem`;
export const keyFileName = (name: string): string => `${name}-key.pem`;

const NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function openssl(args: string[]): string {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message?: string };
    if (err.code === 'ENOENT')
      throw new Error('the openssl command is not installed (needed by fedctl tls)', { cause: e });
    throw new Error(
      `openssl ${args[0] ?? ''} failed: ${(err.stderr ?? err.message ?? '').trim()}`,
      {
        cause: e,
      },
    );
  }
}

function privateKeyPem(type: TlsKeyType): string {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function refuseExisting(files: string[], force: boolean | undefined): void {
  if (force) return;
  const there = files.filter((f) => existsSync(f));
  if (there.length > 0) {
    throw new UsageError('--out', `${there.join(', ')} already exist(s); pass --force to replace`);
  }
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'fedctl-tls-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseDays(days: number | undefined, fallback: number): number {
  const d = days ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > 3650) {
    throw new UsageError('--days', 'must be a whole number of days between 1 and 3650');
  }
  return d;
}

/** Options of {@link createCa}. */
export interface CreateCaOptions {
  out: string;
  /** subject common name; default `FedIntel federation CA` */
  commonName?: string;
  keyType?: TlsKeyType;
  /** validity, default 3650 days */
  days?: number;
  force?: boolean;
}

/**
 * Creates `<out>/ca.pem` (self-signed, CA:TRUE, pathlen 0) and `<out>/ca-key.pem` (0600).
 * @returns the two file paths
 */
export function createCa(o: CreateCaOptions): { cert: string; key: string } {
  const days = parseDays(o.days, 3650);
  const cn = o.commonName ?? 'FedIntel federation CA';
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(cn)) {
    throw new UsageError('--cn', 'must be 1-64 characters of letters, digits, space . _ -');
  }
  const cert = join(o.out, CA_CERT);
  const key = join(o.out, CA_KEY);
  refuseExisting([cert, key], o.force);
  mkdirSync(o.out, { recursive: true });
  writeFileSync(key, privateKeyPem(o.keyType ?? 'p256'), { mode: 0o600 });
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-days',
    String(days),
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** Options of {@link issueCertificate}. */
export interface IssueOptions {
  /** CA folder written by {@link createCa} */
  ca: string;
  /** server name: common name and base name of the files, e.g. `hub` or `kr` */
  name: string;
  /** DNS subject alternative names (host names the server is reached by) */
  dns: string[];
  /** IP subject alternative names */
  ips: string[];
  out: string;
  keyType?: TlsKeyType;
  /** validity, default 825 days */
  days?: number;
  force?: boolean;
}

/**
 * Issues `<out>/<name>.pem` (signed by the CA; serverAuth and clientAuth, so one certificate serves
 * a nats-server's listeners and its leaf/route connections) and `<out>/<name>-key.pem` (0600), and
 * copies the CA certificate to `<out>/ca.pem`, so `<out>` is the whole folder a server mounts.
 */
export function issueCertificate(o: IssueOptions): { cert: string; key: string; ca: string } {
  if (!NAME.test(o.name)) throw new UsageError('--name', 'must match [a-z0-9][a-z0-9.-]{0,62}');
  for (const d of o.dns) {
    if (!DNS_NAME.test(d)) throw new UsageError('--dns', `"${d}" is not a DNS name`);
  }
  for (const ip of o.ips) {
    if (isIP(ip) === 0) throw new UsageError('--ip', `"${ip}" is not an IP address`);
  }
  if (o.dns.length + o.ips.length === 0) {
    throw new UsageError('--dns', 'give at least one --dns name or --ip address');
  }
  const days = parseDays(o.days, 825);
  const caCert = join(o.ca, CA_CERT);
  const caKey = join(o.ca, CA_KEY);
  if (!existsSync(caCert) || !existsSync(caKey)) {
    throw new UsageError('--ca', `${o.ca} holds no ${CA_CERT} and ${CA_KEY} (run fedctl tls ca)`);
  }
  const cert = join(o.out, certFileName(o.name));
  const key = join(o.out, keyFileName(o.name));
  refuseExisting([cert, key], o.force);
  const caCopy = join(o.out, CA_CERT);
  const caPem = readFileSync(caCert, 'utf8');
  if (existsSync(caCopy) && readFileSync(caCopy, 'utf8') !== caPem && !o.force) {
    throw new UsageError(
      '--out',
      `${caCopy} is the certificate of another CA; pass --force to replace`,
    );
  }
  mkdirSync(o.out, { recursive: true });
  const keyPem = privateKeyPem(o.keyType ?? 'p256');
  const san = [...o.dns.map((d) => `DNS:${d}`), ...o.ips.map((ip) => `IP:${ip}`)].join(',');
  withTempDir((tmp) => {
    const tmpKey = join(tmp, 'key.pem');
    const csr = join(tmp, 'req.csr');
    const ext = join(tmp, 'ext.cnf');
    writeFileSync(tmpKey, keyPem, { mode: 0o600 });
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${san}`,
        '',
      ].join('\n'),
    );
    openssl(['req', '-new', '-key', tmpKey, '-subj', `/CN=${o.name}`, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(days),
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
  });
  writeFileSync(key, keyPem, { mode: 0o600 });
  if (caCopy !== caCert) writeFileSync(caCopy, caPem);
  return { cert, key, ca: caCopy };
}
