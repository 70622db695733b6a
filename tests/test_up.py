"""The README's main job: `govbot up`, signed deliveries from `govbot simulate`, `govbot reports`.

Everything runs as a user would run it (separate processes, real HTTP on
loopback, the embedded SQLite default, no forge credentials), and nothing is
posted anywhere: the reports are what govbot would have posted.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govbot.core.yamlio import dump, parse_bytes
from govbot.repo.snapshots import read_directory
from tests.conftest import REPO, SHARED


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def governance(tmp_path: Path) -> Path:
    """A repository whose last commit removes a required capability from next."""
    repo = tmp_path / "governance"
    for rel, raw in read_directory(REPO).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    g = copy.deepcopy(parse_bytes("next", (repo / "guidelines/next.yaml").read_bytes()).data)
    g["components"]["os_powered_compute"]["capabilities"]["required"].remove("compute-servers-lock")
    (repo / "guidelines/next.yaml").write_text(dump(g))
    git(repo, "commit", "-q", "-am", "Drop compute-servers-lock from next")
    return repo


@pytest.fixture
def running(tmp_path: Path, governance: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOVBOT_GITHUB", "GOVBOT_GERRIT", "DATABASE_URL"))
    }
    env.update(
        {
            "GOVBOT_HOME": str(tmp_path / "home"),
            "GOVBOT_REPO_PATH": str(governance),
            "GOVBOT_CLOCK_INTERVAL": "0.5",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "govbot", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (
            proc.stderr.read() if proc.stderr else ""
        )
        time.sleep(0.1)
    try:
        yield url, env
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def govbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govbot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_for_reports(env: dict[str, str], n: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        answer = govbot(env, "reports", "--format", "json")
        reports = json.loads(answer.stdout)["reports"] if answer.returncode == 0 else []
        if len(reports) >= n or time.monotonic() > deadline:
            return reports
        time.sleep(0.3)


def test_simulated_deliveries_produce_reports_and_post_nothing(
    running: tuple[str, dict[str, str]],
) -> None:
    url, env = running
    examples = SHARED / "github" / "webhook-examples.json"
    args = ["simulate", "--url", url] + (
        ["--examples", str(examples)] if examples.is_file() else []
    )
    sent = govbot(env, *args)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    reports = wait_for_reports(env, 3)
    ours = {r["kind"]: r for r in reports if r["review_key"] == "github:governance/guidelines#1"}
    assert set(ours) == {"check", "comment", "vote"}
    assert all(r["dry_run"] for r in reports)
    assert str(ours["check"]["title"]).startswith("1 error(s)")
    assert "compute-servers-lock" in str(ours["comment"]["body"])
    text = govbot(env, "reports").stdout
    assert "would post check on github:governance/guidelines#1" in text


def test_up_runs_the_clock(running: tuple[str, dict[str, str]], governance: Path) -> None:
    """Deadlines fire in the default setup: once the time line's milestones are in the
    past, the clock inside ``govbot up`` records them (each once)."""
    import sqlite3

    _, env = running
    timeline = governance / "policies" / "timeline.yaml"
    timeline.write_text(
        timeline.read_text().replace("summit: '2027-04-20'", "summit: '2020-04-20'")
    )
    db = Path(env["GOVBOT_HOME"]) / "govbot.db"
    deadline = time.monotonic() + 30
    found: list[tuple[str]] = []
    while time.monotonic() < deadline and len(found) < 7:
        with sqlite3.connect(db) as conn:
            found = conn.execute(
                "SELECT key FROM clock_events WHERE kind = 'milestone' ORDER BY key"
            ).fetchall()
        time.sleep(0.3)
    assert [k for (k,) in found] == [f"milestone:next:{m}" for m in sorted(MILESTONES)]


MILESTONES = ("S-3", "S-2", "S-1", "S", "S+1", "S+2", "S+3")
