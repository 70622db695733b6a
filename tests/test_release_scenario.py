"""A release from the chair's request to the published release, on each forge.

Everything goes through the real receiver, worker and clock, and the real
adapters (PyGithub, the Gerrit REST client) over HTTP to the local fake
forges: ``/release 2021.01`` opens the release change, the committee votes
on it, the clock passes the minimum review time, the change merges and its
merge event arrives three times; the forge ends with one tag and one release
per guideline, whose assets ``govbot release verify`` finds true to the tag.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.core import decisions, release
from govbot.repo.snapshots import read_directory
from tests import processes
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_schema import minimal_payload
from tests.fakes.github_server import TOKEN, FakeGitHub, github_server
from tests.test_vote_scenario import GERRIT_IDS, SECRET, T0, Bot, github_user, iso
from webhooks.signatures import sign_github

PROJECT = "governance/guidelines"
BASE = "b" * 40
RELEASED = ["2021.01", "dns.2021.01", "orchestration.2021.01"]
REQUEST = "Ready for the Board.\n/release 2021.01 --supersede 2018.11"


def prepared_files() -> dict[str, bytes]:
    """What main holds once the release change merged: the scenario's expected tree."""
    files = read_directory(REPO)
    prepared = release.prepare(files, "2021.01", ["2018.11"], date(2026, 3, 2))
    return release.apply(files, prepared.files)


def verify(monkeypatch: pytest.MonkeyPatch, forge: str, env: dict[str, str]) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cli.main(["release", "verify", "2021.01", "--forge", forge, "--project", PROJECT])


# -- Gerrit ----------------------------------------------------------------------------------


@pytest.fixture
def gerrit() -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.add_commit(PROJECT, BASE, read_directory(REPO), branch="main")
        fake.add_change(PROJECT, 5, "d" * 40, {}, branch="main")  # where the chair asks
        fake.heads[PROJECT] = "main"
        fake.accounts.update(GERRIT_IDS)
        yield fake


def gerrit_event(kind: str, number: int, revision: str, at: Any, **extra: Any) -> dict[str, Any]:
    account = {"name": "Contributor", "email": "c@example.org", "username": "contributor"}
    return {
        "type": kind,
        "change": {"project": PROJECT, "branch": "main", "id": "I" + "a" * 40, "number": number,
                   "subject": "Approve 2021.01, supersede 2018.11", "owner": account,
                   "url": f"https://review.example.org/{number}", "status": "NEW"},
        "patchSet": {"number": 1, "revision": revision, "parents": [BASE],
                     "ref": f"refs/changes/{number:02d}/{number}/1", "uploader": account,
                     "createdOn": int(at.timestamp())},
        "eventCreatedOn": int(at.timestamp()),
        **extra,
    }  # fmt: skip


def gerrit_comment(
    user: str, number: int, revision: str, at: Any, text: str, vote: int | None = None
) -> dict[str, Any]:
    author = {"name": user, "email": f"{user}@example.org", "username": user}
    extra: dict[str, Any] = {"author": author, "comment": f"Patch Set 1:\n\n{text}"}
    if vote is not None:
        extra["approvals"] = [
            {
                "type": "Code-Review",
                "description": "Code-Review",
                "value": str(vote),
                "oldValue": "0",
            }
        ]
    return gerrit_event("comment-added", number, revision, at, **extra)


def test_a_release_on_gerrit_from_request_to_tag(
    engine: Any, gerrit: FakeGerrit, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(engine, REPO, forge=gerrit.forge())
    bot.gerrit(gerrit_comment("chair-alice", 5, "d" * 40, T0, REQUEST))
    [(number, change)] = [
        (int(n), c) for (p, n), c in gerrit.changes.items() if c.get("topic") == "release/2021.01"
    ]
    head = change["current"]
    # every governed file, products/ (nested per vendor) included, through gitiles
    assert gerrit.forge().read_files(PROJECT, head) == prepared_files()
    again = T0 + timedelta(minutes=1)
    bot.gerrit(gerrit_comment("chair-bob", 5, "d" * 40, again, REQUEST))  # asked twice: one change
    assert [r.path for r in gerrit.calls("POST") if r.path == "/a/changes/"] == ["/a/changes/"]

    bot.gerrit(gerrit_event("patchset-created", number, head, T0))
    assert "Vote class **release**" in bot.vote_report(f"gerrit:{PROJECT}#{number}")
    for i, user in enumerate(["member-carol", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=i + 1)
        bot.gerrit(gerrit_comment(user, number, head, bot.now, "", vote=1))
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(f"gerrit:{PROJECT}#{number}") == "passed"

    merged = gerrit.merge(PROJECT, number)
    for i in range(3):  # delivered again: a reconnected stream, a webhook retry
        at = bot.now + timedelta(seconds=i)
        bot.gerrit({**gerrit_event("change-merged", number, head, at), "newRev": merged})
    tags = {tag: info for (p, tag), info in gerrit.tags.items() if p == PROJECT}
    assert sorted(tags) == RELEASED
    assert {info["object"] for info in tags.values()} == {merged}
    assert len(gerrit.calls("PUT", "/tags/")) == len(RELEASED)  # each made once
    manifest = release.manifest_in(tags["2021.01"]["message"])
    assert manifest is not None and "tests-platform.txt" in json.loads(manifest)["files"]

    env = {
        "GOVBOT_GERRIT_URL": gerrit.url,
        "GOVBOT_GERRIT_USER": gerrit.user,
        "GOVBOT_GERRIT_HTTP_PASSWORD": gerrit.password,
        "GOVBOT_GERRIT_GITILES_URL": f"{gerrit.url}/plugins/gitiles",
    }
    assert verify(monkeypatch, "gerrit", env) == 0


# -- GitHub ----------------------------------------------------------------------------------


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        repo = server.add_repo(PROJECT)
        repo.commit(BASE, read_directory(REPO), branch="main")
        yield server


def pull_event(action: str, pull: dict[str, Any], at: Any, **extra: Any) -> dict[str, Any]:
    fields = {"number": pull["number"], "title": pull["title"], "updated_at": iso(at),
              "user": {"login": "govbot[bot]", "id": 9000}, "base": {"ref": "main", "sha": pull["base"]},
              "head": {"ref": pull["head_ref"], "sha": pull["head"]}, **extra}  # fmt: skip
    return minimal_payload("pull_request", action, {
        "number": pull["number"], "pull_request": fields, "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def review(login: str, pull: dict[str, Any], at: Any) -> dict[str, Any]:
    return minimal_payload("pull_request_review", "submitted", {
        "review": {"id": int(at.timestamp()), "state": "approved", "user": github_user(login), "commit_id": pull["head"], "submitted_at": iso(at)},
        "sender": github_user(login),
        "pull_request": {"number": pull["number"]},
        "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def request_on_issue(login: str, at: Any) -> dict[str, Any]:
    return minimal_payload("issue_comment", "created", {
        "comment": {"id": int(at.timestamp()), "body": REQUEST, "user": github_user(login), "created_at": iso(at), "updated_at": iso(at)},
        "sender": github_user(login),
        "issue": {"number": 3},
        "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def passed_release_pull(bot: Bot, gh: FakeGitHub) -> dict[str, Any]:
    """The chair asks (twice), the committee approves the pull request, the clock passes."""
    repo = gh.repos[PROJECT]
    bot.github("issue_comment", request_on_issue("chair-alice", T0))
    bot.github("issue_comment", request_on_issue("chair-bob", T0 + timedelta(minutes=1)))
    [pull] = repo.pulls.values()  # asked twice: one pull request
    assert (pull["head_ref"], pull["title"]) == (
        "release/2021.01",
        "Approve 2021.01, supersede 2018.11",
    )
    assert repo.files("release/2021.01") == {**repo.files("main"), **prepared_files()}
    assert f"pull/{pull['number']}" in repo.comments[3][0]["body"]

    bot.github("pull_request", pull_event("opened", pull, T0))
    key = f"github:{PROJECT}#{pull['number']}"
    assert "Vote class **release**" in bot.vote_report(key)
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=i + 2)
        bot.github("pull_request_review", review(login, pull, bot.now))
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(key) == "passed"
    return pull


def merged_event(gh: FakeGitHub, pull: dict[str, Any], at: Any) -> dict[str, Any]:
    sha = (
        gh.repos[PROJECT].merge_pull(pull["number"])
        if not pull["merged"]
        else pull["merge_commit_sha"]
    )
    return pull_event("closed", pull, at, merged=True, merge_commit_sha=sha, closed_at=iso(at))


def assert_published_once(gh: FakeGitHub, merge_sha: str) -> None:
    repo = gh.repos[PROJECT]
    tags = sorted(
        ref.removeprefix("refs/tags/") for ref in repo.refs if ref.startswith("refs/tags/")
    )
    assert tags == RELEASED
    objects = [repo.tag_objects[repo.refs[f"refs/tags/{t}"]] for t in tags]  # all annotated
    assert {o["object"] for o in objects} == {merge_sha}
    assert all(release.manifest_in(o["message"]) for o in objects)
    assert sorted(r["tag_name"] for r in repo.releases) == RELEASED  # one release per tag
    [main] = [r for r in repo.releases if r["tag_name"] == "2021.01"]
    assets, _ = release.publication(prepared_files(), "2021.01")
    record = main["assets"].get("decisions.json")  # the votes' record, built by the tallies
    assert record is not None and decisions.verify_export(record, record_key(record)) == []
    rebuilt = {name: len(data) for name, data in main["assets"].items() if name != "decisions.json"}
    assert rebuilt == {
        name: len(data) for name, data in assets.items() if name != "manifest.json"
    } | {"manifest.json": len(main["assets"]["manifest.json"])}
    assert max(len(data) for data in main["assets"].values()) > 100_000  # the real sizes


def github_env(gh: FakeGitHub) -> dict[str, str]:
    return {
        "GOVBOT_GITHUB_TOKEN": TOKEN,
        "GOVBOT_GITHUB_API_URL": gh.url,
        "GOVBOT_GITHUB_THROTTLE": "off",
    }


def test_a_release_on_github_from_request_to_release(
    engine: Any, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = passed_release_pull(bot, gh)
    for i in range(3):  # GitHub redelivers: a new delivery id each time
        bot.github("pull_request", merged_event(gh, pull, bot.now + timedelta(seconds=i)))
    assert_published_once(gh, pull["merge_commit_sha"])
    assert verify(monkeypatch, "github", github_env(gh)) == 0

    # an asset changed after publication is found out
    [main] = [r for r in gh.repos[PROJECT].releases if r["tag_name"] == "2021.01"]
    main["assets"]["tests-platform.txt"] += b"tempest.api.extra\n"
    assert verify(monkeypatch, "github", github_env(gh)) == 1


def test_a_worker_killed_between_tag_and_release_publishes_once(
    engine: Any, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL once the first tag exists but before its release; another worker completes it."""
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = passed_release_pull(bot, gh)
    body = json.dumps(merged_event(gh, pull, bot.now)).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "merge-1",
        "X-Hub-Signature-256": sign_github(SECRET.encode(), body),
    }
    assert bot.client.post("/webhooks/github", content=body, headers=headers).status_code == 202
    env = processes.worker_env(engine, gh.url, TOKEN, tmp_path)

    gh.delays[("POST", "/git/refs")] = 60  # the tag is made, the answer never comes
    repo = gh.repos[PROJECT]
    processes.kill_worker_when(
        env, lambda: any(r.startswith("refs/tags/") for r in repo.refs), "made a tag"
    )
    assert repo.releases == []
    gh.delays.clear()
    processes.drain(env)
    for i in range(2):  # and the merge is delivered twice more
        bot.github("pull_request", merged_event(gh, pull, bot.now + timedelta(seconds=i + 1)))
    assert_published_once(gh, pull["merge_commit_sha"])
    assert verify(monkeypatch, "github", github_env(gh)) == 0


def record_key(record: bytes) -> str:
    return str(json.loads(record)["review"])
