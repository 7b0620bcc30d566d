"""gunicorn settings for Rigsite. gunicorn reads ./gunicorn.conf.py by default, so `gunicorn rigsite.wsgi`
run from the repository root uses this file; command-line options (-w, -b) override it.

Env: GUNICORN_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers, default 2 x CPUs),
GUNICORN_TIMEOUT (seconds, default 30).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * multiprocessing.cpu_count())))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# The configurator keeps the whole build in the URL. The app accepts up to builds.inputs.MAX_ITEMS (64)
# lines of up to builds.configurator.state.MAX_TOKEN_CHARS (8 KB) each, so a URL it accepts can be ~520 KB; a state
# with 20 custom parts is already 4.4 KB, past gunicorn's default request line of 4094 bytes (a 414).
# gunicorn's finite limit stops at 8190 bytes; 0 means no limit of its own. The reverse proxy in front
# bounds the request line instead (README, Deploying: nginx `large_client_header_buffers 4 1m;`), and
# tests/ops/test_gunicorn.py checks this limit against the app's own maximum.
limit_request_line = 0
# Header fields: a browser holding the old per-build edit cookies (one per build, ~70 bytes each) sends
# them once more so that the app can fold them into one; 32 KB lets ~450 through. New cookies stay < 4 KB.
limit_request_field_size = 32768
limit_request_fields = 100
