#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the store tests and print its URL.
# Installs Debian's postgresql package when it is missing. Used by .ci/run; safe to run by hand.
set -euo pipefail
PORT=${ORC_PG_PORT:-54329}
DIR=${ORC_PG_DIR:-/tmp/orc-pg-$PORT}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
fi
BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
if [ ! -f "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"
  chown postgres "$DIR"
  su postgres -c "$BIN/initdb -D $DIR -A trust -U postgres" >/dev/null
fi
if ! su postgres -c "$BIN/pg_ctl -D $DIR status" >/dev/null 2>&1; then
  su postgres -c "$BIN/pg_ctl -D $DIR -l $DIR/server.log -w -o \"-p $PORT -k /tmp -c listen_addresses=127.0.0.1\" start" >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
