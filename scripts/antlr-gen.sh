#!/usr/bin/env bash
# Regenerates the C# query parser from grammar/*.g4 into src/InfluxLike.Query/Syntax/Generated.
# The generated files are committed, so building needs no node; this script needs node + npm.
#   bash scripts/antlr-gen.sh           regenerate
#   bash scripts/antlr-gen.sh --check   exit 1 with a diff when the committed files are stale
# antlr-ng output is byte-identical across runs and directories, so the check is exact.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/grammar"
[ -x node_modules/.bin/antlr-ng ] || npm ci --no-audit --no-fund --loglevel=error
dest="$root/src/InfluxLike.Query/Syntax/Generated"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
npx --no-install antlr-ng -Dlanguage=CSharp -v true -p InfluxLike.Query.Syntax.Generated -o "$tmp" FluxLikeLexer.g4 FluxLikeParser.g4
rm -f "$tmp"/*.interp "$tmp"/*.tokens
if [ "${1:-}" = "--check" ]; then
    diff -r "$dest" "$tmp" && echo "antlr: generated parser is up to date"
else
    rm -rf "$dest"; mkdir -p "$dest"; cp "$tmp"/*.cs "$dest"/
fi
