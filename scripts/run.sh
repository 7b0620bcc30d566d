#!/usr/bin/env bash
# The first README command: set up and start the app on http://127.0.0.1:8000 (SQLite by default).
source "$(dirname "$0")/common.sh"
ensure_venv
"$PY" manage.py migrate --noinput
"$PY" manage.py bootstrap
echo "== Rigsite on http://127.0.0.1:8000/"
exec "$PY" manage.py runserver 127.0.0.1:8000
