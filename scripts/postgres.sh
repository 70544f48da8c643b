#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests (Debian's postgresql package).
#
#   scripts/postgres.sh start DIR   creates a cluster in DIR (which must be
#                                   empty or missing), starts it and prints its
#                                   URL, postgresql://USER@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR    stops it (DIR is left for the caller to remove)
#
# The server listens on 127.0.0.1 (a free port) and on a unix socket in DIR,
# with trust authentication and durability off (fsync=off): it holds test data
# only. Run as root, the server runs as the `postgres` system user (PostgreSQL
# refuses to run as root) and DIR is handed to that user; run as anyone else,
# it runs as that user. Progress goes to stderr, the URL alone to stdout; the
# server's log is DIR/server.log. PG_BINDIR overrides where initdb and pg_ctl
# are looked for (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
dir=$2

if [[ "$action" == stop && ! -f "$dir/data/postmaster.pid" ]]; then
  exit 0  # never started, or already stopped
fi

bindir=${PG_BINDIR:-}
if [[ -z "$bindir" ]]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [[ -z "$bindir" || ! -x "$bindir/initdb" || ! -x "$bindir/pg_ctl" ]]; then
  echo "postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl) found in '${bindir:-/usr/lib/postgresql/*/bin}';" \
    "install Debian's postgresql package (scripts/setup.sh does)" >&2
  exit 1
fi

as_server=()
user=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "postgres.sh: running as root needs the 'postgres' system user (from the postgresql package)" >&2
    exit 1
  fi
  as_server=(runuser -u postgres --)
  user=postgres
fi

case "$action" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ -e "$dir/data" ]]; then
      echo "postgres.sh: $dir/data already exists; give an empty folder" >&2
      exit 1
    fi
    # The unix socket path must fit in sockaddr_un (107 bytes).
    if ((${#dir} > 80)); then
      echo "postgres.sh: '$dir' is too long for a unix socket path; use a shorter folder" >&2
      exit 1
    fi
    if ((${#as_server[@]})); then
      chown postgres: "$dir"
      if ! runuser -u postgres -- test -w "$dir"; then
        echo "postgres.sh: user postgres cannot write $dir (is a parent folder private to root?)" >&2
        exit 1
      fi
    fi
    "${as_server[@]}" "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust \
      --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
      echo "postgres.sh: initdb failed:" >&2
      cat "$dir/initdb.log" >&2
      exit 1
    }
    # A free port: bind port 0 and read back what the kernel chose. Another
    # process could take it before the server does, so retry a few times.
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      options="-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir'"
      options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
      options+=" -c max_connections=200 -c shared_buffers=64MB"
      if "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$options" start >&2; then
        echo "$port" >"$dir/port"
        echo "postgresql://$user@127.0.0.1:$port/postgres"
        exit 0
      fi
      echo "postgres.sh: start attempt $attempt on port $port failed" >&2
    done
    echo "postgres.sh: the server did not start; its log ($dir/server.log):" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
    ;;
  stop)
    "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2
    ;;
  *)
    usage
    ;;
esac
