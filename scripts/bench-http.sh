#!/usr/bin/env bash
# The HTTP layer's cost: `GET /healthz` of `tessera serve` against the same
# route on bare axum (crates/tessera-server/examples/bare_healthz.rs, the
# same axum, hyper and tokio), both release builds, under wrk, in
# alternating pairs (the order swaps every pair, so a machine drifting in
# speed favours neither). Prints each run's requests a second and the mean
# ratio tessera/bare.
# Usage: scripts/bench-http.sh [TESSERA_BIN]   (default: a release build of
# the work tree). PAIRS (5), CONNECTIONS (64), THREADS (2), DURATION (10s),
# RUST_LOG (info: the request log as shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${PAIRS:-5}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
duration=${DURATION:-10s}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p tessera-server --example bare_healthz
bare=$target/release/examples/bare_healthz
tessera=${1:-}
if [ -z "$tessera" ]; then
  cargo build --release -q -p tessera-cli
  tessera=$target/release/tessera
fi
dir=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Starts one server, waits for its address, runs wrk, stops it; prints
# requests a second.
measure() {
  local which=$1 base
  rm -rf "$dir/data" "$dir/out"
  if [ "$which" = tessera ]; then
    RUST_LOG=${RUST_LOG:-info} "$tessera" serve --listen 127.0.0.1:0 --data-dir "$dir/data" \
      >"$dir/out" 2>"$dir/log" &
  else
    "$bare" 127.0.0.1:0 >"$dir/out" 2>"$dir/log" &
  fi
  pid=$!
  base=""
  for _ in $(seq 1 300); do
    base=$(sed -n 's/^.*listening on \(http[^ ]*\).*$/\1/p' "$dir/out" 2>/dev/null | head -n 1)
    [ -z "$base" ] || break
    sleep 0.1
  done
  [ -n "$base" ] || { echo "$which did not start:" >&2; cat "$dir/log" >&2; exit 1; }
  # A second's warm-up, then the measured run.
  wrk -t"$threads" -c"$connections" -d1s "$base/healthz" >/dev/null
  wrk -t"$threads" -c"$connections" -d"$duration" "$base/healthz" |
    awk '/^Requests\/sec:/ { printf "%d\n", $2 }'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

echo "pair  tessera/s  bare/s  ratio"
sum=0
for pair in $(seq 1 "$pairs"); do
  if [ $((pair % 2)) -eq 1 ]; then
    t=$(measure tessera); b=$(measure bare)
  else
    b=$(measure bare); t=$(measure tessera)
  fi
  ratio=$(awk -v t="$t" -v b="$b" 'BEGIN { printf "%.3f", t / b }')
  sum=$(awk -v s="$sum" -v r="$ratio" 'BEGIN { print s + r }')
  echo "$pair  $t  $b  $ratio"
done
awk -v s="$sum" -v n="$pairs" 'BEGIN { printf "mean tessera/bare: %.1f%%\n", 100 * s / n }'
