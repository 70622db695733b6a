"""GitHub webhook payloads -> govbot events.

Two sources of payloads, neither written by govbot's authors alone: GitHub's
documented examples (../shared/github/webhook-examples.json), and payloads
built here on top of the smallest instance of GitHub's published schema, each
validated against that schema, so a test can never feed in a shape GitHub
would not send.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from govbot.core.events import (
    Actor,
    ChangeAbandoned,
    ChangeMerged,
    ChangeProposed,
    ChangeUpdated,
    CommentCommand,
    LabelsEdited,
    ReviewRef,
    TagPushed,
    VoteCast,
    VoteWithdrawn,
)
from govbot.forges.github_events import PayloadError, normalise
from tests.fakes.github_schema import SCHEMA_PATH, minimal_payload

EXAMPLES_PATH = Path(__file__).resolve().parents[2] / "shared" / "github" / "webhook-examples.json"
HELLO = ReviewRef("github", "Codertocat/Hello-World", "2")
GOV = ReviewRef("github", "org/gov", "7")
BASE_SHA, HEAD_SHA = "b" * 40, "c" * 40
AT = "2024-06-01T09:30:00Z"
WHEN = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)


@cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    return data


def examples(event: str, action: str | None = None) -> list[dict[str, Any]]:
    if not EXAMPLES_PATH.is_file():
        pytest.skip(f"GitHub's webhook examples are not at {EXAMPLES_PATH}")
    return [
        copy.deepcopy(p) for p in _examples()[event] if action is None or p.get("action") == action
    ]


def all_examples() -> list[tuple[str, int]]:
    if not EXAMPLES_PATH.is_file():
        return []
    return [(event, i) for event, payloads in _examples().items() for i in range(len(payloads))]


def payload(event: str, action: str | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid payload for org/gov with ``overrides`` laid over it."""
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"GitHub's webhook schema is not at {SCHEMA_PATH}")
    repository = {"full_name": "org/gov", "default_branch": "main"}
    return minimal_payload(event, action, {"repository": repository, **overrides})


def pr(action: str, **pull: Any) -> dict[str, Any]:
    fields = {
        "number": 7,
        "title": "Add 2024.06",
        "html_url": "https://github.com/org/gov/pull/7",
        "user": {"login": "alice"},
        "base": {"ref": "main", "sha": BASE_SHA},
        "head": {"ref": "topic", "sha": HEAD_SHA},
        **pull,
    }
    return payload("pull_request", action, {"number": 7, "pull_request": fields})


BOB, CAROL = Actor("bob", "202"), Actor("carol", "303")


def user(actor: Actor) -> dict[str, Any]:
    return {"login": actor.login, "id": int(actor.id)}


def review(action: str, state: str, sender: Actor = BOB) -> dict[str, Any]:
    fields = {
        "id": 55,
        "state": state,
        "user": user(BOB),
        "submitted_at": AT,
        "commit_id": HEAD_SHA,
    }
    return payload(
        "pull_request_review",
        action,
        {"pull_request": {"number": 7}, "review": fields, "sender": user(sender)},
    )


def comment(action: str, body: str, on_pr: bool = True, **extra: Any) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 7}
    if on_pr:
        url = "https://api.github.com/repos/org/gov/pulls/7"
        issue["pull_request"] = {"url": url, "html_url": url, "diff_url": url, "patch_url": url}
    fields = {"id": 321, "body": body, "user": user(CAROL), "updated_at": AT}
    extra.setdefault("sender", user(CAROL))
    return payload("issue_comment", action, {"issue": issue, "comment": fields, **extra})


def push(ref: str, created: bool = True, head_commit: str | None = HEAD_SHA) -> dict[str, Any]:
    head = {"id": head_commit} if head_commit else None
    return payload(
        "push", None, {"ref": ref, "created": created, "after": "a" * 40, "head_commit": head}
    )


# -- GitHub's own examples ------------------------------------------------------------------


@pytest.mark.parametrize(("event", "index"), all_examples())
def test_no_documented_example_makes_normalise_raise(event: str, index: int) -> None:
    result = normalise(event, copy.deepcopy(_examples()[event][index]))
    assert result is None or isinstance(result, list)


def test_examples_map_to_events() -> None:
    opened = examples("pull_request", "opened")[0]
    assert normalise("pull_request", opened) == [
        ChangeProposed(
            HELLO,
            base_ref="master",
            base_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            head_sha="ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            author="Codertocat",
            title="Update the README with new information.",
            url="https://github.com/Codertocat/Hello-World/pull/2",
            at=datetime(2019, 5, 15, 15, 20, 33, tzinfo=UTC),
            governed_branch="master",
        )
    ]
    [updated] = normalise("pull_request", examples("pull_request", "synchronize")[0]) or []
    assert isinstance(updated, ChangeUpdated) and updated.head_sha.startswith("ec26c3e")
    for p in examples("pull_request", "ready_for_review") + examples("pull_request", "reopened"):
        assert [type(e) for e in normalise("pull_request", p) or []] == [ChangeProposed]
    for p in examples("pull_request", "closed"):  # both closed without merging
        [abandoned] = normalise("pull_request", p) or []
        assert isinstance(abandoned, ChangeAbandoned) and abandoned.review == HELLO
        assert abandoned.at is not None
    assert normalise("pull_request", examples("pull_request", "labeled")[0]) is None
    assert normalise("pull_request_review", examples("pull_request_review", "submitted")[0]) == []
    assert normalise("pull_request_review", examples("pull_request_review", "dismissed")[0]) == [
        VoteWithdrawn(
            HELLO,
            voter=Actor("Codertocat", "21031067"),
            source="review",
            by=Actor("Codertocat", "21031067"),
            source_id="237895671",
        )
    ]
    for p in examples("issue_comment"):  # all on plain issues
        assert normalise("issue_comment", p) is None
    for p in examples("push"):  # branch pushes and tag deletions
        assert normalise("push", p) is None
    assert normalise("ping", examples("ping")[0]) == []
    assert normalise("check_run", examples("check_run")[0]) is None


def test_missing_fields_in_examples_raise_payload_error_only() -> None:
    """Drop or mangle each field govbot might read: the result is events, None, or PayloadError."""
    for event in ("pull_request", "pull_request_review", "issue_comment", "push"):
        for example in examples(event):
            _mangle_everything(event, example)


def _mangle_everything(event: str, example: dict[str, Any]) -> int:
    tried = 0
    for path in _paths(example, depth=3):
        values: tuple[Any, ...] = (None, "x", [], {}, 3, True)
        for value in values:
            kept = _set(example, path, value)
            tried += 1
            try:
                result = normalise(event, example)
                assert result is None or isinstance(result, list)
            except PayloadError:
                pass
            finally:
                _set(example, path, kept)
    return tried


# -- payloads built on GitHub's schema ---------------------------------------------------


def test_pull_request_lifecycle() -> None:
    change: dict[str, Any] = {
        "review": GOV,
        "base_ref": "main",
        "base_sha": BASE_SHA,
        "head_sha": HEAD_SHA,
        "author": "alice",
        "title": "Add 2024.06",
        "url": "https://github.com/org/gov/pull/7",
        "at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),  # updated_at orders late deliveries
        "governed_branch": "main",
    }
    for action in ("opened", "reopened", "ready_for_review"):
        assert normalise("pull_request", pr(action)) == [ChangeProposed(**change)]
    assert normalise("pull_request", pr("synchronize")) == [ChangeUpdated(**change)]

    retargeted = pr("edited")
    retargeted["changes"] = {"base": {"ref": {"from": "old"}, "sha": {"from": "d" * 40}}}
    assert normalise("pull_request", retargeted) == [ChangeUpdated(**change)]
    assert normalise("pull_request", pr("edited")) == []  # a title or body edit

    merged = pr("closed", merged=True, merge_commit_sha="e" * 40)
    at = change["at"]
    assert normalise("pull_request", merged) == [
        ChangeMerged(GOV, base_ref="main", merge_sha="e" * 40, at=at, head_sha=HEAD_SHA)
    ]
    assert normalise("pull_request", pr("closed", merged=False)) == [ChangeAbandoned(GOV, at=at)]
    assert normalise("pull_request", pr("labeled")) is None


@pytest.mark.parametrize(("state", "value"), [("approved", 1), ("changes_requested", -1)])
def test_reviews_are_votes(state: str, value: int) -> None:
    assert normalise("pull_request_review", review("submitted", state)) == [
        VoteCast(GOV, BOB, value, "review", at=WHEN, head_sha=HEAD_SHA, source_id="55")
    ]


def test_a_review_comment_is_not_a_vote_and_a_dismissal_withdraws() -> None:
    assert normalise("pull_request_review", review("submitted", "commented")) == []
    assert normalise("pull_request_review", review("dismissed", "dismissed")) == [
        VoteWithdrawn(GOV, BOB, "review", by=BOB, source_id="55")
    ]
    # a maintainer dismissing bob's review: the event says so, and the worker refuses it
    [other] = normalise("pull_request_review", review("dismissed", "dismissed", CAROL)) or []
    assert isinstance(other, VoteWithdrawn) and (other.voter, other.by) == (BOB, CAROL)
    assert normalise("pull_request_review", review("edited", "approved")) is None


def test_comment_commands() -> None:
    assert normalise("issue_comment", comment("created", "Nice.\n/vote +1 looks right")) == [
        CommentCommand(
            GOV, CAROL, "vote", ("+1", "looks", "right"), "321", WHEN, "main", CAROL, "main"
        )
    ]
    assert normalise("issue_comment", comment("edited", "/hold")) == [
        CommentCommand(GOV, CAROL, "hold", (), "321", WHEN, "main", CAROL, "main")
    ]
    # bob edits carol's comment into a vote: the author stays carol, the editor is bob
    [edited] = normalise("issue_comment", comment("edited", "/vote +1", sender=user(BOB))) or []
    assert isinstance(edited, CommentCommand) and (edited.author, edited.by) == (CAROL, BOB)
    assert normalise("issue_comment", comment("created", "just chatting")) == []
    assert normalise("issue_comment", comment("created", "/vote +1", on_pr=False)) is None


def test_a_release_request_may_come_from_a_plain_issue() -> None:
    """Chairs ask for a release on a tracking issue; it targets the default branch."""
    request = comment("created", "Time to cut it.\n/release 2024.06", on_pr=False)
    assert normalise("issue_comment", request) == [
        CommentCommand(GOV, CAROL, "release", ("2024.06",), "321", WHEN, "main", CAROL, "main")
    ]
    assert normalise("issue_comment", comment("edited", "/release 2024.06", on_pr=False)) is None


def test_a_flag_request_may_come_from_a_plain_issue() -> None:
    """2017A C3: a vendor raises a concern with a test on an issue, a chair answers there."""
    asked = comment("created", "/flag-request tempest.api.x.test_y it cannot pass", on_pr=False)
    assert normalise("issue_comment", asked) == [
        CommentCommand(
            GOV,
            CAROL,
            "flag-request",
            ("tempest.api.x.test_y", "it", "cannot", "pass"),
            "321",
            WHEN,
            "main",
            CAROL,
            "main",
        )
    ]
    [edited] = normalise("issue_comment", comment("edited", "/flag-ack t", on_pr=False)) or []
    assert isinstance(edited, CommentCommand) and edited.command == "flag-ack"
    assert normalise("issue_comment", comment("created", "/hold", on_pr=False)) is None


def label(action: str, name: str, sender: Actor = BOB) -> dict[str, Any]:
    found = pr(action, updated_at=AT)
    found["label"] = {"id": 9, "node_id": "LA_9", "url": "https://api.github.com/repos/org/gov/labels/x",
                      "name": name, "color": "ededed", "default": False, "description": None}  # fmt: skip
    found["sender"] = user(sender)
    return found


def test_edits_of_govbots_labels_are_reported_and_no_others() -> None:
    [edit] = normalise("pull_request", label("labeled", "tests-verified-2020.06")) or []
    assert edit == LabelsEdited(GOV, ("tests-verified-2020.06",), BOB, WHEN)
    [edit] = normalise("pull_request", label("unlabeled", "missing-tests", CAROL)) or []
    assert edit.labels == ("missing-tests",) and edit.by == CAROL
    assert normalise("pull_request", label("labeled", "needs-docs")) is None
    assert normalise("pull_request", label("unlabeled", "tests-verified-")) is None


def test_deleting_or_editing_away_a_vote_comment_withdraws_the_vote() -> None:
    assert normalise("issue_comment", comment("deleted", "/vote +1")) == [
        VoteWithdrawn(GOV, CAROL, "comment", by=CAROL, source_id="321")
    ]
    [by_bob] = normalise("issue_comment", comment("deleted", "/vote -1", sender=user(BOB))) or []
    assert isinstance(by_bob, VoteWithdrawn) and by_bob.by == BOB
    assert normalise("issue_comment", comment("deleted", "unrelated")) == []  # keep carol's vote
    assert normalise("issue_comment", comment("deleted", "/hold")) == []
    edited = comment("edited", "changed my mind", changes={"body": {"from": "/vote +1"}})
    assert normalise("issue_comment", edited) == [
        VoteWithdrawn(GOV, CAROL, "comment", at=WHEN, by=CAROL, source_id="321")
    ]


def test_new_tags_are_reported() -> None:
    assert normalise("push", push("refs/tags/2024.06")) == [
        TagPushed("org/gov", "2024.06", HEAD_SHA)
    ]
    assert normalise("push", push("refs/tags/v1", head_commit=None)) == [
        TagPushed("org/gov", "v1", "a" * 40)
    ]
    assert normalise("push", push("refs/tags/2024.06", created=False)) is None
    assert normalise("push", push("refs/heads/main")) is None


def test_mangled_hand_built_payloads_raise_payload_error_only() -> None:
    edited = pr("edited")
    edited["changes"] = {"base": {"ref": {"from": "old"}, "sha": {"from": "d" * 40}}}
    built = [
        ("pull_request", edited),
        ("pull_request", pr("closed", merged=True, merge_commit_sha="e" * 40)),
        ("pull_request_review", review("submitted", "approved")),
        ("issue_comment", comment("created", "/vote +1")),
        ("issue_comment", comment("edited", "x", changes={"body": {"from": "/vote +1"}})),
        ("issue_comment", comment("deleted", "/vote +1")),
        ("push", push("refs/tags/v1")),
    ]
    assert sum(_mangle_everything(event, p) for event, p in built) > 1000


def test_broken_payloads_raise_payload_error_naming_the_field() -> None:
    headless = pr("opened")
    del headless["pull_request"]["head"]
    with pytest.raises(PayloadError, match=r"pull_request\.head\.sha: missing"):
        normalise("pull_request", headless)

    numbered = pr("opened")
    numbered["pull_request"]["number"] = "7"
    with pytest.raises(PayloadError, match=r"pull_request\.number: expected int"):
        normalise("pull_request", numbered)

    undated = review("submitted", "approved")
    undated["review"]["submitted_at"] = "yesterday"
    with pytest.raises(PayloadError, match="submitted_at"):
        normalise("pull_request_review", undated)

    with pytest.raises(PayloadError):
        normalise("pull_request", [])
    with pytest.raises(PayloadError, match="action"):
        normalise("pull_request", {"repository": {"full_name": "org/gov"}})
    assert normalise("deployment", {"anything": ["at", "all"]}) is None


def _paths(value: Any, depth: int, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(value, dict) or depth == 0:
        return []
    out = []
    for key, child in value.items():
        out.append((*prefix, key))
        out += _paths(child, depth - 1, (*prefix, key))
    return out


def _set(target: dict[str, Any], path: tuple[str, ...], value: Any) -> Any:
    """Set the value at ``path``; returns the one it replaced."""
    for key in path[:-1]:
        target = target[key]
    kept, target[path[-1]] = target[path[-1]], value
    return kept
