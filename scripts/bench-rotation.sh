#!/usr/bin/env bash
# Key rotation under load: bind throughput on SQLite with CARDS seeded cards
# (default 100,000; seeded through the real vault code), first with no
# rotation, then while a rotation's re-encryption walks them all; and the
# re-encryption's rate (values resealed per second) from
# GET /v1/admin/keys/rotation.
# Usage: scripts/bench-rotation.sh [OUT_DIR]
# TESSERA_BIN: a tessera binary to use instead of building the release one;
# DURATION: each measurement (default 10s); CONNECTIONS (default 64);
# SEEDED: a data directory `tessera seed` filled already, copied instead of
# seeding again (a million cards take minutes to seed); DATABASE_URL: an
# empty PostgreSQL database to measure instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/bench-rotation}
mkdir -p "$out"
bin=${TESSERA_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p tessera-cli
  bin=target/release/tessera
fi
cards=${CARDS:-100000}
duration=${DURATION:-10s}
dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

db=()
[ -z "${DATABASE_URL:-}" ] || db=(--database-url "$DATABASE_URL")
if [ -n "${SEEDED:-}" ]; then
  cp -a "$SEEDED" "$dir/data"
else
  "$bin" seed --cards "$cards" --data-dir "$dir/data" ${db[@]+"${db[@]}"} >/dev/null
fi
key=$("$bin" admin create-key --role operator --data-dir "$dir/data" ${db[@]+"${db[@]}"})
"$bin" serve --listen 127.0.0.1:0 --load-test --data-dir "$dir/data" ${db[@]+"${db[@]}"} \
  >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
for _ in $(seq 1 200); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^tessera listening on //p' "$dir/serve.out")

bind() {
  "$bin" bench --server "$base" --scenario bind --connections "${CONNECTIONS:-64}" --duration "$duration" \
    --warmup 2s --operator-key "$key" --json | sed "s/^{/{\"during_rotation\":$1,/"
}
api() {
  curl -sf -H "Authorization: Bearer $key" "$@"
}

bind false >"$out/results.jsonl"
api -X POST "$base/v1/admin/keys/rotate" >"$out/rotate.json"
bind true >>"$out/results.jsonl"
api "$base/v1/admin/keys/rotation" >"$out/rotation-after-bench.json"
until api "$base/v1/admin/keys/rotation" >"$out/rotation.json" &&
  python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["finished"] else 1)' \
    "$out/rotation.json"; do
  sleep 1
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
for line in open(f"{out}/results.jsonl"):
    r = json.loads(line)
    label = "bind during rotation" if r["during_rotation"] else "bind, no rotation  "
    print(label, round(r["rps"]), "ok/s, p99", r["latency_ms"]["p99"], "ms, errors", r["errors"])
during = json.load(open(f"{out}/rotation-after-bench.json"))
done = json.load(open(f"{out}/rotation.json"))
print("re-encryption:", done["resealed"], "values resealed,",
      round(done["rate_per_sec"]), "per second;",
      during["records_left"], "left when the bind measurement ended")
PY
