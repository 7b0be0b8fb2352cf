#!/usr/bin/env bash
# The one test command (README, .ci/run): install what is missing, start local services that stopped,
# build, type-check, and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-services.sh
npm run build
# the collector tests need the binary: build it once, up front (cached; a no-op when up to date)
bash collector/build.sh
npx vitest run "$@"
