#!/usr/bin/env bash
# The first README command: set up and start the app on http://127.0.0.1:${PORT:-8000} (SQLite by default).
source "$(dirname "$0")/common.sh"
PORT="${PORT:-8000}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  echo "PORT must be a TCP port number (1-65535), got '$PORT'" >&2
  exit 2
fi
ensure_venv
"$PY" manage.py migrate --noinput
"$PY" manage.py bootstrap
echo "== Rigsite on http://127.0.0.1:$PORT/"
exec "$PY" manage.py runserver "127.0.0.1:$PORT"
