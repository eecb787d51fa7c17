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

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need_apt[*]}; run as root or install them" >&2; exit 1
  fi
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
