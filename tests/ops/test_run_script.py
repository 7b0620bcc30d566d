"""The first README command takes its port from PORT and refuses a bad one before doing any work."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("port", ["abc", "0", "70000", "80; rm -rf /"])
def test_run_refuses_a_bad_port(port):
    env = {**os.environ, "PORT": port}
    done = subprocess.run(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "PORT must be a TCP port number" in done.stderr
