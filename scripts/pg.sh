# Source this: pg_start starts a private PostgreSQL (Debian package) on 127.0.0.1:$PG_PORT; pg_stop stops it.
PG_PORT="${PG_PORT:-54329}"
PG_DIR="${PG_DIR:-/tmp/rigsite-pg-$PG_PORT}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {  # PostgreSQL refuses to run as root: run its tools as the postgres user when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  apt_install postgresql
  local bin; bin="$(pg_bin)"
  pg_stop_quiet
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; fi
  as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/rigsite"
  # For the fault tests, which restart this server under load.
  export RIGSITE_PG_BIN="$bin" RIGSITE_PG_DATA="$PG_DIR/data" RIGSITE_PG_PORT="$PG_PORT" RIGSITE_PG_LOG="$PG_DIR/log"
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres rigsite
  echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

pg_stop_quiet() {
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] && [ -d "$PG_DIR/data" ] && as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
}

pg_stop() { pg_stop_quiet; rm -rf "$PG_DIR"; }
