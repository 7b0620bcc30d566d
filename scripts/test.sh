#!/usr/bin/env bash
# The second README command: set up and run every check and test.
source "$(dirname "$0")/common.sh"
source "$ROOT/scripts/pg.sh"
source "$ROOT/scripts/redis.sh"
start=$(date +%s)
ensure_venv
apt_install chromium redis-server
export PYTHONDONTWRITEBYTECODE=1

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

echo "== lint-imports (app layers: pyproject.toml [tool.importlinter])"
"$VENV/bin/lint-imports"

echo "== makemigrations --check"
"$PY" manage.py makemigrations --check --dry-run

echo "== verify_boards (curated boards against their firmware slot tables)"
"$PY" manage.py verify_boards --quiet

echo "== check --deploy and collectstatic (production settings)"
prod_env=(DJANGO_SETTINGS_MODULE=rigsite.settings_production ALLOWED_HOSTS=rigsite.example.org
  SECRET_KEY="check-deploy-$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')")
env "${prod_env[@]}" "$PY" manage.py check --deploy --fail-level WARNING
env "${prod_env[@]}" "$PY" manage.py collectstatic --noinput -v0

echo "== private Redis (the scale-out test runs two app servers against it and the database)"
trap redis_stop EXIT
redis_start

echo "== pytest on SQLite"
env -u DATABASE_URL "$PY" -m pytest -m "not browser" -q -p no:cacheprovider "$@"

echo "== pytest on PostgreSQL"
trap 'pg_stop; redis_stop' EXIT
pg_start
"$PY" -m pytest -m "not browser and not engine_only" -q -p no:cacheprovider "$@"
pg_stop
redis_stop
trap - EXIT

echo "== browser tests (Playwright + Debian chromium, headless)"
env -u DATABASE_URL "$PY" -m pytest -m browser -q -p no:cacheprovider "$@"

echo "== all checks passed in $(( $(date +%s) - start )) s"
