#!/usr/bin/env bash
# Lint with Nx module boundaries. The boundary rule reads Nx's cached project graph and silently
# skips itself when there is none, so the graph is computed first, every time.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true
hook=./tools/lint/classic-typescript.cjs
node --require "$hook" node_modules/nx/dist/bin/nx.js graph --file=.nx/graph.json >/dev/null
node --require "$hook" node_modules/eslint/bin/eslint.js --max-warnings 0 apps libs tools "$@"
# One formatting (Prettier, .prettierrc.json): `npm run format` rewrites what this refuses.
node node_modules/prettier/bin/prettier.cjs --check --log-level warn "{apps,libs,tools}/**/*.{ts,tsx,js,cjs,mjs}" "*.{js,cjs,mjs}" || {
  echo 'lint: files above are not formatted; run `npm run format`' >&2
  exit 1
}
