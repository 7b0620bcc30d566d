# Source this: redis_start starts a private Redis (Debian package redis-server) on 127.0.0.1:$REDIS_PORT,
# in-memory only, and exports RIGSITE_TEST_REDIS_URL for the scale-out test (tests/ops/test_scale_out.py);
# redis_stop stops it. The suite's own cache stays local: REDIS_URL is not set for it.
REDIS_PORT="${REDIS_PORT:-63799}"
REDIS_DIR="${REDIS_DIR:-/tmp/rigsite-redis-$REDIS_PORT}"

redis_start() {
  apt_install redis-server
  redis_stop
  mkdir -p "$REDIS_DIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export RIGSITE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "== Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$REDIS_PORT"
}

redis_stop() {
  if [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid; pid="$(cat "$REDIS_DIR/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$REDIS_DIR"
}
