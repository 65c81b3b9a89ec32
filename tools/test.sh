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
npx --no-install jest --ci "$@"
