"""A release carries its decision record: an asset in the manifest, in the tag, checked by verify.

Through the bot the record is the one the tallies wrote (each tally appends its
ballots, policy commit and result in the transaction that stores the result);
the merge goes through the receiver and worker, publication through the real
adapters against the fake forges over HTTP, and ``govbot release verify``
reads it back.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.core import decisions as core
from govbot.core import release
from govbot.core.release import DECISIONS, MANIFEST
from govbot.forges.base import Published
from govbot.repo.snapshots import read_directory, read_tag
from govbot.service import releasing
from govbot.store import decisions
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_server import FakeGitHub, github_server
from tests.test_decisions import decision
from tests.test_release_scenario import (
    BASE,
    PROJECT,
    REQUEST,
    T0,
    Bot,
    gerrit_comment,
    gerrit_event,
    github_env,
    merged_event,
    passed_release_pull,
    prepared_files,
    verify,
)
from tests.test_vote_scenario import GERRIT_IDS

GID = "2021.01"
KEY = f"github:{PROJECT}#7"


def record_of_decisions(review_key: str, states: tuple[str, ...] = ("pending", "passed")) -> bytes:
    """A record ending with ``review_key`` passed, with another review's decision in between."""
    number = review_key.rsplit("#", 1)[1]
    entries: list[core.Entry] = []
    for i, (n, state) in enumerate(
        [(number, states[0]), ("99", "pending"), *((number, s) for s in states[1:])]
    ):
        d = decision(int(n), state, minutes=i)
        entries.append(core.next_entry(entries[-1] if entries else None, d))
    return core.export(entries, review_key)


@pytest.fixture(scope="module")
def published() -> dict[str, bytes]:
    """The assets of 2021.01 with its decision record, as a GitHub release holds them."""
    files, _ = release.publication(prepared_files(), GID, record_of_decisions(KEY))
    return files


def expected() -> dict[str, bytes]:
    return release.publication(prepared_files(), GID)[0]


# -- the asset, the manifest and the tag ----------------------------------------------


def test_the_record_is_an_asset_listed_in_the_manifest(published: dict[str, bytes]) -> None:
    record = published[DECISIONS]
    listed = json.loads(published[MANIFEST])["files"][DECISIONS]
    assert listed == {"sha256": hashlib.sha256(record).hexdigest(), "bytes": len(record)}
    assert core.verify_export(record, KEY) == []
    assert release.audit(expected(), published, GID) == []
    # the other assets are those of a release without a record, byte for byte
    assert {n: b for n, b in published.items() if n not in (DECISIONS, MANIFEST)} == {
        n: b for n, b in expected().items() if n != MANIFEST
    }


def test_the_tag_carries_the_manifest_and_the_record(published: dict[str, bytes]) -> None:
    message = release.tag_message(GID, published[MANIFEST], published[DECISIONS])
    assert release.tag_assets(message) == {
        MANIFEST: published[MANIFEST],
        DECISIONS: published[DECISIONS],
    }
    gerrit_like = Published.from_tag(GID, "c" * 40, message).assets
    assert release.audit(expected(), gerrit_like, GID) == []
    older = release.tag_message(GID, expected()[MANIFEST])  # a release from before the record
    assert release.tag_assets(older) == {MANIFEST: expected()[MANIFEST]}
    assert release.audit(expected(), release.tag_assets(older), GID) == []


def test_a_git_tag_keeps_the_record_byte_for_byte(
    published: dict[str, bytes], tmp_path: Path
) -> None:
    """``git tag -a -m`` cleans messages up (trailing spaces, ``#`` lines); the record survives."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [*git, "-C", str(tmp_path), "commit", "-q", "--allow-empty", "-m", "x"], check=True
    )
    message = release.tag_message(GID, published[MANIFEST], published[DECISIONS])
    subprocess.run([*git, "-C", str(tmp_path), "tag", "-a", GID, "-m", message], check=True)
    found = read_tag(tmp_path, GID)
    assert found is not None
    assert release.tag_assets(found[1])[DECISIONS] == published[DECISIONS]


# -- what verify finds ----------------------------------------------------------------


def tampered(record: bytes) -> bytes:
    """The release's last decision turned from passed to failed (same size)."""
    assert record.count(b'"state": "passed"') == 1
    return record.replace(b'"state": "passed"', b'"state": "failed"')


def test_a_record_missing_from_a_release_that_lists_it(published: dict[str, bytes]) -> None:
    github_like = {n: b for n, b in published.items() if n != DECISIONS}
    assert release.audit(expected(), github_like, GID) == ["decisions.json: missing"]
    gerrit_like = {MANIFEST: published[MANIFEST]}  # the tag lost its record
    assert release.audit(expected(), gerrit_like, GID) == ["decisions.json: missing"]


def test_a_record_whose_sha_differs_from_the_manifest(published: dict[str, bytes]) -> None:
    altered = {**published, DECISIONS: tampered(published[DECISIONS])}
    problems = release.audit(expected(), altered, GID)
    assert problems[0] == "decisions.json: sha256 differs from the manifest"
    assert problems[1].startswith("decisions.json: entry 3: the hash does not match its contents")
    assert problems[2] == f"decisions.json: the last decision on {KEY} is 'failed', not 'passed'"
    assert len(problems) == 3


def test_a_record_rewritten_with_its_manifest_is_caught_by_its_chain(
    published: dict[str, bytes],
) -> None:
    """Someone who may edit release assets replaces both: the hash chain still tells."""
    record = tampered(published[DECISIONS])
    files = {n: b for n, b in published.items() if n != MANIFEST} | {DECISIONS: record}
    rewritten = {**files, MANIFEST: release.manifest(files, GID)}
    assert release.audit(expected(), rewritten, GID) == [
        "decisions.json: entry 3: the hash does not match its contents: its record or its "
        "hash was altered",
        f"decisions.json: the last decision on {KEY} is 'failed', not 'passed'",
    ]


def test_a_record_not_in_the_manifest_is_named(published: dict[str, bytes]) -> None:
    sneaked = {**expected(), DECISIONS: published[DECISIONS]}
    assert release.audit(expected(), sneaked, GID) == ["decisions.json: not in the manifest"]


def test_a_record_of_a_vote_that_did_not_pass(published: dict[str, bytes]) -> None:
    files, _ = release.publication(prepared_files(), GID, record_of_decisions(KEY, ("pending",)))
    assert release.audit(expected(), files, GID) == [
        f"decisions.json: the record ends with a decision on another review (elided), not on {KEY}"
    ]


def test_cli_verify_of_a_downloaded_copy(
    published: dict[str, bytes], tmp_path: Path, capsys: Any
) -> None:
    repo, out = tmp_path / "repo", tmp_path / "assets"
    for root, files in ((repo, prepared_files()), (out, published)):
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)

    def run() -> int:
        capsys.readouterr()
        return cli.main(["release", "verify", GID, "--assets", str(out), "--repo", str(repo)])

    assert run() == 0
    (out / DECISIONS).write_bytes(tampered(published[DECISIONS]))
    assert run() == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "decisions.json: sha256 differs from the manifest"
    assert any("entry 3: the hash does not match its contents" in line for line in printed)
    (out / DECISIONS).unlink()
    assert run() == 1
    assert capsys.readouterr().out == "decisions.json: missing\n"


# -- through the bot, on each forge ---------------------------------------------------


@pytest.fixture
def gerrit() -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.add_commit(PROJECT, BASE, read_directory(REPO), branch="main")
        fake.add_change(PROJECT, 5, "d" * 40, {}, branch="main")
        fake.heads[PROJECT] = "main"
        fake.accounts.update(GERRIT_IDS)
        yield fake


def test_on_gerrit_the_tag_carries_the_record_and_verify_checks_it(
    engine: Any, gerrit: FakeGerrit, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    bot = Bot(engine, REPO, forge=gerrit.forge())
    bot.gerrit(gerrit_comment("chair-alice", 5, "d" * 40, T0, REQUEST))
    [(number, change)] = [
        (int(n), c) for (p, n), c in gerrit.changes.items() if c.get("topic") == "release/2021.01"
    ]
    head, key = change["current"], f"gerrit:{PROJECT}#{number}"
    bot.gerrit(gerrit_event("patchset-created", number, head, T0))
    with engine.begin() as conn:  # another change of the project decided meanwhile
        decisions.append(conn, decision(99, repo=PROJECT, forge="gerrit", minutes=1))
    for i, user in enumerate(["member-carol", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=i + 1)
        bot.gerrit(gerrit_comment(user, number, head, bot.now, "", vote=1))
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(key) == "passed"

    merged = gerrit.merge(PROJECT, number)
    bot.gerrit({**gerrit_event("change-merged", number, head, bot.now), "newRev": merged})
    message = gerrit.tags[PROJECT, GID]["message"]
    record = release.decisions_in(message)
    assert record is not None and core.verify_export(record, key) == []
    entries = json.loads(record)["entries"]
    assert entries[-1]["record"]["state"] == "passed"
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert ["record" in e for e in entries].count(False) == 1  # #99's entry, elided
    assert "#99" not in record.decode()
    env = {
        "GOVBOT_GERRIT_URL": gerrit.url,
        "GOVBOT_GERRIT_USER": gerrit.user,
        "GOVBOT_GERRIT_HTTP_PASSWORD": gerrit.password,
        "GOVBOT_GERRIT_GITILES_URL": f"{gerrit.url}/plugins/gitiles",
    }
    assert verify(monkeypatch, "gerrit", env) == 0

    gerrit.tags[PROJECT, GID]["message"] = message.replace(
        '"value": 1', '"value": 2', 1
    )  # a ballot edited in the tag (the fake lets a tag be rewritten; Gerrit does not)
    capsys.readouterr()
    assert verify(monkeypatch, "gerrit", env) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "decisions.json: sha256 differs from the manifest"
    assert "the hash does not match its contents: its record was altered" in printed[1]


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        repo = server.add_repo(PROJECT)
        repo.commit(BASE, read_directory(REPO), branch="main")
        yield server


def test_on_github_the_release_has_the_record_and_verify_checks_it(
    engine: Any, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = passed_release_pull(bot, gh)
    key = f"github:{PROJECT}#{pull['number']}"
    bot.github("pull_request", merged_event(gh, pull, bot.now))
    [main] = [r for r in gh.repos[PROJECT].releases if r["tag_name"] == GID]
    record = main["assets"][DECISIONS]
    assert core.verify_export(record, key) == []
    manifest = json.loads(main["assets"][MANIFEST])
    assert manifest["files"][DECISIONS]["bytes"] == len(record)
    tag = gh.repos[PROJECT].tag_objects[gh.repos[PROJECT].refs[f"refs/tags/{GID}"]]
    assert release.decisions_in(tag["message"]) == record  # the tag carries it too
    assert verify(monkeypatch, "github", github_env(gh)) == 0

    main["assets"][DECISIONS] = tampered(record)
    capsys.readouterr()
    assert verify(monkeypatch, "github", github_env(gh)) == 1
    assert capsys.readouterr().out.startswith("decisions.json: sha256 differs from the manifest\n")
    del main["assets"][DECISIONS]
    assert verify(monkeypatch, "github", github_env(gh)) == 1
    assert capsys.readouterr().out == "decisions.json: missing\n"


def test_through_the_bot_every_release_carries_the_votes_record(
    engine: Any, gh: FakeGitHub
) -> None:
    """The tallies wrote the record, so the bot's release always has it."""
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = passed_release_pull(bot, gh)
    bot.github("pull_request", merged_event(gh, pull, bot.now))
    [main] = [r for r in gh.repos[PROJECT].releases if r["tag_name"] == GID]
    key = f"github:{PROJECT}#{pull['number']}"
    assert core.verify_export(main["assets"][DECISIONS], key) == []


def test_without_a_record_a_release_is_published_as_before(gh: FakeGitHub) -> None:
    """``govbot release publish`` of an old release, which has no record: as before."""
    files = read_directory(REPO)
    releasing.publish(gh.forge(), PROJECT, "2020.06", BASE, files)
    [main] = [r for r in gh.repos[PROJECT].releases if r["tag_name"] == "2020.06"]
    assert DECISIONS not in main["assets"]
    tag = gh.repos[PROJECT].tag_objects[gh.repos[PROJECT].refs["refs/tags/2020.06"]]
    assert release.TAG_DECISIONS_INTRO not in tag["message"]
