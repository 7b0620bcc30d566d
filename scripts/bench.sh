#!/usr/bin/env bash
# `make bench`: engine and estimator benches, then the deployment shape under load — gunicorn (2 workers,
# DEBUG off) + a private PostgreSQL with the full OpenDB catalogue — measured by bench/recheck_timing.py (one
# client) and bench/load_test.py (open and closed loop). Numbers: bench/results/*.json and SUMMARY.md.
# Env: BENCH_QUICK=1 halves the load steps; BENCH_SETTINGS (default rigsite.settings_production).
source "$(dirname "$0")/common.sh"
export PG_PORT=54339  # never the test run's 54329
source "$ROOT/scripts/pg.sh"
start=$(date +%s)
ensure_venv
export PYTHONDONTWRITEBYTECODE=1
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
OPENDB="$ROOT/../shared/opendb/buildcores-open-db-136a77a.tar.gz"
BENCH_HOST=127.0.0.1
BENCH_PORT=8765
GUNICORN_PID=""
GUNICORN_LOG="$RESULTS/gunicorn.log.tmp"

cleanup() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
  fi
  pg_stop
}
trap cleanup EXIT

echo "== engine microbenchmarks (1/4/8 GPUs)"
"$PY" bench/engine_bench.py

echo "== estimator error table"
"$PY" bench/estimator_table.py

echo "== recommendations over the curated catalogue (bench/recommend_bench.py: p95 budget 1.5 s, engine checks)"
"$PY" bench/recommend_bench.py || echo "!! recommend bench FAILED (see above)"

echo "== estimator hold-out against public measurements (bench/results/speed_holdout.md)"
"$PY" bench/speed_holdout.py

echo "== concurrent saves on SQLite (tests/ops/test_concurrency.py: 20 PATCHes to one build, 10 to ten, 10 creates)"
env -u DATABASE_URL RIGSITE_CONCURRENCY_RESULTS="$RESULTS" "$PY" -m pytest tests/ops/test_concurrency.py \
  -q -p no:cacheprovider --ds rigsite.settings || echo "!! concurrent saves FAILED on SQLite (see above)"

echo "== parts list rendering on SQLite: curated GPUs by price per GB against the 404 floor (bench/parts_list_ratio.py)"
env -u DATABASE_URL "$PY" bench/parts_list_ratio.py || echo "!! parts list over its budget (20x the 404 page; see above)"

echo "== configurator re-check on SQLite: uncached htmx re-check of the dual-4090 example against the 404 floor (bench/recheck_ratio.py)"
env -u DATABASE_URL "$PY" bench/recheck_ratio.py || echo "!! re-check over its budget (7x the 404 page; see above)"

echo "== private PostgreSQL on 127.0.0.1:$PG_PORT"
pg_start
# Production settings, DEBUG off, served only on loopback; generous rate limits so the load is measured,
# not refused; RIGSITE_QUERY_COUNT_HEADER=1 turns on rigsite/query_count.py (X-Query-Count, Server-Timing).
export DJANGO_SETTINGS_MODULE="${BENCH_SETTINGS:-rigsite.settings_production}"
SECRET_KEY="bench-$(head -c 120 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 60)"
export SECRET_KEY ALLOWED_HOSTS="$BENCH_HOST" SECURE_SSL_REDIRECT=false RIGSITE_QUERY_COUNT_HEADER=1
export RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE=1000000 RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE=1000000
export LOG_LEVEL=ERROR

echo "== migrate, bootstrap"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py bootstrap | tail -n 3
import_seconds=""
if [ -f "$OPENDB" ]; then
  echo "== import the OpenDB catalogue ($(basename "$OPENDB"))"
  t0=$(date +%s)
  "$PY" manage.py import_opendb "$OPENDB" | tail -n 2
  import_seconds=$(( $(date +%s) - t0 ))
  echo "   imported in $import_seconds s"
else
  echo "!! $OPENDB not found: SKIPPING the OpenDB import; the catalogue has only the curated parts," \
    "so the numbers below are NOT those of the DESIGN.md budgets (which assume ~25,000 parts)"
fi
# Fresh planner statistics after the bulk import, as autovacuum would give a long-running server.
psql_q() { "$RIGSITE_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d rigsite -qAt -c "$1"; }
psql_q "VACUUM ANALYZE" >/dev/null
parts=$(psql_q "SELECT count(*) FROM catalog_part")
echo "   $parts parts in the catalogue"

echo "== concurrent saves on PostgreSQL (same test, its test database on this server)"
RIGSITE_CONCURRENCY_RESULTS="$RESULTS" "$PY" -m pytest tests/ops/test_concurrency.py -q -p no:cacheprovider \
  --ds rigsite.settings || echo "!! concurrent saves FAILED on PostgreSQL (see above)"

echo "== collectstatic"
if ! "$PY" manage.py collectstatic --noinput -v0; then
  echo "!! collectstatic failed under $DJANGO_SETTINGS_MODULE (see the error above): the production static" \
    "storage cannot be built, so the production server cannot start. Fix it, then run make bench again."
  exit 1
fi

echo "== picker worst case: CPU per request over adversarial states (bench/picker_worst_case.py)"
"$PY" bench/picker_worst_case.py

echo "== gunicorn (2 workers) on $BENCH_HOST:$BENCH_PORT"
"$VENV/bin/gunicorn" rigsite.wsgi -w 2 -b "$BENCH_HOST:$BENCH_PORT" --log-level warning \
  >"$GUNICORN_LOG" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://$BENCH_HOST:$BENCH_PORT/" && break
  kill -0 "$GUNICORN_PID" 2>/dev/null || { cat "$GUNICORN_LOG"; echo "!! gunicorn did not start"; exit 1; }
  sleep 0.2
done
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$BENCH_HOST:$BENCH_PORT/")
headers=$(curl -s -D - -o /dev/null "http://$BENCH_HOST:$BENCH_PORT/")
echo "   GET / -> $status"
if ! grep -qi '^x-query-count:' <<<"$headers"; then
  echo "!! no X-Query-Count header: add \"rigsite.query_count.QueryCountMiddleware\" first in MIDDLEWARE" \
    "(rigsite/settings.py); SQL queries per request will be reported as null"
fi

echo "== one client, sequential (bench/recheck_timing.py)"
"$PY" bench/recheck_timing.py --base-url "http://$BENCH_HOST:$BENCH_PORT"

echo "== load (bench/load_test.py)"
"$PY" bench/load_test.py --base-url "http://$BENCH_HOST:$BENCH_PORT" ${BENCH_QUICK:+--quick}

errors_logged=$(grep -c "Traceback" "$GUNICORN_LOG" || true)
echo "== server tracebacks logged during the run: $errors_logged (log: $GUNICORN_LOG)"

"$PY" bench/load_test.py --summary --server-tracebacks "$errors_logged" --parts "$parts" \
  ${import_seconds:+--import-seconds "$import_seconds"}
"$PY" bench/robustness_summary.py
echo "== bench finished in $(( $(date +%s) - start )) s; numbers in bench/results/ (SUMMARY.md)"
