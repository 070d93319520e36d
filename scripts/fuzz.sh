#!/usr/bin/env bash
# Runs each cargo-fuzz target in fuzz/ for a while, one after the other
# (or FUZZ_JOBS at a time).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target, 60 by default; every target (`cargo fuzz list`) when
# none is named. Needs cargo-fuzz (`cargo install cargo-fuzz`). Runs on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags) and
# without a sanitizer by default: the workspace forbids unsafe code, so
# AddressSanitizer would add cost and find nothing that panics do not
# (FUZZ_SANITIZER=address to use it on nightly). The corpus grows in
# fuzz/corpus/<target> (not committed), starting from fuzz/seeds/<target>;
# a crash stops the run and leaves its input in fuzz/artifacts/<target>/.
# Each target runs under `nice -n 19` (FUZZ_NICE) so it only takes idle CPU;
# FUZZ_ARGS adds libFuzzer flags (`-fork=1 -ignore_crashes=1` to go on
# past a known crash and collect the others).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
[ "$#" -gt 0 ] && shift
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
nice="${FUZZ_NICE:-19}"
# FUZZ_PROFILE=dev builds without optimisation: minutes less to build,
# several times fewer executions a second; what CI's short runs want.
profile=()
[ "${FUZZ_PROFILE:-release}" = dev ] && profile=(--dev)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 1
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

# One build of every target first, so that the time below is all fuzzing.
cargo fuzz build "${profile[@]}" --sanitizer "$sanitizer"

# One target's run, its summary into $2 (printed in order below).
run_target() {
  local target=$1 summary=$2 log rc execs crashes per_sec cov corpus
  mkdir -p "corpus/$target" "seeds/$target"
  log=$(mktemp)
  set +e
  nice -n "$nice" cargo fuzz run "${profile[@]}" --sanitizer "$sanitizer" "$target" \
    "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  set -e
  {
    echo "-- ${target} (${seconds} s)"
    # The final stats: executions, speed, corpus, coverage.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # Fork mode prints no final stats: its last status line counts them.
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    crashes=$(grep -o 'crash: [0-9]*/[0-9]*/[0-9]*' "$log" | tail -n 1 || true)
    per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    corpus=$(find "corpus/$target" -type f | wc -l)
    echo "   ${execs:-?} executions (${per_sec:-?}/s), ${cov:-cov: ?}, corpus ${corpus} inputs${crashes:+, oom/timeout/${crashes}}"
    if [ "$rc" -ne 0 ]; then
      echo "   FAILED (exit ${rc}):"
      grep -m 3 -A 1 "panicked at" "$log" | sed 's/^/   /' || true
      grep -A 12 "^Output of" "$log" | sed 's/^/   /' || true
      ls "artifacts/$target" 2>/dev/null | sed 's/^/   artifact: /' || true
    fi
  } >"$summary"
  rm -f "$log"
  return "$rc"
}

# FUZZ_JOBS targets at a time (1 by default); each still fuzzes for
# SECONDS of its own, on a core of its own when there are enough.
jobs="${FUZZ_JOBS:-1}"
summaries=$(mktemp -d)
status=0
pids=()
for i in "${!targets[@]}"; do
  run_target "${targets[$i]}" "$summaries/$i" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
for i in "${!targets[@]}"; do
  cat "$summaries/$i"
done
rm -rf "$summaries"
exit "$status"
