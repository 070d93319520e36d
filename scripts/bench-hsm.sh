#!/usr/bin/env bash
# The vault's two key backends compared in alternating pairs: for each pair,
# a fresh server on its key file, then a fresh one whose keys were moved into
# a SoftHSM2 token (`tessera keys move-to-hsm`), the order swapping every
# pair so that a machine drifting in speed favours neither. Each server gets
# every scenario once from the same load generator. Prints each run and the
# mean ratio hsm/file per scenario.
# Usage: TESSERA_BIN=target/release/tessera scripts/bench-hsm.sh
# PAIRS (default 3), CONNECTIONS (64), DURATION (10s), SCENARIOS ("bind pay"),
# BACKENDS ("sqlite"; "postgres" uses TESSERA_BENCH_DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TESSERA_BIN:?set TESSERA_BIN to a release build of tessera}
module=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
pairs=${PAIRS:-3}
connections=${CONNECTIONS:-64}
duration=${DURATION:-10s}
pg_url=${TESSERA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
out=target/bench-hsm
mkdir -p "$out"

# One fresh server with keys `keys` (file or hsm) on `backend`; each
# scenario once.
measure() {
  local keys=$1 backend=$2 pair=$3 dir; dir=$(mktemp -d)
  local db_args=(--data-dir "$dir/data")
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_hsm" -c "CREATE DATABASE tessera_hsm"
    db_args+=(--database-url "$pg_url/tessera_hsm")
  fi
  local merchant operator
  merchant=$("$bin" admin create-key --role merchant --merchant BENCH "${db_args[@]}" 2>/dev/null | tail -n 1)
  operator=$("$bin" admin create-key --role operator "${db_args[@]}" 2>/dev/null | tail -n 1)
  local env=()
  if [ "$keys" = hsm ]; then
    mkdir -p "$dir/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
      "$dir/tokens" >"$dir/softhsm2.conf"
    export SOFTHSM2_CONF="$dir/softhsm2.conf" TESSERA_HSM_PIN=1234
    softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
    "$bin" keys move-to-hsm --module "$module" --token bench "${db_args[@]}" >/dev/null
    env=(TESSERA_VAULT__BACKEND=pkcs11 TESSERA_VAULT__PKCS11_MODULE="$module"
      TESSERA_VAULT__PKCS11_TOKEN=bench)
  fi
  env RUST_LOG=warn "${env[@]}" "$bin" serve --listen 127.0.0.1:0 --load-test "${db_args[@]}" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local pid=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local base; base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")
  if [ -z "$base" ]; then cat "$dir/serve.err" >&2; exit 1; fi
  for scenario in ${SCENARIOS:-bind pay}; do
    echo "== pair $pair $backend $keys $scenario $connections (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$bin" bench --server "$base" --scenario "$scenario" --connections "$connections" \
      --duration "$duration" --warmup 2s --merchant-key "$merchant" --operator-key "$operator" --json \
      | sed "s/^{/{\"keys\":\"$keys\",\"backend\":\"$backend\",\"pair\":$pair,/" \
        >>"$out/results.jsonl" || true
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  unset SOFTHSM2_CONF TESSERA_HSM_PIN
  if [ "$backend" = postgres ]; then
    psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS tessera_hsm"
  fi
  rm -rf "$dir"
}

: >"$out/results.jsonl"
for backend in ${BACKENDS:-sqlite}; do
  for pair in $(seq 1 "$pairs"); do
    if [ $((pair % 2)) -eq 1 ]; then order="file hsm"; else order="hsm file"; fi
    for keys in $order; do
      measure "$keys" "$backend" "$pair"
    done
  done
done

python3 - "$out/results.jsonl" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| database | scenario | file ok/s (runs) | hsm ok/s (runs) | hsm p99 ms | hsm/file, mean of pairs |")
print("|---|---|---|---|---|---|")
for backend, scenario in sorted({(r["backend"], r["scenario"]) for r in rows}):
    by = {(r["keys"], r["pair"]): r for r in rows
          if r["backend"] == backend and r["scenario"] == scenario}
    pairs = sorted({p for (_, p) in by})
    files = [by[("file", p)]["rps"] for p in pairs if ("file", p) in by]
    hsms = [by[("hsm", p)]["rps"] for p in pairs if ("hsm", p) in by]
    p99 = [by[("hsm", p)]["latency_ms"]["p99"] for p in pairs if ("hsm", p) in by]
    ratios = [by[("hsm", p)]["rps"] / by[("file", p)]["rps"] for p in pairs
              if ("hsm", p) in by and ("file", p) in by and by[("file", p)]["rps"]]
    fmt = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)
    fmt1 = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
    mean = statistics.mean(ratios) * 100 if ratios else float("nan")
    print(f"| {backend} | {scenario} | {fmt(files)} | {fmt(hsms)} | {fmt1(p99)} | {mean:.1f}% |")
PY
