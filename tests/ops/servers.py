"""Real app servers for the ops tests: gunicorn processes (with the repo's gunicorn.conf.py) on free loopback
ports against the test database, and a private Redis."""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The database this test run uses (the test database pytest-django made), as a DATABASE_URL."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def wait_http(url: str, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"server did not answer at {url}:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 1, extra_args: tuple | list = ()):
    """One gunicorn (the repo's gunicorn.conf.py, as the README runs it) on a free port; yields its URL."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="rigsite-gunicorn-", suffix=".log")[1])
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rigsite.settings",
        "DATABASE_URL": test_database_url(),
        "DEBUG": "false",
        "RIGSITE_PLAIN_STATIC": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
        **env,
    }
    cmd = [
        str(GUNICORN),
        "rigsite.wsgi",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra_args,
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/static/does-not-exist", proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        text = log.read_text()
        log.unlink(missing_ok=True)
        assert "Traceback" not in text, text[-3000:]


@contextmanager
def redis_url():
    """REDIS_URL of a real Redis: the one the test command started (RIGSITE_TEST_REDIS_URL), else a
    private redis-server started here. Without either, the test is skipped, except in CI (CI=true)."""
    given = os.environ.get("RIGSITE_TEST_REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "redis-server is not installed; in CI the scale-out test must run (apt-get install redis-server)"
            )
        pytest.skip("redis-server is not installed (apt-get install redis-server); `make test` installs it")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="rigsite-redis-")
    cmd = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        workdir,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def release_tag() -> str:
    return f"test-{secrets.token_hex(4)}"
