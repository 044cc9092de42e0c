#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL for the tests on 127.0.0.1:${BERTH_PG_PORT:-55432}, trust auth.
# Usage: scripts/pg.sh start|stop|url
set -euo pipefail
PORT=${BERTH_PG_PORT:-55432}
DIR=${BERTH_PG_DIR:-/tmp/berth-test-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
URL="postgres://postgres@127.0.0.1:${PORT}/postgres"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  url) echo "$URL" ;;
  start)
    [ -n "$BIN" ] || { echo "pg.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    if as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then echo "$URL"; exit 0; fi
    if [ ! -f "$DIR/PG_VERSION" ]; then
      rm -rf "$DIR"; mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
      as_pg "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=on -c max_connections=300" start >/dev/null
    echo "$URL" ;;
  stop) as_pg "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
