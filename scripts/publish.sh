#!/usr/bin/env bash
# Builds the server for each runtime given (default linux-x64) into ./publish:
#   linux-x64, linux-arm64  NativeAOT executables            -> publish/<rid>-aot/influxlike
#   linux-x64-single, linux-arm64-single: the fallback, a self-contained single file (trimmed, ReadyToRun,
#                           compressed)                         -> publish/<rid>-single/influxlike
#   linux-arm (32-bit ARMv7) self-contained single file,      -> publish/linux-arm-single/influxlike
#                            trimmed and ReadyToRun (NativeAOT does not target linux-arm). Needs the
#                            Microsoft.NETCore.App.Runtime.linux-arm packs, which the package feed of our
#                            build machines does not serve: not verified here.
# Installs (Debian packages, when missing) what each needs: clang for NativeAOT's link step, and for linux-arm64
# an arm64 linker and sysroot libraries (../shared/PLATFORM.md §1.5). Edge builds use Workstation GC (set in the
# project): Server GC costs > 1 GB under emulation.
# Our own code is checked for AOT at every build (IsAotCompatible analyzers, warnings as errors); the publish
# step itself does not treat warnings as errors because ASP.NET Core's shared Mvc.Abstractions assembly reports
# IL3053 (AOT analysis warnings) although nothing of MVC is used.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
install_missing() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

rids=("$@")
[ ${#rids[@]} -eq 0 ] && rids=(linux-x64)
for target in "${rids[@]}"; do
  rid="${target%-single}"
  case "$target" in
    linux-x64)
      install_missing clang zlib1g-dev ;;
    linux-arm64)
      if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
        apt_get update -qq || true   # a foreign index that fails to download must not stop us when ours is fine
      fi
      install_missing clang zlib1g-dev binutils-aarch64-linux-gnu libc6-dev:arm64 libgcc-12-dev:arm64 zlib1g-dev:arm64 ;;
    linux-arm|linux-x64-single|linux-arm64-single) ;;   # no native toolchain: the runtime packs hold everything
    *) echo "publish: unknown target $target (linux-x64, linux-arm64, linux-x64-single, linux-arm64-single, linux-arm)" >&2; exit 2 ;;
  esac

  if [ "$rid" = linux-arm ] || [ "$target" != "$rid" ]; then
    out="$root/publish/$rid-single"
    echo "== self-contained single file $rid -> $out"
    dotnet publish src/InfluxLike.Cli -c Release -r "$rid" --self-contained -p:PublishSingleFile=true -p:PublishTrimmed=true \
      -p:PublishReadyToRun=true -p:EnableCompressionInSingleFile=true -p:TreatWarningsAsErrors=false -nologo -v quiet -o "$out"
  else
    out="$root/publish/$rid-aot"
    echo "== NativeAOT $rid -> $out"
    dotnet publish src/InfluxLike.Cli -c Release -r "$rid" -p:PublishAot=true -p:TreatWarningsAsErrors=false -nologo -v quiet -o "$out"
  fi
  ls -la "$out/influxlike"
done
