#!/usr/bin/env bash
# VtpmStack build entry point.  Verbs:
#   ./build.sh            build everything (Release) and refresh the launchers in ./bin
#   ./build.sh run        build, then start the standalone emulator (Microsoft simulator protocol on
#                         127.0.0.1:${VTPM_PORT:-2321}/+1, state in .vtpm/state) and print the TCTI line;
#                         VTPM_TRACE=1 traces every command on stderr
#   ./build.sh test       install what the tests need, build, run every test; ends with "N passed, M failed"
#   ./build.sh bench      run the benchmarks in perf/ (BenchmarkDotNet; ratios against swtpm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

test_packages=(openssl tpm2-tools swtpm swtpm-tools libtss2-tcti-mssim0 libtss2-tcti-swtpm0 libtss2-tcti-cmd0 qemu-system-x86 busybox-static cpio)

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "build.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tools/gen: the catalog (tools/gen/catalog/*.tpm) → the committed *.g.cs. "write" refreshes them (every build);
# "--check" changes nothing and fails when they differ from what the catalog gives (the test run, so CI).
generate() {
  dotnet build tools/gen/Vtpm.Gen -c Release -nologo -clp:ErrorsOnly -v q >/dev/null
  dotnet tools/gen/Vtpm.Gen/bin/Release/net10.0/vtpm-gen.dll --root "$here" "$@"
}

build() {
  generate
  dotnet build VtpmStack.sln -c Release -nologo -clp:ErrorsOnly -v q
  mkdir -p bin
  write_launcher vtpm emulator/Vtpm.Emulator
  write_launcher tpmfront frontend/Vtpm.Tpmfront
}

write_launcher() { # name project-dir
  local name=$1 dir=$2
  cat > "bin/$name" <<LAUNCHER
#!/usr/bin/env bash
# Launcher written by build.sh: runs the Release build of $dir.
exec "\$(cd "\$(dirname "\${BASH_SOURCE[0]}")/.." && pwd)/$dir/bin/Release/net10.0/$name" "\$@"
LAUNCHER
  chmod +x "bin/$name"
}

run() {
  build
  local port=${VTPM_PORT:-2321}
  mkdir -p .vtpm/state
  # VTPM_TRACE=1 logs every command (name, handles, response code, microseconds) to stderr.
  exec ./bin/vtpm mssim --port "$port" --tpmstate dir=.vtpm/state --print-tcti ${VTPM_TRACE:+--trace}
}

run_tests() {
  ensure_packages "${test_packages[@]}"
  local gen_status=0
  generate --check || gen_status=1
  build
  local log
  log=$(mktemp)
  set +e
  dotnet test --project tests/Vtpm.Tests -c Release --no-build 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  local total failed passed skipped
  total=$(grep -E '^\s*total:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -E '^\s*failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  passed=$(grep -E '^\s*succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  skipped=$(grep -E '^\s*skipped:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  rm -f "$log"
  if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
  # The generated-code check counts as one test: committed *.g.cs that differ from the catalog fail the run.
  if [ "$gen_status" -ne 0 ]; then failed=$(( ${failed:-0} + 1 )); status=1; else passed=$(( ${passed:-0} + 1 )); fi
  if [ "${skipped:-0}" -gt 0 ]; then
    echo "${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
  else
    echo "${passed:-0} passed, ${failed:-0} failed"
  fi
  [ "$status" -eq 0 ]
}

bench() {
  ensure_packages swtpm swtpm-tools
  build
  dotnet run -c Release --project perf/Vtpm.Benchmarks -- "$@"
}

case "${1:-build}" in
  build) build ;;
  run) run ;;
  test) run_tests ;;
  bench) shift; bench "$@" ;;
  *) echo "usage: $0 [build|run|test|bench]" >&2; exit 2 ;;
esac
