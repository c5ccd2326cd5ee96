#!/usr/bin/env node
// Makes sure a nats-server binary is available: the tests and the demo start their own servers.
// When it is missing and we are root, install Debian's package; otherwise say exactly how to.
import { execFileSync, spawnSync } from 'node:child_process';

function found() {
  for (const bin of ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim();
  }
  return null;
}

let version = found();
if (!version) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) {
    console.error(
      'nats-server is missing. Install it with: sudo apt-get update && sudo apt-get install -y nats-server',
    );
    process.exit(1);
  }
  console.log('nats-server is missing: installing Debian package nats-server ...');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'nats-server'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  version = found();
  if (!version) {
    console.error('nats-server still not found after apt-get install');
    process.exit(1);
  }
}
if (process.env.FEDINTEL_VERBOSE) console.log(`using ${version}`);
