#!/usr/bin/env bash
# Runs the server with embedded defaults: 127.0.0.1:8086, data in ./data. Extra arguments pass through.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run --project "$root/src/InfluxLike.Cli" -c Release -- serve "$@"
