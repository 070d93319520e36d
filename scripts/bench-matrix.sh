#!/usr/bin/env bash
# Runs the BENCHMARKS.md service matrix: every scenario at 1, 16 and 64
# connections against a fresh release server on SQLite and on PostgreSQL,
# with the server's peak memory. Writes JSON lines and a markdown table.
# Usage: scripts/bench-matrix.sh [OUT_DIR]   (needs PostgreSQL for that half)
# SCENARIOS picks the scenarios (default: all five; keep healthz in a
# partial run, since the last column is the share of its ceiling).
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
out=${1:-target/bench-matrix}
mkdir -p "$out"
cargo build --release -q -p tessera-cli
bin=target/release/tessera
duration=${DURATION:-10s}
pg_url=${TESSERA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}

# The merchant the pay scenario pays as, for binaries whose merchant keys
# take one (older builds have no --merchant and scope nothing).
merchant_args() {
  if "$1" admin create-key --help 2>/dev/null | grep -- '--merchant' >/dev/null; then
    echo --merchant BENCH
  fi
}

run_backend() {
  local backend=$1 dir; dir=$(mktemp -d)
  local db_args=(--data-dir "$dir/data")
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_bench" -c "CREATE DATABASE tessera_bench"
    db_args+=(--database-url "$pg_url/tessera_bench")
  fi
  local merchant
  # shellcheck disable=SC2046
  merchant=$("$bin" admin create-key --role merchant $(merchant_args "$bin") "${db_args[@]}" 2>/dev/null | tail -n 1)
  /usr/bin/time -v "$bin" serve --listen 127.0.0.1:0 $(limit_args "$bin") "${db_args[@]}" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base; base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")
  for scenario in ${SCENARIOS:-healthz bind get-card pay mixed}; do
    for c in 1 16 64; do
      echo "== $backend $scenario $c (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
      "$bin" bench --server "$base" --scenario "$scenario" --connections "$c" \
        --duration "$duration" --warmup 2s --merchant-key "$merchant" --json \
        | sed "s/^{/{\"backend\":\"$backend\",/" >>"$out/results.jsonl" || true
    done
  done
  kill -TERM "$(pgrep -P "$pid" tessera || echo "$pid")" 2>/dev/null || true
  wait "$pid" || true
  echo "$backend peak RSS: $(grep 'Maximum resident' "$dir/serve.err" | awk '{print $6}') KiB" | tee -a "$out/memory.txt"
  [ "$backend" = postgres ] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_bench" || true
  rm -rf "$dir"
}

: >"$out/results.jsonl"; : >"$out/memory.txt"
run_backend sqlite
if pg_isready -q -h 127.0.0.1; then run_backend postgres; fi
python3 - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ceiling = {(r["backend"], r["connections"]): r["rps"] for r in rows if r["scenario"] == "healthz"}
print("| backend | scenario | connections | ok/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | vs healthz |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    l = r["latency_ms"]; errors = sum(r["errors"].values())
    share = r["rps"] / ceiling.get((r["backend"], r["connections"]), r["rps"] or 1) * 100
    print(f'| {r["backend"]} | {r["scenario"]} | {r["connections"]} | {r["rps"]:,.0f} | {l["p50"]:.2f} | {l["p90"]:.2f} | {l["p99"]:.2f} | {l["p999"]:.2f} | {errors} | {share:.1f}% |')
PY
