#!/usr/bin/env bash
# The BENCHMARKS.md scale check: bind and get-card at 10,000 stored cards,
# then at LARGE_CARDS (default 1,000,000; seeded through the real vault code),
# on SQLite.
# Usage: scripts/bench-scale.sh [OUT_DIR]
# PAIRS (default 1): measurements of each size, alternating, each on a fresh
# copy of its seeded database; this machine's speed drifts by more than the
# 80% target's margin, so compare sizes over several pairs.
set -euo pipefail
# The limits out of the benchmark's way: `--load-test` where the build has
# it (the limits are still counted, so their cost is measured), else the
# card limit raised, as builds before the binding limits needed.
limit_args() {
  if "$1" serve --help 2>/dev/null | grep -q -- '--load-test'; then
    echo --load-test
  else
    echo --card-limit 1000000
  fi
}
cd "$(dirname "$0")/.."
out=${1:-target/bench-scale}
mkdir -p "$out"
cargo build --release -q -p tessera-cli
bin=target/release/tessera
measure() {
  local label=$1 seeded=$2 dir
  dir=$(mktemp -d)
  cp -r "$seeded/data" "$dir/data"
  /usr/bin/time -v "$bin" serve --listen 127.0.0.1:0 $(limit_args "$bin") --data-dir "$dir/data" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  for _ in $(seq 1 200); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base; base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")
  for scenario in get-card bind; do
    "$bin" bench --server "$base" --scenario "$scenario" --connections 16 --duration 10s \
      --warmup 2s --seeded-users 32 --json | sed "s/^{/{\"stored\":\"$label\",/" >>"$out/results.jsonl"
  done
  kill -TERM "$(pgrep -P "$pid" tessera)" 2>/dev/null || true
  wait "$pid" || true
  echo "$label peak RSS: $(grep 'Maximum resident' "$dir/serve.err" | awk '{print $6}') KiB" >>"$out/memory.txt"
  rm -rf "$dir"
}

: >"$out/results.jsonl"; : >"$out/memory.txt"
# Two fresh databases, one per size (a second seed into one database would
# add its users and cards after the first's).
small=$(mktemp -d); large=$(mktemp -d)
"$bin" seed --cards 10000 --users 2000 --data-dir "$small/data" >/dev/null
large_cards=${LARGE_CARDS:-1000000}
"$bin" seed --cards "$large_cards" --data-dir "$large/data" >/dev/null
for _ in $(seq 1 "${PAIRS:-1}"); do
  measure 10k "$small"
  measure "$large_cards" "$large"
done
cat "$out/memory.txt"
python3 -c '
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    print(r["stored"], r["scenario"], round(r["rps"]), "ok/s, p99", r["latency_ms"]["p99"], "ms")
mean = collections.defaultdict(list)
for r in rows:
    mean[(r["scenario"], r["stored"] == "10k")].append(r["rps"])
for scenario in sorted({s for s, _ in mean}):
    small, large = mean[(scenario, True)], mean[(scenario, False)]
    ratio = sum(large) / len(large) / (sum(small) / len(small)) * 100
    print(f"{scenario}: the large database keeps {ratio:.0f}% of the 10k rate (means of {len(small)} runs)")
' "$out/results.jsonl"
rm -rf "$small" "$large"
