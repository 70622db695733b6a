"""A release from vote to publication: the release change passes its vote, merges, is published once."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.core import release
from govbot.snapshots import read_directory
from govbot.store.models import AuditEntry, ReportRow
from tests.conftest import REPO
from tests.fakes.github_schema import minimal_payload
from tests.test_vote_scenario import T0, Bot, approve, iso, pull

KEY = "github:governance/guidelines#7"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture(scope="module")
def release_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """main at the base; on topic, the release change 'Approve 2021.01, supersede 2018.11'."""
    repo = tmp_path_factory.mktemp("rel") / "repo"
    files = read_directory(REPO)
    for rel, raw in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "topic")
    prepared = release.prepare(files, "2021.01", ["2018.11"], date(2026, 3, 9))
    for path, raw in prepared.files.items():
        if raw is None:
            (repo / path).unlink()
        else:
            (repo / path).write_bytes(raw)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Approve 2021.01, supersede 2018.11")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return {"repo": repo, "base": base, "head": head}


def merged(base: str, head: str, at: Any) -> dict[str, Any]:
    payload = pull("closed", base, head, at)
    payload["pull_request"].update(merged=True, merge_commit_sha=head, closed_at=iso(at))
    return minimal_payload("pull_request", "closed", payload)


def audit(engine: Any) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
        ).all()  # type: ignore[call-overload]
    return [(a, json.loads(d)) for a, d in rows]


def test_a_passed_release_is_published_once(engine: Any, release_repo: dict[str, Any]) -> None:
    bot = Bot(engine, release_repo["repo"])
    base, head = release_repo["base"], release_repo["head"]
    bot.github("pull_request", pull("opened", base, head, T0))
    assert "Vote class **release**" in bot.vote_report(KEY)
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=i + 1)
        bot.github("pull_request_review", approve(login, head, bot.now))
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(KEY) == "passed"
    for _ in range(3):  # the merge event, delivered again and again
        bot.github("pull_request", merged(base, head, bot.now))
    published = [d for a, d in audit(engine) if a == "published"]
    assert {d["guideline"] for d in published} == {
        "2021.01",
        "dns.2021.01",
        "orchestration.2021.01",
    }
    assert all(d["sha"] == head for d in published)
    assert (
        "tests/platform.txt" in published[0]["assets"] and "manifest.json" in published[0]["assets"]
    )
    with engine.connect() as conn:
        releases = conn.execute(
            select(ReportRow.head_sha, ReportRow.body).where(ReportRow.kind == "release")
        ).all()  # type: ignore[call-overload]
    assert sorted(tag for tag, _ in releases) == ["2021.01", "dns.2021.01", "orchestration.2021.01"]


def test_a_release_merged_without_a_passed_vote_is_not_published(
    engine: Any, release_repo: dict[str, Any]
) -> None:
    bot = Bot(engine, release_repo["repo"])
    base, head = release_repo["base"], release_repo["head"]
    bot.github("pull_request", pull("opened", base, head, T0))
    bot.github("pull_request", merged(base, head, T0 + timedelta(hours=1)))
    actions = [a for a, _ in audit(engine)]
    assert "release-not-published" in actions and "published" not in actions
