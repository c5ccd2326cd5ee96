#!/bin/sh
# Generates every file the Compose federation mounts (deploy/compose/README.md):
#   <out>/ca/          the federation CA (ca-key.pem: keep it offline; nothing mounts it)
#   <out>/tls/         ca.pem + one certificate and 0600 key per server (NATS and PostgreSQL)
#   <out>/nats/        hub.conf (shared by hub-1..3), hub-store.conf, kr.conf, vn.conf, th.conf,
#                      credentials.json (0600)
#   <out>/keys/        hub.json, kr.json, vn.json, th.json (0600, fedctl keys generate)
#   <out>/env/         per-service secrets as env files (0600): NATS and database passwords
#   <out>/directory/   where governance puts directory.jws and governance-keys.json
# Usage: deploy/compose/generate.sh [out]   (default deploy/compose/generated; must not exist)
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
OUT=${1:-$ROOT/deploy/compose/generated}
MEMBERS="kr vn th"
if [ -e "$OUT" ]; then
  echo "generate.sh: $OUT exists; move it away first (regenerating changes every secret)" >&2
  exit 2
fi
cd "$ROOT"
[ -f dist/apps/cli/src/main.js ] || npm run -s build
fedctl() { node "$ROOT/dist/apps/cli/src/main.js" "$@"; }
umask 077
mkdir -p "$OUT/env" "$OUT/directory"

# 1. Federation CA and one certificate per server, named as Compose names the services.
fedctl tls ca --out "$OUT/ca"
fedctl tls issue --ca "$OUT/ca" --out "$OUT/tls" --name hub --dns hub-1,hub-2,hub-3,localhost
fedctl tls issue --ca "$OUT/ca" --out "$OUT/tls" --name hub-store --dns hub-store,localhost
fedctl tls issue --ca "$OUT/ca" --out "$OUT/tls" --name db-hub --dns db-hub
for m in $MEMBERS; do
  fedctl tls issue --ca "$OUT/ca" --out "$OUT/tls" --name "$m" --dns "leaf-$m,localhost"
  fedctl tls issue --ca "$OUT/ca" --out "$OUT/tls" --name "db-$m" --dns "db-$m"
done

# 2. NATS configs: hub core cluster of three, TLS everywhere, paths as the containers see them.
fedctl nats config --members kr,vn,th --out "$OUT/nats" --host 0.0.0.0 \
  --hub-leaf-hosts hub-1,hub-2,hub-3 \
  --hub-cluster-routes hub-1:6222,hub-2:6222,hub-3:6222 --hub-cluster-port 6222 \
  --tls-dir /etc/nats/tls --store-root /data/jetstream

# 3. Key files of the hub and every member node.
mkdir -p "$OUT/keys"
fedctl keys generate --member hub --out "$OUT/keys/hub.json" > "$OUT/keys/hub.public.json"
for m in $MEMBERS; do
  fedctl keys generate --member "$m" --out "$OUT/keys/$m.json" > "$OUT/keys/$m.public.json"
done

# 3b. Version 1 of the directory, signed by a fresh governance key kept outside every mounted
#     folder (in a real federation the governance board does this offline, from the public halves).
if [ ! -f "$OUT/directory/directory.jws" ]; then
  KEYS="$OUT/keys/hub.public.json"
  for m in $MEMBERS; do KEYS="$KEYS,$OUT/keys/$m.public.json"; done
  fedctl directory init --federation fedintel-compose --keys "$KEYS" \
    --countries hub=FR,kr=KR,vn=VN,th=TH --out "$OUT/governance"
  cp "$OUT/governance/directory.jws" "$OUT/governance/governance-keys.json" "$OUT/directory/"
fi

# 4. Secrets as env files: NATS credentials from credentials.json, fresh database passwords.
node - "$OUT" $MEMBERS <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const [out, ...members] = process.argv.slice(2);
const creds = JSON.parse(readFileSync(`${out}/nats/credentials.json`, 'utf8'));
const secret = () => randomBytes(24).toString('base64url');
const write = (name, vars) =>
  writeFileSync(
    `${out}/env/${name}.env`,
    Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n',
    { mode: 0o600 },
  );
for (const id of ['hub', ...members]) {
  const pw = secret();
  const nats = id === 'hub' ? creds.hubApp : creds.nodes[id];
  write(`db-${id}`, { POSTGRES_PASSWORD: pw });
  write(`${id === 'hub' ? 'hub' : `node-${id}`}`, {
    FEDINTEL_NATS_USER: nats.user,
    FEDINTEL_NATS_PASSWORD: nats.password,
    FEDINTEL_DATABASE_URL: `postgres://fedintel:${pw}@db-${id}:5432/fedintel?sslmode=verify-full&sslrootcert=/etc/fedintel/tls/ca.pem`,
  });
}
JS

echo "generated into $OUT"
echo "directory v1 in $OUT/directory; the governance private key is $OUT/governance/governance.private.json (keep it offline)"
