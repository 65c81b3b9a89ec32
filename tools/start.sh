#!/usr/bin/env bash
# npm start: the whole stack on this machine. Installs what is missing, checks (and locally starts)
# PostgreSQL, Redis and NATS, makes a development master key and admin token on first run, builds,
# then runs every service; migrations run as each service starts. `npm start -- --demo` adds a
# sample target database registered as an integration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh
# shellcheck source=tools/node-runtime.sh
source tools/node-runtime.sh
bash tools/infra.sh check --start

# Development secrets live in .latchkey/ (git-ignored); set the variables to use your own.
mkdir -p .latchkey && chmod 700 .latchkey
if [ -z "${LATCHKEY_MASTER_KEY:-}" ] && [ -z "${LATCHKEY_MASTER_KEY_FILE:-}" ]; then
  if [ ! -s .latchkey/master.key ]; then
    (umask 077; node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))" > .latchkey/master.key)
    echo "created a development master key in .latchkey/master.key (keep it: it decrypts stored secrets)"
    new_key_flag="--new-master-key"
  fi
  export LATCHKEY_MASTER_KEY_FILE="$PWD/.latchkey/master.key"
fi
if [ -z "${LATCHKEY_ADMIN_TOKEN:-}" ]; then
  if [ ! -s .latchkey/admin-token ]; then
    (umask 077; node -e "process.stdout.write('lk_' + require('crypto').randomBytes(32).toString('base64url'))" > .latchkey/admin-token)
  fi
  LATCHKEY_ADMIN_TOKEN="$(cat .latchkey/admin-token)"
  export LATCHKEY_ADMIN_TOKEN
fi

npm run --silent build
# The catalog tries the key on the secrets already stored; start.js warns when it cannot open them.
exec node dist/tools/start/start.js ${new_key_flag:-} "$@"
