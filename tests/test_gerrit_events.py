"""Gerrit stream-events / webhooks-plugin JSON -> govbot events.

The fixtures under tests/fixtures/gerrit/ follow Gerrit's cmd-stream-events
and json documentation field for field (approvals carry ``oldValue`` only when
the value changed, numbers are JSON numbers, approval values are strings).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
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
from govbot.forges.gerrit_events import PayloadError, normalise, strip_header

FIXTURES = Path(__file__).parent / "fixtures" / "gerrit"
REVIEW = ReviewRef("gerrit", "openstack/interop", "4242")
R1, R2 = "a" * 40, "b" * 40
PARENT = "1" * 40


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_first_patch_set_is_a_proposal() -> None:
    assert normalise(load("patchset-created-1")) == [
        ChangeProposed(
            review=REVIEW,
            base_ref="master",
            base_sha=PARENT,  # the patch set's parent: pinned, unlike the branch
            head_sha=R1,
            author="alice",
            title="Add 2025.06 guideline",
            url="https://review.example.org/c/openstack/interop/+/4242",
            at=datetime.fromtimestamp(load("patchset-created-1")["eventCreatedOn"], tz=UTC),
        )
    ]


def test_later_patch_set_is_an_update() -> None:
    [event] = normalise(load("patchset-created-2")) or []
    assert isinstance(event, ChangeUpdated)
    assert (event.review, event.head_sha, event.base_sha) == (REVIEW, R2, PARENT)


def test_an_event_without_parents_leaves_the_base_to_the_branch() -> None:
    event = load("patchset-created-1")
    del event["patchSet"]["parents"]
    [proposed] = normalise(event) or []
    assert isinstance(proposed, ChangeProposed) and proposed.base_sha is None


def test_uploader_without_username_falls_back_to_email() -> None:
    event = load("patchset-created-1")
    del event["uploader"]["username"]
    [proposed] = normalise(event) or []
    assert isinstance(proposed, ChangeProposed)
    assert proposed.author == "alice@example.org"


def test_old_gerrit_string_numbers_are_accepted() -> None:
    event = load("patchset-created-2")
    event["change"]["number"], event["patchSet"]["number"] = "4242", "2"
    [updated] = normalise(event) or []
    assert isinstance(updated, ChangeUpdated)
    assert updated.review.number == "4242"


def test_merged_abandoned_restored() -> None:
    def at(name: str) -> datetime:
        return datetime.fromtimestamp(load(name)["eventCreatedOn"], tz=UTC)

    merged = ChangeMerged(REVIEW, "master", "c" * 40, at=at("change-merged"), head_sha=R2)
    assert normalise(load("change-merged")) == [merged]
    assert normalise(load("change-abandoned")) == [
        ChangeAbandoned(REVIEW, at=at("change-abandoned"))
    ]
    [restored] = normalise(load("change-restored")) or []
    assert isinstance(restored, ChangeProposed)
    assert (restored.head_sha, restored.author) == (R2, "alice")


def test_merged_without_new_rev() -> None:
    event = load("change-merged")
    del event["newRev"]
    [merged] = normalise(event) or []
    assert isinstance(merged, ChangeMerged) and merged.merge_sha is None


def test_label_change_is_a_vote_and_the_comment_a_command() -> None:
    at = datetime.fromtimestamp(1750000200, tz=UTC)
    vote, command = normalise(load("comment-added-vote")) or []
    label = "label:Code-Review"
    assert vote == VoteCast(REVIEW, Actor("bob"), 1, label, at, R2, source_id=label)
    assert isinstance(command, CommentCommand)
    assert (command.author, command.command, command.args) == (
        Actor("bob"),
        "vote",
        ("+1", "looks", "right"),
    )
    assert command.at == at and command.at.tzinfo is UTC
    assert command.comment_id.startswith("gerrit:")


def test_comment_id_is_stable_across_redeliveries() -> None:
    first = normalise(load("comment-added-vote")) or []
    again = normalise(load("comment-added-vote")) or []
    assert first == again


def test_negative_and_plus_two_votes_keep_their_value() -> None:
    event = load("comment-added-vote")
    event["approvals"][0].update(value="-2", oldValue="1")
    [vote, _] = normalise(event) or []
    assert isinstance(vote, VoteCast) and vote.value == -2


def test_unchanged_approvals_are_not_votes() -> None:
    # No oldValue: the documented signal that this event did not change the vote.
    assert normalise(load("comment-added-unchanged")) == []


def test_old_value_equal_to_value_is_not_a_vote() -> None:
    event = load("comment-added-vote")
    event["approvals"][0]["oldValue"] = "+1"
    assert [type(e) for e in normalise(event) or []] == [CommentCommand]


def test_other_labels_and_configured_vote_label() -> None:
    event = load("comment-added-vote")
    event["approvals"][0]["type"] = "Workflow"
    assert [type(e) for e in normalise(event) or []] == [CommentCommand]
    [vote, _] = normalise(event, vote_label="Workflow") or []
    assert isinstance(vote, VoteCast) and vote.source == "label:Workflow"


def test_govbots_own_comments_are_ignored() -> None:
    assert normalise(load("comment-added-bot")) == []
    # ...unless govbot runs under another account name.
    events = normalise(load("comment-added-bot"), bot_user="ci-bot") or []
    assert [type(e) for e in events] == [CommentCommand]  # Verified is never a vote


def test_deleted_vote_is_withdrawn() -> None:
    at = datetime.fromtimestamp(1750000250, tz=UTC)
    label = "label:Code-Review"
    [withdrawn] = normalise(load("vote-deleted")) or []
    assert withdrawn == VoteWithdrawn(
        REVIEW, Actor("bob"), label, at, by=withdrawn.by, source_id=label
    )


def test_deleted_vote_on_another_label_is_nothing() -> None:
    event = load("vote-deleted")
    event["approvals"] = [{"type": "Verified", "value": "0", "oldValue": "-1"}]
    assert normalise(event) == []


def test_removed_reviewer_with_a_vote_withdraws_it() -> None:
    event = load("vote-deleted")
    event["type"] = "reviewer-deleted"
    [withdrawn] = normalise(event) or []
    assert isinstance(withdrawn, VoteWithdrawn) and withdrawn.voter == Actor("bob")


def test_new_tag_is_pushed_and_other_refs_are_not() -> None:
    assert normalise(load("ref-updated-tag")) == [
        TagPushed("openstack/interop", "2025.06", "d" * 40)
    ]
    assert normalise(load("ref-updated-branch")) == []
    moved = load("ref-updated-tag")
    moved["refUpdate"]["oldRev"] = "e" * 40
    assert normalise(moved) == []
    deleted = load("ref-updated-tag")
    deleted["refUpdate"].update(oldRev="d" * 40, newRev="0" * 40)
    assert normalise(deleted) == []


def test_edits_of_govbots_hashtags_are_reported() -> None:
    """cmd-stream-events.txt, hashtags-changed: ``editor``, ``added``, ``removed``."""
    event = load("hashtags-changed")
    at = datetime.fromtimestamp(event["eventCreatedOn"], tz=UTC)
    assert normalise(event) == [
        LabelsEdited(REVIEW, ("tests-verified-2020.06", "missing-tests"), Actor("vic"), at)
    ]
    event.update(added=["wip"], removed=[])
    assert normalise(event) == []  # a hashtag of the project's own
    mine = load("hashtags-changed")
    mine["editor"]["username"] = "govbot"
    assert normalise(mine) == []  # govbot's own edit, reported back


@pytest.mark.parametrize("kind", ["topic-changed", "reviewer-added", "batch-ref-updated"])
def test_unknown_types_are_not_handled(kind: str) -> None:
    event = load("topic-changed")
    event["type"] = kind
    assert normalise(event) is None


def test_malformed_event_names_the_missing_field() -> None:
    with pytest.raises(PayloadError, match=r"patchset-created: missing patchSet\.revision"):
        normalise(load("malformed-patchset-created"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop("type"), "missing type"),
        (lambda e: e["change"].pop("project"), r"missing change\.project"),
        (lambda e: e["change"].update(number="x"), r"non-numeric change\.number"),
        (lambda e: e.pop("author"), r"missing author\.username or \.email"),
        (lambda e: e.update(approvals={"a": 1}), "approvals is not a list"),
        (lambda e: e["approvals"][0].update(value="yes"), "approval value 'yes'"),
        (lambda e: e.update(eventCreatedOn="today"), "eventCreatedOn"),
    ],
)
def test_payload_errors(mutate: Any, message: str) -> None:
    event = copy.deepcopy(load("comment-added-vote"))
    mutate(event)
    with pytest.raises(PayloadError, match=message):
        normalise(event)


def test_not_an_object_and_same_labels_are_refused() -> None:
    with pytest.raises(PayloadError):
        normalise([])
    with pytest.raises(ValueError, match="both"):
        normalise(load("comment-added-vote"), label="Code-Review")


def test_strip_header() -> None:
    assert strip_header("Patch Set 3: Code-Review+1\n\n/hold please") == "/hold please"
    assert strip_header("Patch Set 3:\n\n(2 comments)\n\nok") == "(2 comments)\n\nok"
    assert strip_header("/recheck") == "/recheck"
