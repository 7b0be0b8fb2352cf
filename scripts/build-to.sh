#!/usr/bin/env bash
# Build the agent into a private output folder (default .build/local), so parallel work does not
# overwrite dist/ under someone else's running test. Use with: TRIPLINE_DIST=.build/NAME npx vitest run ...
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/local}"
npx tsc -p tsconfig.json --outDir "$out" || true
cp src/register.mjs "$out/register.mjs"
