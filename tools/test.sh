#!/usr/bin/env bash
# npm test: every check CI makes, on a fresh clone too. Installs what is missing, checks the real
# PostgreSQL, Redis and NATS (starting local ones under CI), type-checks, lints (with Nx module
# boundaries), builds, then runs unit, integration and end-to-end tests against real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-deps.sh
# shellcheck source=tools/node-runtime.sh
source tools/node-runtime.sh
bash tools/infra.sh check --browser --shells
echo "== typecheck (tsc $(npx --no-install tsc --version 2>/dev/null | awk '{print $2}'))"
npm run --silent typecheck
echo "== lint"
npm run --silent lint
echo "== build"
npm run --silent build
echo "== jest: unit, integration, end-to-end"
# Two suites at a time: most end-to-end time is waiting (a grant's expiry, a failover), which the
# other worker fills; jest's default on 2 cores is one. Measured on this 2-core machine:
# one worker 1,956 s of jest; two 1,500 s and 1,906 s, with other test runs beside them (load average up to 18).
npx --no-install jest --ci --maxWorkers=2 "$@"
