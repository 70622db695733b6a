"""Workers as separate processes, for the tests that kill one mid-work.

A worker is started with ``python -m govbot worker`` against the test's
database and a fake forge, killed with SIGKILL once the forge has seen the
request the test waits for, and another one drains the inbox afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LEASE_SECONDS = 2


def worker_env(engine: Any, api_url: str, token: str, tmp_path: Path) -> dict[str, str]:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        url += f"?options=-csearch_path%3D{engine.dialect.default_schema_name}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "GOVBOT_GITHUB_TOKEN": token,
        "GOVBOT_GITHUB_API_URL": api_url,
        "GOVBOT_GITHUB_THROTTLE": "off",
        "GOVBOT_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "GOVBOT_CACHE_DIR": str(tmp_path / "cache"),
    }


def kill_worker_when(env: dict[str, str], reached: Callable[[], bool], what: str) -> None:
    """Start a worker, SIGKILL it once ``reached()``, and wait out its lease."""
    doomed = subprocess.Popen(
        [sys.executable, "-m", "govbot", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not reached():
        assert time.monotonic() < deadline and doomed.poll() is None, f"the worker never {what}"
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()


def drain(env: dict[str, str]) -> None:
    """Once the dead worker's lease ran out, another worker takes its delivery over."""
    time.sleep(LEASE_SECONDS + 0.2)
    done = subprocess.run(
        [sys.executable, "-m", "govbot", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
