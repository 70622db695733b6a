"""Reliability against the real GitHub adapter (PyGithub over HTTP to a local fake forge).

A worker killed with SIGKILL after its posts reached the forge but before it
recorded them, then a worker that takes the delivery over: the forge ends with
one check run and one comment. A forge answering 500s and rate limits for a
while: the delivery is retried until it gets through.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.core.yamlio import dump, parse_bytes
from govbot.repo.snapshots import read_directory
from govbot.store import inbox, tables
from tests import processes
from tests.conftest import REPO
from tests.fakes.github_server import FakeGitHub, github_server

BASE, HEAD = "b" * 40, "c" * 40


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with github_server() as gh:
        yield gh


def seed(gh: FakeGitHub) -> None:
    files = read_directory(REPO)
    head = dict(files)
    g = copy.deepcopy(parse_bytes("next", files["guidelines/next.yaml"]).data)
    g["components"]["os_powered_compute"]["capabilities"]["required"].remove("compute-servers-lock")
    head["guidelines/next.yaml"] = dump(g).encode()
    repo = gh.add_repo("governance/guidelines")
    repo.commit(BASE, files, branch="main")
    repo.commit(HEAD, head)
    repo.add_pull(7, HEAD, BASE, ["guidelines/next.yaml"])


def opened() -> bytes:
    return json.dumps(
        {
            "action": "opened",
            "number": 7,
            "pull_request": {
                "number": 7,
                "title": "drop a capability",
                "user": {"login": "contributor"},
                "updated_at": "2026-01-01T00:00:00Z",
                "base": {"ref": "main", "sha": BASE},
                "head": {"ref": "topic", "sha": HEAD},
            },
            "repository": {"full_name": "governance/guidelines"},
        }
    ).encode()


def worker_env(engine: Any, gh: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    return processes.worker_env(engine, gh.url, "test-token", tmp_path)


def test_a_worker_killed_after_posting_causes_no_double_report(
    engine: Any, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    seed(fake_github)
    with engine.begin() as conn:
        inbox.record(conn, "github", "d-1", "pull_request", "opened", opened())
    fake_github.delays[("POST", "/issues/7/comments")] = 60  # the comment is made, the answer hangs
    env = worker_env(engine, fake_github, tmp_path)
    processes.kill_worker_when(
        env, lambda: bool(fake_github.calls("POST", "/issues/7/comments")), "reached the forge"
    )
    fake_github.delays.clear()
    processes.drain(env)
    repo = fake_github.repos["governance/guidelines"]
    runs = {run["name"]: run for run in repo.check_runs}
    assert sorted(run["name"] for run in repo.check_runs) == ["govbot/check", "govbot/vote"], (
        repo.check_runs
    )
    assert runs["govbot/check"]["conclusion"] == "failure"
    assert runs["govbot/vote"]["status"] == "in_progress"  # the vote is open
    assert len(repo.comments[7]) == 1
    assert "compute-servers-lock" in repo.comments[7][0]["body"]
    assert inbox.counts(engine) == {"done": 1}
    with engine.connect() as conn:
        assert len(conn.execute(select(tables.check_results)).all()) == 1
        reports = conn.execute(select(tables.reports)).all()
    assert sorted(r.kind for r in reports) == ["check", "comment", "vote"] and not any(
        r.dry_run for r in reports
    )


def test_a_forge_failing_for_a_while_is_retried_until_it_answers(
    engine: Any, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    seed(fake_github)
    with engine.begin() as conn:
        inbox.record(conn, "github", "d-2", "pull_request", "opened", opened())
    # more failures than the adapter's own retries absorb: the inbox must retry the delivery
    fake_github.fail_next(8, status=500, path="/check-runs")
    fake_github.fail_next(
        2,
        status=403,
        path="/check-runs",
        headers={"Retry-After": "1"},
        message="API rate limit exceeded",
    )
    env = worker_env(engine, fake_github, tmp_path)
    statuses = []
    for _ in range(6):
        statuses.append(inbox.counts(engine))
        subprocess.run(
            [sys.executable, "-m", "govbot", "worker", "--once"],
            env=env,
            capture_output=True,
            timeout=120,
        )
        if inbox.counts(engine) == {"done": 1}:
            break

        with engine.begin() as conn:  # skip the backoff wait instead of sleeping through it
            conn.execute(
                tables.deliveries.update().values(available_at=tables.deliveries.c.received_at)
            )
    assert inbox.counts(engine) == {"done": 1}, statuses
    repo = fake_github.repos["governance/guidelines"]
    assert sorted(run["name"] for run in repo.check_runs) == ["govbot/check", "govbot/vote"]
    assert len(repo.comments[7]) == 1
