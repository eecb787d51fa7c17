#!/usr/bin/env bash
# Runs every test of the repository: the README's test command and what .ci/run calls.
# Installs what the tests need and the machine lacks (idempotent), builds, tests, and ends with the
# plain "N passed, N failed, N skipped" line. Exits with the test run's exit code.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh || exit $?

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/TestResults"
rm -rf "$results"

echo "== build"
dotnet build InfluxLike.sln -c Release -nologo -v quiet || exit $?

# The edge artefact the suite runs under qemu (EdgeBuildTests): the linux-arm64 NativeAOT executable.
echo "== publish linux-arm64 (NativeAOT)"
mkdir -p "$results"
# A failed publish does not stop the other tests: EdgeBuildTests then fails, naming the missing executable.
bash scripts/publish.sh linux-arm64 >"$results/publish-arm64.log" 2>&1 || { echo "publish failed:"; tail -40 "$results/publish-arm64.log"; }

echo "== test"
# Category=Measurement: timings for perf/RESULTS.md (e.g. tests/InfluxLike.Ui.Tests/ChartTimingMeasurement.cs), run by hand
dotnet test InfluxLike.sln -c Release --no-build -nologo --filter "Category!=Measurement" --logger trx --logger "console;verbosity=minimal" --results-directory "$results"
rc=$?

passed=0; failed=0; skipped=0
shopt -s nullglob
for f in "$results"/*.trx; do
  c=$(grep -o '<Counters [^>]*' "$f")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$c")
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$c")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$c")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$c")
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the run failed without a failed test (crash, build of a test host): never report it green
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
