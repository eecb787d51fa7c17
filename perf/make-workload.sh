#!/usr/bin/env bash
# Makes the TSBS devops cpu workload that the benchmarks read, with ../shared/perf's own generator
# (copied to a temporary folder and built there: ../shared stays read-only).
#   perf/make-workload.sh [HOURS] [DECIMALS]   -> perf/.work/cpu-100hosts-<HOURS>h-dec<DECIMALS>.lp
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
hours="${1:-1}"; decimals="${2:--1}"
out="$root/perf/.work/cpu-100hosts-${hours}h-dec${decimals}.lp"
[ -s "$out" ] && { echo "$out"; exit 0; }
shared="${INFLUXLIKE_SHARED_DIR:-$root/../shared}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cp -r "$shared/perf/loader" "$tmp/loader"
dotnet build -c Release -nologo -v quiet "$tmp/loader" >&2
mkdir -p "$(dirname "$out")"
dotnet "$tmp/loader/bin/Release/net10.0/loader.dll" gen --out "$out" --hosts 100 --hours "$hours" --decimals "$decimals" >&2
echo "$out"
