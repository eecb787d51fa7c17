#!/usr/bin/env bash
# Builds the web UI (src/InfluxLike.Server/Ui/src, TypeScript) into src/InfluxLike.Server/Ui/dist with esbuild.
# dist/ is committed and embedded in the server, so building the server needs no node; this script needs node + npm.
#   bash scripts/ui-build.sh           rebuild dist/
#   bash scripts/ui-build.sh --check   exit 1 with a diff summary when the committed dist/ is stale
# esbuild's output is byte-identical across runs and folders, so the check is exact.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ui="$root/src/InfluxLike.Server/Ui"
cd "$ui"
# npm ci when node_modules is missing or older than the lockfile
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc -p .    # type check (esbuild only strips the types)
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
node build.mjs "$tmp"
if [ "${1:-}" = "--check" ]; then
    diff -rq "$ui/dist" "$tmp" && echo "ui: dist/ is up to date"
else
    rm -rf "$ui/dist"; mkdir -p "$ui/dist"; cp "$tmp"/* "$ui/dist"/
fi
