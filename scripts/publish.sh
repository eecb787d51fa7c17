#!/usr/bin/env bash
# Builds the server as a NativeAOT binary per runtime given (default linux-x64) into ./publish/<rid>-aot.
# NativeAOT links with clang: it is installed (Debian packages) when missing. linux-arm64 also needs an arm64
# linker and sysroot libraries (../shared/PLATFORM.md §1.5), not installed here yet.
# Our own code is checked for AOT at every build (IsAotCompatible analyzers, warnings as errors); the publish
# step itself does not treat warnings as errors because ASP.NET Core's shared Mvc.Abstractions assembly reports
# IL3053 (AOT analysis warnings) although nothing of MVC is used.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v clang >/dev/null 2>&1 || ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
  echo "== installing clang and zlib1g-dev (NativeAOT's linker)"
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends clang zlib1g-dev
fi

rids=("$@")
[ ${#rids[@]} -eq 0 ] && rids=(linux-x64)
for rid in "${rids[@]}"; do
  out="$root/publish/$rid-aot"
  echo "== NativeAOT $rid -> $out"
  dotnet publish src/InfluxLike.Cli -c Release -r "$rid" -p:PublishAot=true -p:TreatWarningsAsErrors=false -o "$out"
  ls -la "$out/influxlike"
done
