#!/usr/bin/env bash
# The main job (README): install what is missing, build, and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
node dist/cli.js demo "$@"
