#!/usr/bin/env bash
# Where a PostgreSQL binding spends its time (BENCHMARKS.md, "Where a
# PostgreSQL binding's time goes"). Two measurements on a fresh database:
#
# 1. CPU per binding: `bench --scenario bind` at CONNECTIONS (default 64);
#    over a 6 s window in the middle of the run, the CPU time (user +
#    system, from /proc) of the server, of every PostgreSQL process (by
#    role: backends, WAL writer, ...) and of the load generator, divided by
#    the attempts recorded in that window.
# 2. Time per statement, nested ones included: the same run at 1 connection
#    (so wall time is close to CPU time) with auto_explain logging every
#    statement that PL/pgSQL runs; summed by statement from the server log.
#    auto_explain's own logging inflates the functions' totals (their
#    nested statements' plans are written inside them): read the nested
#    statements, not the functions' own figures.
# 3. PostgreSQL alone: pgbench (CONNECTIONS clients, prepared statements)
#    sends a binding's three statements (its context read, the reservation
#    and the recorded completion, with the arguments a sandbox binding
#    sends) for 128 users, with no Tessera server in the way: the ceiling
#    the database itself puts on bindings on this machine.
#
# Needs a local PostgreSQL superuser (auto_explain is loaded per database),
# read access to its log (PG_LOG) and pgbench (PGBENCH, default the one
# beside the server's binaries). Usage:
#   scripts/bench-pg-profile.sh [CONNECTIONS]
# Environment: TESSERA_BENCH_DATABASE_URL (server URL without a database,
# default postgres://postgres@127.0.0.1:5432), PG_LOG (default Debian's
# /var/log/postgresql/postgresql-15-main.log), DURATION (default 12s; at
# least 10s, the CPU window ends 10 s after the start).
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
connections=${1:-64}
duration=${DURATION:-12s}
pg_url=${TESSERA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
pg_log=${PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
pgbench=${PGBENCH:-$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1)}
db=tessera_profile
cargo build --release -q -p tessera-cli
bin=target/release/tessera
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The merchant the pay scenario pays as, for binaries whose merchant keys
# take one (older builds have no --merchant and scope nothing).
merchant_args() {
  if "$1" admin create-key --help 2>/dev/null | grep -- '--merchant' >/dev/null; then
    echo --merchant BENCH
  fi
}

# A fresh, migrated database; $1: SQL to run in it (may be empty).
fresh_database() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=
  fi
  psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
  rm -rf "$work/data"
  # Any command that opens the store applies the migrations.
  # shellcheck disable=SC2046
  "$bin" admin create-key --role merchant $(merchant_args "$bin") --data-dir "$work/data" \
    --database-url "$pg_url/$db" >/dev/null 2>&1
  [ -z "$1" ] || psql "$pg_url/$db" -qc "$1"
}

# A server on that database; sets $base.
serve() {
  "$bin" serve --listen 127.0.0.1:0 $(limit_args "$bin") --data-dir "$work/data" \
    --database-url "$pg_url/$db" >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's/^tessera listening on //p' "$work/serve.out")
}

# Clock ticks (user + system) of each PostgreSQL process, by role.
pg_ticks() {
  for pid in $(pgrep -u postgres); do
    local stat role
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    # "postgres: 15/main: walwriter", or a backend's "... USER DB HOST STATE".
    role=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null \
      | sed -E 's/^postgres: [^:]*: //; s/^[^ ]+ [^ ].*/backends/; s/ +$//')
    echo "$role $(echo "$stat" | awk '{print $14 + $15}')"
  done
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
attempts() { psql "$pg_url/$db" -tAc "SELECT count(*) FROM binding_attempts"; }

echo "== CPU per binding, $connections connections"
fresh_database ""
serve
"$bin" bench --server "$base" --scenario bind --connections "$connections" \
  --duration "$duration" --warmup 2s --json >"$work/bench.json" &
bench_pid=$!
sleep 4
pg_ticks >"$work/pg0"; a0=$(attempts); s0=$(ticks "$server_pid"); b0=$(ticks "$bench_pid")
sleep 6
pg_ticks >"$work/pg1"; a1=$(attempts); s1=$(ticks "$server_pid"); b1=$(ticks "$bench_pid")
wait "$bench_pid"
hz=$(getconf CLK_TCK)
python3 - "$work" "$hz" "$((a1 - a0))" "$((s1 - s0))" "$((b1 - b0))" <<'PY'
import collections, json, sys
work, hz, n, server, bench = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
def roles(path):
    out = collections.Counter()
    for line in open(path):
        role, ticks = line.rsplit(" ", 1)
        out[role] += int(ticks)
    return out
before, after = roles(f"{work}/pg0"), roles(f"{work}/pg1")
r = json.loads(open(f"{work}/bench.json").read())
print(f'bind: {r["rps"]:,.0f} ok/s, p99 {r["latency_ms"]["p99"]} ms; {n} attempts in the window')
us = lambda ticks: ticks * 1e6 / hz / n
print(f"CPU per binding: server {us(server):.0f} us, load generator {us(bench):.0f} us")
for role in sorted(after, key=lambda k: before.get(k, 0) - after[k]):
    d = after[role] - before.get(role, 0)
    if d > 0:
        print(f"  PostgreSQL {role}: {us(d):.0f} us")
PY

echo "== Time per statement (1 connection, auto_explain)"
fresh_database "ALTER DATABASE $db SET session_preload_libraries = 'auto_explain';
ALTER DATABASE $db SET auto_explain.log_min_duration = 0;
ALTER DATABASE $db SET auto_explain.log_nested_statements = on;
ALTER DATABASE $db SET auto_explain.log_analyze = on;
ALTER DATABASE $db SET auto_explain.log_timing = off;"
serve
from=$(($(wc -l <"$pg_log") + 1))
"$bin" bench --server "$base" --scenario bind --connections 1 --users 32 \
  --duration 8s --warmup 2s --json >/dev/null
tail -n "+$from" "$pg_log" >"$work/pg.log"
python3 - "$work/pg.log" <<'PY'
import collections, re, sys
lines = open(sys.argv[1]).read().split("\n")
calls, total = collections.Counter(), collections.Counter()
plan_node = re.compile(r"\s*(->|Result|Index|Seq|Insert|Update|Delete|Aggregate|Function|"
                       r"Nested|Hash|Limit|LockRows|Sort|Subquery|InitPlan|SubPlan|Trigger|Bitmap)")
for i, line in enumerate(lines):
    m = re.search(r"duration: ([\d.]+) ms\s+plan:", line)
    if not m or i + 1 >= len(lines) or "Query Text:" not in lines[i + 1]:
        continue
    text, k = lines[i + 1].split("Query Text:")[1].strip(), i + 2
    while k < len(lines) and lines[k].startswith("\t") and not plan_node.match(lines[k]):
        text += " " + lines[k].strip()
        k += 1
    key = re.sub(r"\s+", " ", text)[:100]
    calls[key] += 1
    total[key] += float(m.group(1))
print("| ms per call | calls | statement |")
print("|---|---|---|")
for key, ms in sorted(total.items(), key=lambda kv: -kv[1])[:16]:
    print(f"| {ms / calls[key]:.3f} | {calls[key]} | `{key}` |")
PY

echo "== PostgreSQL alone: pgbench, $connections clients"
if [ ! -x "$pgbench" ]; then
  echo "no pgbench (set PGBENCH): skipped"
  exit 0
fi
fresh_database "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash,
    id_number_last4, password_hash, created_at)
  SELECT 'u' || g, '1390000' || lpad(g::text, 4, '0'), '张三', '张三', 'h' || g, '002X',
    'x', 0 FROM generate_series(1, 128) g;"
# Each transaction: a random user of the 128, and a random number that
# makes the card, token, PAN fingerprints and trace new.
cipher="'\\x$(printf '%096d' 0)'::bytea"
cat >"$work/bind.sql" <<SQL
\\set u random(1, 128)
\\set n random(1, 9000000000000000000)
SELECT s.setting_names, s.setting_values, i.* FROM (SELECT array_agg(name) AS setting_names, array_agg(value) AS setting_values FROM settings WHERE name = ANY('{maintenance,sandbox_issuer}'::text[])) s LEFT JOIN LATERAL (SELECT * FROM issuer_incidents WHERE issuer_code = 'ICBC' AND resolved_at IS NULL AND breaker_open ORDER BY opened_at DESC, id COLLATE "C" DESC LIMIT 1) i ON TRUE;
SELECT set_config('synchronous_commit', 'off', true), r_outcome, r_card_id, r_status, r_live_cards FROM tessera_reserve_card('c' || :n, 'u' || :u, 9999999999999, 'fp' || :n, '622848', '1234', 19, 'unionpay', 'ICBC', '工商银行', 'ICBC', 'debit', 'CN', NULL, NULL, '张三', 'par' || :n, '139****0000', 1764000000000, 1000000, 1764000000000);
SELECT * FROM tessera_complete_binding_recorded('c' || :n, 'u' || :u, 'active', 1, $cipher, 1764000000000, 'tok' || :n, 1, $cipher, '622848', '5678', 12, 2030, 'active', 'wallet', 'dev1', 'tfp' || :n, 0, 'range1', 1, NULL, NULL, NULL, 'tr' || :n, 'u' || :u, 'c' || :n, '622848*********1234', '622848', '1234', 'unionpay', 'ICBC', '工商银行', 'debit', 'CN', 'dev1', 'success', NULL, NULL, NULL, NULL, 'approved', 3, 1764000000000);
SQL
"$pgbench" -n -M prepared -c "$connections" -j 2 -T 10 -f "$work/bind.sql" "$pg_url/$db" \
  2>&1 | grep -E '^(tps|latency average|number of failed)|error'
psql "$pg_url/$db" -tAc "SELECT count(*) || ' cards bound, ' || (SELECT count(*) FROM binding_attempts) || ' attempts recorded' FROM cards WHERE status = 'active'"
