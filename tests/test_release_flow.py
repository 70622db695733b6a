"""A release from vote to publication: the release change passes its vote, merges, is published once."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.cli import main as govbot_main
from govbot.core import release
from govbot.repo.snapshots import read_directory
from govbot.store.models import AuditEntry, ReportRow
from tests.conftest import REPO
from tests.fakes.github_schema import minimal_payload
from tests.test_vote_scenario import T0, Bot, approve, github_user, iso, pull

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
        ).all()
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
    for i in range(3):  # the merge event, delivered again and again (new ids, one event)
        bot.github("pull_request", merged(base, head, bot.now), expect=200 if i else 202)
    published = [d for a, d in audit(engine) if a == "published"]
    assert {d["guideline"] for d in published} == {
        "2021.01",
        "dns.2021.01",
        "orchestration.2021.01",
    }
    assert all(d["sha"] == head for d in published)
    with engine.connect() as conn:
        releases = conn.execute(
            select(ReportRow.head_sha, ReportRow.body).where(ReportRow.kind == "release")
        ).all()
    assert sorted(tag for tag, _ in releases) == ["2021.01", "dns.2021.01", "orchestration.2021.01"]
    body = dict(releases)["2021.01"]
    assert "- tests-platform.txt (" in body and "- manifest.json (" in body


def test_a_release_merged_without_a_passed_vote_is_not_published(
    engine: Any, release_repo: dict[str, Any]
) -> None:
    bot = Bot(engine, release_repo["repo"])
    base, head = release_repo["base"], release_repo["head"]
    bot.github("pull_request", pull("opened", base, head, T0))
    bot.github("pull_request", merged(base, head, T0 + timedelta(hours=1)))
    actions = [a for a, _ in audit(engine)]
    assert "release-not-published" in actions and "published" not in actions


def test_a_merge_whose_commit_is_unknown_publishes_nothing_and_asks_the_chairs(
    engine: Any, release_repo: dict[str, Any]
) -> None:
    """A merge event without its merge commit (what reconciliation can read back from
    Gerrit) never tags a guessed commit (the branch's tip may hold later merges): the
    chairs are asked to publish by hand."""
    bot = Bot(engine, release_repo["repo"])
    base, head = release_repo["base"], release_repo["head"]
    bot.github("pull_request", pull("opened", base, head, T0))
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=i + 1)
        bot.github("pull_request_review", approve(login, head, bot.now))
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    unknown = merged(base, head, bot.now)
    unknown["pull_request"]["merge_commit_sha"] = None
    bot.github("pull_request", unknown)
    actions = [a for a, _ in audit(engine)]
    assert "release-merge-commit-unknown" in actions and "published" not in actions
    with engine.connect() as conn:
        bodies = [b for (b,) in conn.execute(select(ReportRow.body)).all()]
    assert any("govbot release publish" in b and "@chair-alice" in b for b in bodies)


def request(login: str, body: str, number: int = 3) -> dict[str, Any]:
    """A comment on a plain tracking issue of a repository whose default branch is main."""
    return minimal_payload("issue_comment", "created", {
        "comment": {"id": 900 + number, "body": body, "user": github_user(login), "created_at": iso(T0), "updated_at": iso(T0)},
        "sender": github_user(login),
        "issue": {"number": number},
        "repository": {"full_name": "governance/guidelines", "default_branch": "main"},
    })  # fmt: skip


def posted(engine: Any, kind: str) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ReportRow.review_key, ReportRow.title, ReportRow.body)
            .where(ReportRow.kind == kind)
            .order_by(ReportRow.id)
        ).all()
    return [tuple(r) for r in rows]


def test_a_chair_asks_for_a_release_and_govbot_opens_the_change(
    engine: Any, release_repo: dict[str, Any]
) -> None:
    bot = Bot(engine, release_repo["repo"])
    bot.github(
        "issue_comment", request("chair-alice", "Ready.\n/release 2021.01 --supersede 2018.11")
    )
    opened = [d for a, d in audit(engine) if a == "release-change-opened"]
    assert opened == [
        {
            "guideline": "2021.01",
            "base": "main",
            "supersede": ["2018.11"],
            "number": 0,
            "url": "dry-run:change:governance/guidelines:release/2021.01",
            "created": True,
            "by": "chair-alice",
            "by_id": "1000001",  # the requester is judged by their account id
        }
    ]
    [(repo, title, body)] = posted(engine, "change")
    assert (repo, title) == ("governance/guidelines", "Approve 2021.01, supersede 2018.11")
    # the same files `govbot release prepare` writes, prepared from main on the request's day
    prepared = release.prepare(read_directory(REPO), "2021.01", ["2018.11"], T0.date())
    for path, data in prepared.files.items():
        assert f"- {path} ({len(data or b'')} bytes)" in body
    [(_, _, answer)] = posted(engine, "comment")
    assert "Release change for 2021.01 opened: dry-run:change:" in answer


@pytest.mark.parametrize(
    ("login", "body", "why"),
    [
        ("member-carol", "/release 2021.01", "may not ask for a release"),
        ("outsider", "/release 2021.01", "only a current chair may"),
        ("chair-alice", "/release", "which guideline?"),
        ("chair-alice", "/release 2021.13", "is not YYYY.MM"),
        ("chair-alice", "/release 2015.01", "releases go forward"),
        ("chair-alice", "/release 2021.01 --supersede 1999.01", "1999.01"),
        ("chair-alice", "/release 2021.01 please", "'please' is not understood"),
        ("chair-alice", "/release 2021.01 --base nowhere", "nowhere"),
    ],
)
def test_a_release_request_is_refused_with_the_reason(
    engine: Any, release_repo: dict[str, Any], login: str, body: str, why: str
) -> None:
    bot = Bot(engine, release_repo["repo"])
    bot.github("issue_comment", request(login, body))
    assert posted(engine, "change") == []
    refused = [d for a, d in audit(engine) if a == "release-request-refused"]
    assert len(refused) == 1 and why in refused[0]["why"]
    [(_, _, answer)] = posted(engine, "comment")
    assert answer.startswith("No release change opened: ") and why in answer


def cli(*argv: str) -> int:
    return govbot_main(["release", *argv])


def test_publish_and_verify_from_the_cli_on_a_local_clone(
    release_repo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    """Dry-run publish changes nothing; verify reads a tag of the local clone."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(release_repo["repo"]), str(clone))
    git(clone, "checkout", "-q", release_repo["head"])
    monkeypatch.setenv("GOVBOT_REPO_PATH", str(clone))
    head = release_repo["head"]
    assert cli("publish", "2021.01", "--commit", head) == 0
    out = capsys.readouterr().out
    assert f"would tag {head} as 2021.01" in out and "tests-platform.txt (" in out
    assert git(clone, "tag") == ""

    assets, _ = release.publication(read_directory(clone), "2021.01")
    message = release.tag_message("2021.01", assets["manifest.json"])
    git(clone, "tag", "-a", "2021.01", "-m", message, head)
    assert cli("verify", "2021.01") == 0
    # a tag whose manifest no longer matches the tagged commit
    tampered = json.loads(assets["manifest.json"])
    tampered["files"]["tests-compute.txt"]["sha256"] = "0" * 64
    wrong = release.tag_message("2021.01", json.dumps(tampered).encode())
    git(clone, "tag", "-f", "-a", "2021.01", "-m", wrong, head)
    capsys.readouterr()
    assert cli("verify", "2021.01") == 1
    assert capsys.readouterr().out == "tests-compute.txt: sha256 differs from the manifest\n"
    # a lightweight tag carries no manifest; no tag at all is an error
    git(clone, "tag", "-f", "2021.01", head)
    assert cli("verify", "2021.01") == 1
    assert "manifest.json: not published" in capsys.readouterr().out
    assert cli("verify", "2099.01") == 2
    assert "no tag 2099.01" in capsys.readouterr().err


def test_publish_refuses_a_forge_without_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name in ("GOVBOT_GITHUB_TOKEN", "GOVBOT_GITHUB_APP_ID", "GOVBOT_GERRIT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert cli("publish", "2021.01", "--commit", "a" * 40, "--forge", "github") == 2
    assert "no github credentials in the environment" in capsys.readouterr().err
