#!/usr/bin/env bash
# A PostgreSQL primary and its synchronous standby on this machine, two
# clusters of their own beside the usual one, for failover tests and for
# trying Tessera's multi-host database URL by hand:
#
#   scripts/pg-standby.sh up DIR PRIMARY_PORT STANDBY_PORT
#       creates both under DIR and starts them; prints the database URL
#       that names both hosts. A commit on the primary returns only once the
#       standby has it (synchronous_standby_names = '*').
#   scripts/pg-standby.sh kill-primary DIR
#       SIGKILLs the primary's postmaster and every process of it: a crash.
#   scripts/pg-standby.sh promote DIR
#       promotes the standby, which then takes writes on its own.
#   scripts/pg-standby.sh down DIR
#       stops both (immediately) and removes DIR.
#
# PostgreSQL refuses to run as root: as root, the servers run as the
# postgres user, which is given DIR.
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg-standby: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postmaster_pid() {
  head -n 1 "$1/postmaster.pid" 2>/dev/null || true
}

[ $# -ge 2 ] || usage
command=$1
dir=$2

case "$command" in
up)
  [ $# -eq 4 ] || usage
  primary_port=$3
  standby_port=$4
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  # --no-sync: a test's cluster need not survive the machine, only its own
  # server's crash; the servers themselves still fsync every commit.
  as_postgres "$bin/initdb" -D "$dir/primary" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log"
  cat >>"$dir/primary/postgresql.conf" <<EOF
port = $primary_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 100
shared_buffers = 64MB
wal_level = replica
max_wal_senders = 4
wal_keep_size = 256MB
synchronous_standby_names = '*'
synchronous_commit = on
EOF
  as_postgres "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 30 start >/dev/null
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$dir/standby" -R -X stream --checkpoint=fast --no-sync
  # The standby's own settings come last and win. Once promoted it has no
  # standby of its own, so it must not wait for one.
  cat >>"$dir/standby/postgresql.conf" <<EOF
port = $standby_port
synchronous_standby_names = ''
EOF
  as_postgres "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 30 start >/dev/null
  # Up only once the primary counts the standby as synchronous.
  for _ in $(seq 1 100); do
    state=$(as_postgres "$bin/psql" -h 127.0.0.1 -p "$primary_port" -U postgres -At \
      -c "SELECT sync_state FROM pg_stat_replication" 2>/dev/null || true)
    [ "$state" = "sync" ] && break
    sleep 0.1
  done
  if [ "$state" != "sync" ]; then
    echo "pg-standby: the standby did not become synchronous (state: '${state}')" >&2
    exit 1
  fi
  echo "postgres://postgres@127.0.0.1:${primary_port},127.0.0.1:${standby_port}/postgres"
  ;;
kill-primary)
  pid=$(postmaster_pid "$dir/primary")
  [ -n "$pid" ] || { echo "pg-standby: no primary is running in $dir" >&2; exit 1; }
  # The children first in the list, read before the postmaster dies and
  # they are handed to init.
  children=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086
  kill -9 "$pid" $children
  ;;
promote)
  as_postgres "$bin/pg_ctl" -D "$dir/standby" -w -t 30 promote >/dev/null
  ;;
down)
  for cluster in primary standby; do
    if [ -f "$dir/$cluster/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/$cluster" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
  ;;
*)
  usage
  ;;
esac
