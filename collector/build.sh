#!/usr/bin/env bash
# Build tripline's collector from Go modules with the OpenTelemetry Collector Builder (OCB).
#   bash collector/build.sh          # build if collector/manifest.yaml (or this script) changed
#   bash collector/build.sh --force  # rebuild
# Result: collector/dist/otelcol-tripline (git-ignored). Needs Go and the Go module proxy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
mkdir -p "$here/dist"
# one build at a time (test files may ask for it in parallel)
exec 9>"$here/dist/.build.lock"
flock 9
BUILDER_VERSION="v0.155.0"
out="$here/dist/otelcol-tripline"
stamp_file="$here/dist/.stamp"
stamp="$( (cat manifest.yaml build.sh; go version 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -x "$out" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  echo "collector: up to date ($out)"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else echo "collector: Go is needed to build the collector" >&2; exit 1; fi
fi
export GOBIN="$here/.cache/bin"
export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false"
mkdir -p "$GOBIN" "$here/dist"
if [ ! -x "$GOBIN/builder" ] || ! "$GOBIN/builder" version 2>/dev/null | grep -q "${BUILDER_VERSION#v}"; then
  echo "collector: installing the OpenTelemetry Collector Builder $BUILDER_VERSION"
  go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
fi
echo "collector: building otelcol-tripline (first build downloads modules and compiles: several minutes on 2 cores)"
start=$(date +%s)
# OCB's own `go mod tidy` also resolves the test-only dependencies of every component, some of which the
# module proxy here does not serve; generate the sources with OCB, then resolve with `tidy -e` (which
# tolerates modules needed only by tests) and compile ourselves.
# With --skip-get-modules OCB leaves go.mod to us: write the one its template would, from the manifest's
# pinned gomods plus the otelcol core at the same version, so the build is the same on a clean clone.
rm -rf build
"$GOBIN/builder" --config manifest.yaml --skip-strict-versioning --skip-get-modules --skip-compilation
{
  echo "module tripline.local/otelcol-tripline"
  echo
  echo "go 1.25"
  echo
  echo "require ("
  sed -n 's/^[[:space:]]*-[[:space:]]*gomod:[[:space:]]*\([^[:space:]]*\)[[:space:]]\{1,\}\(v[^[:space:]]*\).*/\t\1 \2/p' manifest.yaml
  printf '\tgo.opentelemetry.io/collector/otelcol %s\n' "${BUILDER_VERSION}"
  echo ")"
} > build/go.mod
(
  cd build
  go mod tidy -e >/dev/null 2>"$here/dist/tidy.log" || true
  go build -trimpath -ldflags="-s -w" -o otelcol-tripline .
)
cp build/otelcol-tripline "$out.tmp"
mv "$out.tmp" "$out"
echo "$stamp" > "$stamp_file"
echo "collector: built $out in $(( $(date +%s) - start )) s"
