#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with SharpFuzz + AFL++ (docs/RELIABILITY.md, "Fuzzing").
#   scripts/fuzz.sh TARGET [SECONDS]     TARGET: lineprotocol flux csv tsm wal gzip; SECONDS: default 360
# Installs what is missing (the Debian package afl++, the dotnet tool SharpFuzz.CommandLine 2.3.0 into
# out/tools), publishes tests/InfluxLike.Fuzz.Afl (Release), instruments the InfluxLike
# assemblies the target runs, writes the seed corpus, runs afl-fuzz for SECONDS under nice, then prints
# afl-fuzz's numbers and copies crashes and hangs to out/fuzz/TARGET/found-TIMESTAMP/ (replayed there).
# Everything it writes is under out/fuzz/ (git-ignored). INFLUXLIKE_BUILD_LOCK=FILE: publish under flock FILE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target="${1:-}"
seconds="${2:-360}"
case "$target" in
  lineprotocol) instrument=(InfluxLike.LineProtocol.dll) ;;
  flux|csv) instrument=(InfluxLike.Query.dll) ;;
  tsm|wal) instrument=(InfluxLike.Storage.dll) ;;
  gzip) instrument=(InfluxLike.Server.dll InfluxLike.LineProtocol.dll InfluxLike.Storage.dll) ;;
  *) echo "usage: scripts/fuzz.sh lineprotocol|flux|csv|tsm|wal|gzip [SECONDS]" >&2; exit 2 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number" >&2; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- what is missing
if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: afl-fuzz is missing; run as root or install the Debian package afl++" >&2; exit 1
  fi
  echo "fuzz: installing afl++"
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++
fi
# SharpFuzz.CommandLine (the sharpfuzz command), pinned, in the git-ignored out/tools (no tool manifest at the top level)
tools="$root/out/tools"
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

# --- publish, then instrument a fresh copy (sharpfuzz rewrites a dll in place, and refuses one done before)
work="$root/out/fuzz"
publish="$work/publish"
lock=()
[ -n "${INFLUXLIKE_BUILD_LOCK:-}" ] && lock=(flock "$INFLUXLIKE_BUILD_LOCK")
echo "== publish tests/InfluxLike.Fuzz.Afl"
mkdir -p "$work"
"${lock[@]}" dotnet publish tests/InfluxLike.Fuzz.Afl/InfluxLike.Fuzz.Afl.csproj -c Release -o "$publish" -nologo -v quiet >"$work/publish.log" 2>&1 ||
  { echo "fuzz: the publish failed:" >&2; tail -30 "$work/publish.log" >&2; exit 1; }
harness=InfluxLike.Fuzz.Afl.dll

dir="$work/$target"
bin="$dir/bin"
rm -rf "$bin" "$dir/afl" "$dir/seeds" "$dir/tmp"
mkdir -p "$dir/tmp"
cp -r "$publish" "$bin"
for dll in "${instrument[@]}"; do
  echo "== instrument $dll"
  "$tools/sharpfuzz" "$bin/$dll" >/dev/null
done

# --- seeds (from the uninstrumented copy: instrumented code expects afl-fuzz's shared memory)
export TMPDIR="$dir/tmp"   # the targets' scratch files, and what a killed child leaves behind
dotnet "$publish/$harness" seeds "$target" "$dir/seeds"

# --- the campaign
export AFL_SKIP_BIN_CHECK=1                        # the binary is dotnet; the instrumentation is in the dlls
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_FORKSRV_INIT_TMOUT="${AFL_FORKSRV_INIT_TMOUT:-60000}"   # the .NET runtime starting on a busy machine
echo "== afl-fuzz $target for $seconds s"
set +e
nice -n 10 afl-fuzz -i "$dir/seeds" -o "$dir/afl" -V "$seconds" -t 5000 -m none -- dotnet "$bin/$harness" fuzz "$target" >"$dir/afl-fuzz.log" 2>&1
rc=$?
set -e
stats="$dir/afl/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
  echo "fuzz: afl-fuzz exited with $rc and wrote no statistics; the end of its log:" >&2
  tail -30 "$dir/afl-fuzz.log" >&2
  exit 1
fi

# --- summary, and what it found
stat() { sed -n "s/^$1 *: *//p" "$stats"; }
start=$(stat start_time); last=$(stat last_update)
echo "== $target: afl-fuzz exit $rc"
echo "seconds           $((last - start))"
echo "execs             $(stat execs_done)"
echo "execs per second  $(stat execs_per_sec) (last minute: $(stat execs_ps_last_min))"
echo "corpus            $(stat corpus_count) entries ($(stat corpus_found) found, $(stat corpus_imported) imported), bitmap $(stat bitmap_cvg), stability $(stat stability)"
echo "crashes           $(stat saved_crashes)"
echo "hangs             $(stat saved_hangs)"
found=()
for kind in crashes hangs; do
  for f in "$dir/afl/default/$kind"/id:*; do
    [ -e "$f" ] && found+=("$f")
  done
done
if [ ${#found[@]} -gt 0 ]; then
  out="$dir/found-$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$out"
  for f in "${found[@]}"; do
    cp "$f" "$out/$(basename "$(dirname "$f")")-$(basename "$f" | cut -d, -f1 | tr ':' '-')"
  done
  echo "== ${#found[@]} inputs copied to $out; replayed:"
  dotnet "$publish/$harness" replay "$target" "$out"/* | grep -E '^(ok|FAILED)' || true
fi
