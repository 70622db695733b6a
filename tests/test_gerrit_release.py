"""GerritForge.open_change and .published over real HTTP against the fake Gerrit."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from govbot.core import release
from govbot.core.events import ReviewRef
from govbot.forges.base import ForgeError, ProposedChange, Published
from govbot.forges.gerrit import GerritForge, with_change_id
from govbot.forges.gerrit_rest import parse_json
from tests.fakes.gerrit_server import FakeGerrit, Sleeps, running

PROJECT = "openstack/interop"
BASE = "1" * 40
TOPIC = "govbot/release-2025.06"
CHANGE = "/a/changes/openstack%2Finterop~1"
BEFORE = {
    "guidelines/2025.06.yaml": b"id: 2025.06\nstatus: draft\n",
    "guidelines/2019.11.yaml": b"id: 2019.11\n",
    "next.json": b'{"a": 1}',
    "policies/interop.yaml": b"rules: []\n",
}
PROPOSAL = ProposedChange(
    repo=PROJECT,
    base="master",
    branch=TOPIC,
    message="Release guideline 2025.06\n\nApproved by the board on 2025-06-01.\n",
    files={
        "guidelines/2025.06.yaml": b"id: 2025.06\nstatus: approved\n",  # changed
        "2025.06.json": b'{"id": "2025.06"}\n',  # added
        "guidelines/2019.11.yaml": None,  # removed
    },
)
AFTER = {
    "guidelines/2025.06.yaml": b"id: 2025.06\nstatus: approved\n",
    "2025.06.json": b'{"id": "2025.06"}\n',
    "next.json": b'{"a": 1}',  # untouched
    "policies/interop.yaml": b"rules: []\n",
}


@pytest.fixture
def gerrit() -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.add_commit(PROJECT, BASE, BEFORE, branch="master")
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def forge(gerrit: FakeGerrit, sleeps: Sleeps) -> Iterator[GerritForge]:
    forge = gerrit.forge(sleeps)
    yield forge
    forge.rest.close()


def creates(gerrit: FakeGerrit) -> list[dict[str, str]]:
    return [r.body for r in gerrit.calls("POST") if r.path == "/a/changes/"]


def edits(gerrit: FakeGerrit) -> list[str]:
    return [f"{r.method} {r.path}" for r in gerrit.requests if "/edit" in r.path]


def current_files(gerrit: FakeGerrit, forge: GerritForge, number: int = 1) -> dict[str, bytes]:
    return forge.read_files(PROJECT, gerrit.change(PROJECT, number)["current"])


# -- open_change -----------------------------------------------------------


def test_open_change_creates_one_change_with_the_files_and_message(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    opened = forge.open_change(PROPOSAL)

    assert (opened.number, opened.created) == (1, True)
    assert opened.url == f"{gerrit.url}/c/{PROJECT}/+/1"
    assert creates(gerrit) == [
        {
            "project": PROJECT,
            "branch": "master",
            "subject": "Release guideline 2025.06",
            "topic": TOPIC,
        }
    ]
    change = gerrit.change(PROJECT, 1)
    assert (change["topic"], change["status"], change["branch"]) == (TOPIC, "NEW", "master")
    assert len(change["patch_sets"]) == 2  # Gerrit's empty commit, then the published edit
    assert current_files(gerrit, forge) == AFTER
    assert forge.read_files(PROJECT, "master") == BEFORE  # only proposed, not merged
    assert forge.changed_files(ReviewRef("gerrit", PROJECT, "1")) == sorted(PROPOSAL.files)
    assert change["messages"][change["current"]] == (
        "Release guideline 2025.06\n\nApproved by the board on 2025-06-01.\n\n"
        f"Change-Id: {change['change_id']}\n"
    )
    assert change["change_id"].startswith("I") and len(change["change_id"]) == 41

    [put] = [r for r in gerrit.calls("PUT", "/edit/") if "2025.06.yaml" in r.path]
    assert put.path == f"{CHANGE}/edit/guidelines%2F2025.06.yaml"  # the path is one segment
    assert put.body == b"id: 2025.06\nstatus: approved\n"  # raw bytes, not JSON
    assert f"DELETE {CHANGE}/edit/guidelines%2F2019.11.yaml" in edits(gerrit)
    assert edits(gerrit)[-2:] == [f"PUT {CHANGE}/edit:message", f"POST {CHANGE}/edit:publish"]
    rest = [r for r in gerrit.requests if not r.path.startswith("/plugins/gitiles/")]
    assert all(r.authorized and r.path.startswith("/a/") for r in rest)


def test_opening_again_finds_the_open_change(gerrit: FakeGerrit, forge: GerritForge) -> None:
    first = forge.open_change(PROPOSAL)
    before = len(edits(gerrit))

    again = forge.open_change(PROPOSAL)

    assert (again.number, again.url, again.created) == (first.number, first.url, False)
    assert len(creates(gerrit)) == 1
    assert len(edits(gerrit)) == before  # nothing redone
    assert len(gerrit.change(PROJECT, 1)["patch_sets"]) == 2
    [query, *_] = [r for r in gerrit.calls("GET") if r.path == "/a/changes/"]
    assert parse_qs(query.query)["q"] == [
        f'project:"{PROJECT}" branch:"master" topic:"{TOPIC}" status:open'
    ]


def test_a_merged_change_or_another_topic_is_not_reused(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    forge.open_change(PROPOSAL)
    merged = gerrit.merge(PROJECT, 1)
    assert forge.read_files(PROJECT, "master") == AFTER
    assert gerrit.branches[PROJECT, "master"] == merged

    other = ProposedChange(PROJECT, "master", "govbot/release-2026.01", "Release 2026.01", {})
    assert forge.open_change(other).number == 2
    assert forge.open_change(PROPOSAL).number == 3  # the merged one is closed
    assert gerrit.change(PROJECT, 1)["status"] == "MERGED"


def test_crash_after_create_is_completed_by_the_next_call(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    # The first attempt died after POST /changes/ and one stray edit, before publishing.
    forge.rest.create_change(PROJECT, "master", PROPOSAL.title, TOPIC)
    forge.rest.edit_file(f"{PROJECT.replace('/', '%2F')}~1", "guidelines/stale.yaml", b"x: 1\n")
    assert len(gerrit.change(PROJECT, 1)["patch_sets"]) == 1
    resp = forge.rest.call("GET", f"{gerrit.url}{CHANGE}/edit:message")
    assert resp is not None
    change_id = gerrit.change(PROJECT, 1)["change_id"]
    message = base64.b64decode(parse_json(resp.text)).decode()
    assert message == f"{PROPOSAL.title}\n\nChange-Id: {change_id}\n"  # as Gerrit made it

    opened = forge.open_change(PROPOSAL)

    assert (opened.number, opened.created) == (1, True)  # this call made it whole
    assert len(creates(gerrit)) == 1
    assert current_files(gerrit, forge) == AFTER  # the stray edit did not survive
    assert forge.open_change(PROPOSAL).created is False


def test_lost_create_answer_does_not_make_a_second_change(
    gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps
) -> None:
    gerrit.fail_next(1, 502, path="/a/changes/", method="POST", lose=True)

    opened = forge.open_change(PROPOSAL)

    assert (opened.number, opened.created) == (1, True)
    assert len(creates(gerrit)) == 1  # looked for it by topic instead of posting again
    assert list(gerrit.changes) == [(PROJECT, "1")]
    assert sleeps == [0.5]  # a short wait: a longer one is the worker's to schedule
    assert current_files(gerrit, forge) == AFTER


def test_lost_publish_answer_means_published(
    gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps
) -> None:
    gerrit.fail_next(1, 503, path="edit:publish", lose=True)

    opened = forge.open_change(PROPOSAL)

    assert opened.created
    assert len(gerrit.calls("POST", "edit:publish")) == 2  # the retry answered "no edit"
    assert len(gerrit.change(PROJECT, 1)["patch_sets"]) == 2
    assert current_files(gerrit, forge) == AFTER


def test_transient_503_on_an_edit_is_retried(
    gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps
) -> None:
    gerrit.fail_next(2, 503, path="/edit/", method="PUT")

    assert forge.open_change(PROPOSAL).created

    assert sleeps == [0.5, 1.0]
    assert current_files(gerrit, forge) == AFTER


def test_lost_edit_answer_is_redone_without_a_conflict(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    gerrit.fail_next(1, 500, path="/edit/", method="PUT", lose=True)
    gerrit.fail_next(1, 500, path="edit:message", method="PUT", lose=True)

    assert forge.open_change(PROPOSAL).created  # the redos answered 409 "no changes"

    assert current_files(gerrit, forge) == AFTER
    assert len(gerrit.calls("PUT", f"{CHANGE}/edit/2025.06.json")) == 2
    assert len(gerrit.calls("PUT", f"{CHANGE}/edit:message")) == 2


def test_a_change_amended_by_reviewers_is_left_alone(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    forge.open_change(PROPOSAL)
    amended = "9" * 40
    gerrit.add_commit(PROJECT, amended, {**AFTER, "2025.06.json": b'{"id": "2025.06", "x": 1}'})
    gerrit.add_change(PROJECT, 1, amended, {"2025.06.json": {}})  # patch set 3, by a human
    before = len(edits(gerrit))

    opened = forge.open_change(PROPOSAL)

    assert (opened.number, opened.created) == (1, False)
    assert len(edits(gerrit)) == before
    assert gerrit.change(PROJECT, 1)["current"] == amended


def test_a_topic_with_a_quote_cannot_be_searched(forge: GerritForge) -> None:
    proposal = ProposedChange(PROJECT, "master", 'say "hi"', "Release", {})
    with pytest.raises(ForgeError, match="cannot search") as e:
        forge.open_change(proposal)
    assert e.value.permanent


def test_unknown_branch_is_permanent(gerrit: FakeGerrit, forge: GerritForge) -> None:
    proposal = ProposedChange(PROJECT, "stable/nope", TOPIC, "Release", {"next.json": b"{}"})
    with pytest.raises(ForgeError, match="does not exist") as e:
        forge.open_change(proposal)
    assert e.value.permanent
    assert not gerrit.changes


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Title", "Title\n\nChange-Id: {id}\n"),
        ("Title\n\nBody.\n\n", "Title\n\nBody.\n\nChange-Id: {id}\n"),
        (
            "Title\n\nBody.\n\nSigned-off-by: A <a@x>",
            "Title\n\nBody.\n\nSigned-off-by: A <a@x>\nChange-Id: {id}\n",
        ),
        ("Title\n\nChange-Id: Iold", "Title\n\nChange-Id: {id}\n"),
        ("Approve: 2025.06", "Approve: 2025.06\n\nChange-Id: {id}\n"),  # a title, not a footer
    ],
)
def test_with_change_id_keeps_the_footer_last(message: str, expected: str) -> None:
    change_id = "I" + "a" * 40
    assert with_change_id(message, change_id) == expected.format(id=change_id)


# -- published -------------------------------------------------------------


def test_published_returns_the_tagged_commit_and_the_manifest(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    manifest = release.manifest({"2025.06.json": b"{}", "NOTES.md": b"# 2025.06\n"}, "2025.06")
    forge.create_tag(PROJECT, "2025.06", BASE, release.tag_message("2025.06", manifest))
    tag = gerrit.tags[PROJECT, "2025.06"]
    assert tag["object"] == BASE and tag["revision"] != BASE and "tagger" in tag

    published = forge.published(PROJECT, "2025.06")

    assert (published.tag, published.sha) == ("2025.06", BASE)
    assert list(published.assets) == ["manifest.json"]
    assert json.loads(published.assets["manifest.json"]) == json.loads(manifest)
    assert published.assets["manifest.json"] == manifest


def test_a_lightweight_or_foreign_tag_has_no_assets(gerrit: FakeGerrit, forge: GerritForge) -> None:
    gerrit.add_tag(PROJECT, "2024.01", BASE)
    gerrit.add_tag(PROJECT, "v1", BASE, "Release v1, tagged by hand")
    assert forge.published(PROJECT, "2024.01") == Published("2024.01", BASE, {})
    assert forge.published(PROJECT, "v1") == Published("v1", BASE, {})


def test_no_tag_is_permanent(forge: GerritForge) -> None:
    with pytest.raises(ForgeError, match=r"no tag 2099\.01") as e:
        forge.published(PROJECT, "2099.01")
    assert e.value.permanent
