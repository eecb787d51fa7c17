#!/usr/bin/env bash
# Installs what building and testing need, when missing. Idempotent and quick when all is present.
# Debian packages come from apt (root on these machines); NuGet and npm packages restore by themselves.
set -euo pipefail

need_apt=()
command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# node + npm: the query grammar's staleness test regenerates the parser with antlr-ng (grammar/package.json)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# headless Chromium and a font for the web UI's browser tests (tests/InfluxLike.Ui.Tests, Playwright drives it)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
# time-zone database: windows in a named zone (the query tests use America/Los_Angeles)
[ -e /usr/share/zoneinfo/America/Los_Angeles ] || need_apt+=(tzdata)

# the edge build's test runs the linux-arm64 executable under emulation (../shared/PLATFORM.md §0-1)
[ -x /usr/bin/qemu-aarch64-static ] || need_apt+=(qemu-user-static)
# NativeAOT links with clang (x64 and, with the arm64 packages scripts/publish.sh installs, arm64)
command -v clang >/dev/null 2>&1 || need_apt+=(clang zlib1g-dev)
need_arm64=0
[ -e /lib/ld-linux-aarch64.so.1 ] || need_arm64=1

if [ ${#need_apt[@]} -gt 0 ] || [ "$need_arm64" = 1 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need_apt[*]} (and arm64 libraries: $need_arm64); run as root or install them" >&2; exit 1
  fi
fi

if [ "$need_arm64" = 1 ]; then
  echo "setup: adding the arm64 architecture (runtime libraries for the emulated edge build)"
  dpkg --add-architecture arm64
  # One foreign index that fails to download (a mirror mid-sync) must not stop us: the install says what is missing.
  apt-get update -qq || true
  need_apt+=(libc6:arm64)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need_apt[*]}; run as root or install them" >&2; exit 1
  fi
  echo "setup: installing ${need_apt[*]}"
  [ "$need_arm64" = 1 ] || apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
