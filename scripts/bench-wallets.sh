#!/usr/bin/env bash
# Bind for people whose wallets already hold many cards against bind for
# new people, on one build, in alternating pairs: a binding's cost should
# not grow with the wallet (BENCHMARKS.md, Targets).
# Usage: scripts/bench-wallets.sh [BIN]   (BIN defaults to a release build
# of the work tree, target/release/tessera)
# PAIRS (default 3), WALLET (cards a person holds, 1000), USERS (64),
# CONNECTIONS (64), DURATION (10s), BACKENDS ("sqlite postgres"),
# NEW_ON ("seeded", or "empty").
# Each pair is one run on a copy of a database seeded once (USERS people
# holding WALLET active cards each, `tessera seed`; bench --seeded-users
# signs them in) and one where bench signs up new people: on another copy
# of the same database (NEW_ON=seeded: only the wallets differ), or on an
# empty one (NEW_ON=empty: the stored cards differ too). The order swaps
# every pair, so that a machine drifting in speed favours neither. Every
# run is a fresh server with `--load-test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p tessera-cli
  bin=target/release/tessera
fi
bin=$(realpath "$bin")
pairs=${PAIRS:-3}
wallet=${WALLET:-1000}
users=${USERS:-64}
connections=${CONNECTIONS:-64}
duration=${DURATION:-10s}
new_on=${NEW_ON:-seeded}
pg_url=${TESSERA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
out=target/bench-wallets/$new_on
mkdir -p "$out"

# One seeded database per backend: a SQLite data directory copied for each
# run, a PostgreSQL database each run's database is created from.
seeded=$(mktemp -d)
trap 'rm -rf "$seeded"' EXIT
seed() {
  local backend=$1 args=(--data-dir "$seeded/$backend")
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_wallets_seeded" \
      -c "CREATE DATABASE tessera_wallets_seeded"
    args+=(--database-url "$pg_url/tessera_wallets_seeded")
  fi
  "$bin" seed --cards $((wallet * users)) --users "$users" "${args[@]}" >/dev/null
}

# One fresh server on `backend`, its database seeded or empty; bind once.
measure() {
  local backend=$1 wallets=$2 pair=$3 dir; dir=$(mktemp -d)
  local db_args=(--data-dir "$dir/data") source_args=() copy=$wallets
  if [ "$new_on" = seeded ]; then copy=seeded; fi
  if [ "$backend" = postgres ]; then
    local template=template0
    if [ "$copy" = seeded ]; then template=tessera_wallets_seeded; fi
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_wallets" \
      -c "CREATE DATABASE tessera_wallets TEMPLATE $template"
    db_args+=(--database-url "$pg_url/tessera_wallets")
  fi
  if [ "$copy" = seeded ]; then cp -r "$seeded/$backend" "$dir/data"; fi
  if [ "$wallets" = seeded ]; then source_args=(--seeded-users "$users"); fi
  local merchant operator
  merchant=$("$bin" admin create-key --role merchant --merchant BENCH "${db_args[@]}" 2>/dev/null | tail -n 1)
  operator=$("$bin" admin create-key --role operator "${db_args[@]}" 2>/dev/null | tail -n 1)
  RUST_LOG=warn "$bin" serve --listen 127.0.0.1:0 --load-test "${db_args[@]}" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  for _ in $(seq 1 200); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base; base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")
  echo "== pair $pair $backend $wallets (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$bin" bench --server "$base" --scenario bind --connections "$connections" \
    --duration "$duration" --warmup 2s --merchant-key "$merchant" --operator-key "$operator" \
    "${source_args[@]}" --json \
    | sed "s/^{/{\"wallets\":\"$wallets\",\"backend\":\"$backend\",\"pair\":$pair,/" \
      >>"$out/results.jsonl" || true
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_wallets"
  fi
  rm -rf "$dir"
}

: >"$out/results.jsonl"
for backend in ${BACKENDS:-sqlite postgres}; do
  seed "$backend"
  for pair in $(seq 1 "$pairs"); do
    if [ $((pair % 2)) -eq 1 ]; then order="seeded new"; else order="new seeded"; fi
    for wallets in $order; do
      measure "$backend" "$wallets" "$pair"
    done
  done
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_wallets_seeded"
  fi
done

python3 - "$out/results.jsonl" "$wallet" "$new_on" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wallet = int(sys.argv[2])
print(f"new people on {'a copy of the seeded' if sys.argv[3] == 'seeded' else 'an empty'} database")
print(f"| backend | {wallet:,}-card wallets ok/s (runs) | new people ok/s (runs) | many/new, mean of pairs |")
print("|---|---|---|---|")
for backend in sorted({r["backend"] for r in rows}):
    by = {(r["wallets"], r["pair"]): r["rps"] for r in rows if r["backend"] == backend}
    pairs = sorted({p for (_, p) in by})
    seeded = [by[("seeded", p)] for p in pairs if ("seeded", p) in by]
    new = [by[("new", p)] for p in pairs if ("new", p) in by]
    ratios = [by[("seeded", p)] / by[("new", p)] for p in pairs
              if ("seeded", p) in by and ("new", p) in by and by[("new", p)]]
    fmt = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)
    mean = statistics.mean(ratios) * 100 if ratios else float("nan")
    print(f"| {backend} | {fmt(seeded)} | {fmt(new)} | {mean:.1f}% |")
PY
