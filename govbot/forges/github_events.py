"""GitHub webhook payloads -> govbot events.

The receiver stores every delivery as-is; a worker calls ``normalise`` later.
So this module decides what govbot listens to, and nothing past it ever sees
a GitHub payload. The contract:

* ``None``: govbot does not handle this event or action (the delivery is done).
* ``[]``: govbot handles it, but this one asks for nothing (a plain review
  comment, a ping).
* a list of events otherwise.

A payload that lacks a field govbot needs raises ``PayloadError`` naming the
field, so a broken delivery is reported instead of crashing the worker with
a ``KeyError``. Unexpected-but-valid payloads never raise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from govbot.core.events import (
    Actor,
    ChangeAbandoned,
    ChangeMerged,
    ChangeProposed,
    ChangeUpdated,
    CommentCommand,
    Event,
    LabelsEdited,
    ReviewRef,
    TagPushed,
    VoteCast,
    VoteWithdrawn,
    parse_command,
)
from govbot.core.labels import is_managed
from govbot.forges import base

# Comment commands that cast a vote: deleting (or editing away) such a comment withdraws it.
VOTE_COMMANDS = frozenset({"vote"})
# Commands a plain issue carries too ("/release" only when the comment is created).
ISSUE_COMMANDS = frozenset({"flag-request", "flag-ack"})

_REVIEW_VOTES = {"approved": 1, "changes_requested": -1}


class PayloadError(base.PayloadError):
    """A delivery lacks a field govbot needs (or has it in the wrong type)."""


def normalise(event: str, payload: dict[str, Any]) -> list[Event] | None:
    """The govbot events for one GitHub delivery (``event`` is the X-GitHub-Event header)."""
    if not isinstance(payload, dict):
        raise PayloadError(f"{event}: the payload is not a JSON object")
    handler = _HANDLERS.get(event)
    return handler(payload) if handler else None


def _pull_request(p: dict[str, Any]) -> list[Event] | None:
    action = _str(p, "action")
    if action in ("opened", "reopened", "ready_for_review"):
        return [ChangeProposed(**_change(p))]
    changes = p.get("changes")
    if action in ("synchronize", "converted_to_draft") or (
        action == "edited" and isinstance(changes, dict) and "base" in changes
    ):
        return [ChangeUpdated(**_change(p))]
    if action == "edited":
        return []  # title or body edits: nothing govbot checks changed
    if action in ("labeled", "unlabeled"):
        name = _get(p, "label", "name", optional=True)
        if not isinstance(name, str) or not is_managed(name):
            return None  # a label of the project's own: not govbot's business
        return [
            LabelsEdited(_review(p), (name,), _sender(p), _time(p, "pull_request", "updated_at"))
        ]
    if action == "closed":
        review = _review(p)
        if _get(p, "pull_request", "merged", kind=bool, optional=True):
            merge_sha = _get(p, "pull_request", "merge_commit_sha", optional=True)
            base_ref = _str(p, "pull_request", "base", "ref")
            at = _time(p, "pull_request", "closed_at") or _time(p, "pull_request", "updated_at")
            head = _get(p, "pull_request", "head", "sha", optional=True)
            return [ChangeMerged(review, base_ref, merge_sha, at=at, head_sha=head)]
        return [ChangeAbandoned(review, at=_time(p, "pull_request", "updated_at"))]
    return None


def _pull_request_review(p: dict[str, Any]) -> list[Event] | None:
    action = _str(p, "action")
    voter = _actor(p, "review", "user")
    review_id = str(_get(p, "review", "id", kind=int, optional=True) or "")
    if action == "submitted":
        state = _str(p, "review", "state").lower()
        if state not in _REVIEW_VOTES:
            return []  # "commented": an opinion, not a vote
        vote = VoteCast(
            _review(p),
            voter=voter,
            value=_REVIEW_VOTES[state],
            source="review",
            at=_time(p, "review", "submitted_at"),
            head_sha=_get(p, "review", "commit_id", optional=True),
            source_id=review_id,
        )
        return [vote]
    if action == "dismissed":
        # The payload says when the review was submitted, not when it was dismissed,
        # and who dismissed it only in ``sender``: often a maintainer, not the voter.
        return [
            VoteWithdrawn(
                _review(p), voter=voter, source="review", by=_sender(p), source_id=review_id
            )
        ]
    return None


def _issue_comment(p: dict[str, Any]) -> list[Event] | None:
    action = _str(p, "action")
    review = _review(p, number=("issue", "number"))
    author = _actor(p, "comment", "user")
    by = _sender(p)
    body = _get(p, "comment", "body", optional=True) or ""
    command = parse_command(body)
    comment_id = str(_get(p, "comment", "id", kind=int))
    on_pr = bool(_get(p, "issue", "pull_request", kind=dict, optional=True))
    issue_request = (
        action in ("created", "edited")
        and command is not None
        and (command[0] in ISSUE_COMMANDS or (action == "created" and command[0] == "release"))
    )
    if not on_pr and not issue_request:
        return None  # a plain issue: only a release or flag request is for govbot
    if action == "deleted":
        if command and command[0] in VOTE_COMMANDS:
            return [VoteWithdrawn(review, author, source="comment", by=by, source_id=comment_id)]
        return []
    if action not in ("created", "edited"):
        return None
    at = _time(p, "comment", "updated_at")
    default_branch = _get(p, "repository", "default_branch", optional=True)
    if command:
        return [
            CommentCommand(
                review,
                author,
                command[0],
                command[1],
                comment_id,
                at,
                default_branch,
                by=by,
                governed_branch=default_branch,
            )
        ]
    before = _get(p, "changes", "body", "from", optional=True) if action == "edited" else None
    previous = parse_command(before) if isinstance(before, str) else None
    if previous and previous[0] in VOTE_COMMANDS:
        # The vote was edited out of the comment: the same as deleting it.
        return [VoteWithdrawn(review, author, source="comment", at=at, by=by, source_id=comment_id)]
    return []


def _push(p: dict[str, Any]) -> list[Event] | None:
    ref = _str(p, "ref")
    if not ref.startswith("refs/tags/") or not _get(p, "created", kind=bool, optional=True):
        return None
    # For an annotated tag ``after`` is the tag object; head_commit is what it tags.
    sha = _get(p, "head_commit", "id", optional=True) or _str(p, "after")
    return [
        TagPushed(
            repo=_str(p, "repository", "full_name"), tag=ref.removeprefix("refs/tags/"), sha=sha
        )
    ]


def _ping(p: dict[str, Any]) -> list[Event]:
    return []


_HANDLERS: dict[str, Callable[[dict[str, Any]], list[Event] | None]] = {
    "pull_request": _pull_request,
    "pull_request_review": _pull_request_review,
    "issue_comment": _issue_comment,
    "push": _push,
    "ping": _ping,
}


def _change(p: dict[str, Any]) -> dict[str, Any]:
    """The fields ChangeProposed and ChangeUpdated share."""
    return {
        "review": _review(p),
        "base_ref": _str(p, "pull_request", "base", "ref"),
        "base_sha": _str(p, "pull_request", "base", "sha"),
        "head_sha": _str(p, "pull_request", "head", "sha"),
        "author": _str(p, "pull_request", "user", "login"),
        "title": _get(p, "pull_request", "title", optional=True) or "",
        "url": _get(p, "pull_request", "html_url", optional=True) or "",
        "at": _time(p, "pull_request", "updated_at"),
        "draft": bool(_get(p, "pull_request", "draft", kind=bool, optional=True)),
        "governed_branch": _get(p, "repository", "default_branch", optional=True),
    }


def _actor(p: dict[str, Any], *path: str) -> Actor:
    """A user object: the login for display, the immutable id for identity."""
    user_id = _get(p, *path, "id", kind=int, optional=True)
    return Actor(_str(p, *path, "login"), "" if user_id is None else str(user_id))


def _sender(p: dict[str, Any]) -> Actor | None:
    """Who triggered the delivery (GitHub's ``sender``), if the payload says."""
    if not isinstance(p.get("sender"), dict):
        return None
    return _actor(p, "sender")


def _review(p: dict[str, Any], number: tuple[str, ...] = ("pull_request", "number")) -> ReviewRef:
    return ReviewRef("github", _str(p, "repository", "full_name"), str(_get(p, *number, kind=int)))


def _str(p: dict[str, Any], *path: str) -> str:
    value: str = _get(p, *path, kind=str)
    return value


def _time(p: dict[str, Any], *path: str) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime; None when the payload has none."""
    value = _get(p, *path, optional=True)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadError(f"{'.'.join(path)}: not an ISO 8601 time with a zone: {value!r}")
    return parsed


def _get(p: dict[str, Any], *path: str, kind: type = str, optional: bool = False) -> Any:
    """The value at ``path``; PayloadError if missing (unless optional) or not of ``kind``."""
    value: Any = p
    for i, key in enumerate(path):
        if not isinstance(value, dict):
            raise PayloadError(f"{'.'.join(path[:i]) or 'payload'}: not an object")
        value = value.get(key)
        if value is None:
            if optional:
                return None
            raise PayloadError(f"{'.'.join(path)}: missing")
    # bool is an int subclass: a JSON true is never a PR number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PayloadError(
            f"{'.'.join(path)}: expected {kind.__name__}, got {type(value).__name__}"
        )
    return value


def event_key(event: str, payload: Any) -> str | None:
    """The forge object a delivery reports, when it has a lasting identity: the same key
    for the webhook and for reconciliation's synthesized delivery of the same thing.

    A comment is keyed by its id, the action, its ``updated_at`` (an edit is a new
    version), its author and a digest of its body; a review by its id, the action
    (submitted, then perhaps dismissed), its state, author, time and body; a closed pull
    request by its number and ``closed_at``. What the forge never changes for one
    version of an object is all in the key, so two different acts never share one
    even where ids are reused (as hand-made test payloads do). Other pull request
    events have none: a head can come back (reopen, force-push back), so their handler
    is idempotent on the review's state instead. Never raises.
    """
    if not isinstance(payload, dict):
        return None
    action = payload.get("action")
    if event == "issue_comment" and action in ("created", "edited"):
        comment = payload.get("comment")
        if isinstance(comment, dict) and isinstance(comment.get("id"), int):
            return _key("comment", comment["id"], action, _instant(comment.get("updated_at")),
                        _author(comment), _digest(comment.get("body")))  # fmt: skip
    pull = payload.get("pull_request")
    if event == "pull_request" and action == "closed" and isinstance(pull, dict):
        repository = payload.get("repository")
        name = repository.get("full_name") if isinstance(repository, dict) else None
        if isinstance(pull.get("number"), int) and pull.get("closed_at") and name:
            return _key("pr-closed", f"{name}#{pull['number']}", _instant(pull["closed_at"]))
    if event == "pull_request_review" and action in ("submitted", "dismissed"):
        review = payload.get("review")
        if isinstance(review, dict) and isinstance(review.get("id"), int):
            state = str(review.get("state") or "").lower()
            return _key("review", review["id"], action, state, _author(review),
                        _instant(review.get("submitted_at")), _digest(review.get("body")))  # fmt: skip
    return None


def _key(*parts: Any) -> str:
    """``parts`` joined; a digest past 300 characters (deliveries.event_key's width)."""
    key = ":".join(str(p) for p in parts)
    return key if len(key) <= 300 else f"{parts[0]}:{_digest(key)}"


def _author(thing: dict[str, Any]) -> str:
    user = thing.get("user")
    if not isinstance(user, dict):
        return ""
    return str(user.get("id") or user.get("login") or "")


def _digest(text: Any) -> str:
    return hashlib.sha256(str(text or "").encode("utf-8")).hexdigest()[:16]


def _instant(value: Any) -> str:
    """A timestamp in one spelling ("...Z" and "+00:00" are the same instant)."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return str(value)
    return str(int(parsed.timestamp()))
