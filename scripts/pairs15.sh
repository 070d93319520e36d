#!/usr/bin/env bash
# Compares two commits' release builds in alternating pairs: for each pair
# and backend, a fresh server of one build, then of the other (the order
# swaps every pair, so that a machine drifting in speed favours neither),
# each measured with the same load generator (the newer build's `tessera
# bench`). Prints each run and the mean ratio new/old per scenario.
# Usage: scripts/bench-pairs.sh OLD_REV [NEW_REV]   (NEW_REV defaults to HEAD)
# PAIRS (default 5), CONNECTIONS (64), DURATION (10s), SCENARIOS
# ("bind get-card pay"), BACKENDS ("sqlite postgres").
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=$(git rev-parse --short "${1:?usage: scripts/bench-pairs.sh OLD_REV [NEW_REV]}")
new_rev=$(git rev-parse --short "${2:-HEAD}")
pairs=${PAIRS:-5}
connections=${CONNECTIONS:-64}
duration=${DURATION:-10s}
pg_url=${TESSERA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
out=target/bench-pairs/$old_rev-$new_rev
mkdir -p "$out"

# One build directory for both commits: their dependencies build once.
build() {
  local rev=$1 tree
  if [ -x "$out/tessera-$rev" ]; then return; fi
  tree=$(mktemp -d)
  git worktree add -q --detach "$tree" "$rev"
  CARGO_TARGET_DIR="$PWD/target/bench-pairs/build" cargo build --release -q \
    --manifest-path "$tree/Cargo.toml" -p tessera-cli
  cp target/bench-pairs/build/release/tessera "$out/tessera-$rev"
  git worktree remove --force "$tree"
}
build "$old_rev"
build "$new_rev"
load="$out/tessera-$new_rev"

# One fresh server of `bin` on `backend`; each scenario once.
measure() {
  local bin=$1 rev=$2 backend=$3 pair=$4 dir; dir=$(mktemp -d)
  local db_args=(--data-dir "$dir/data")
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_pairs" -c "CREATE DATABASE tessera_pairs"
    db_args+=(--database-url "$pg_url/tessera_pairs")
  fi
  local merchant
  merchant=$("$bin" admin create-key --role merchant "${db_args[@]}" 2>/dev/null | tail -n 1)
  RUST_LOG=warn "$bin" serve --listen 127.0.0.1:0 --card-limit 1000000 "${db_args[@]}" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base; base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")
  for scenario in ${SCENARIOS:-bind get-card pay}; do
    echo "== pair $pair $backend $rev $scenario $connections (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$load" bench --server "$base" --scenario "$scenario" --connections "$connections" \
      --duration "$duration" --warmup 2s --merchant-key "$merchant" --json \
      | sed "s/^{/{\"rev\":\"$rev\",\"backend\":\"$backend\",\"pair\":$pair,/" \
        >>"$out/results.jsonl" || true
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_pairs"
  fi
  rm -rf "$dir"
}

: >"$out/results.jsonl"
for backend in ${BACKENDS:-sqlite postgres}; do
  for pair in $(seq 1 "$pairs"); do
    if [ $((pair % 2)) -eq 1 ]; then order="$old_rev $new_rev"; else order="$new_rev $old_rev"; fi
    for rev in $order; do
      measure "$out/tessera-$rev" "$rev" "$backend" "$pair"
    done
  done
done

python3 - "$out/results.jsonl" "$old_rev" "$new_rev" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
old, new = sys.argv[2], sys.argv[3]
print(f"| backend | scenario | {old} ok/s (runs) | {new} ok/s (runs) | new/old, mean of pairs |")
print("|---|---|---|---|---|")
keys = sorted({(r["backend"], r["scenario"]) for r in rows})
for backend, scenario in keys:
    by = {(r["rev"], r["pair"]): r["rps"] for r in rows
          if r["backend"] == backend and r["scenario"] == scenario}
    pairs = sorted({p for (_, p) in by})
    olds = [by[(old, p)] for p in pairs if (old, p) in by]
    news = [by[(new, p)] for p in pairs if (new, p) in by]
    ratios = [by[(new, p)] / by[(old, p)] for p in pairs
              if (new, p) in by and (old, p) in by and by[(old, p)]]
    fmt = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)
    mean = statistics.mean(ratios) * 100 if ratios else float("nan")
    print(f"| {backend} | {scenario} | {fmt(olds)} | {fmt(news)} | {mean:.1f}% |")
PY
