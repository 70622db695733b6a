"""Gerrit events (``gerrit stream-events`` over SSH, or the webhooks plugin) -> govbot events.

Both sources carry the same JSON, documented in Gerrit's cmd-stream-events
and json pages: a ``type``, a ``change`` attribute (project, branch, number,
subject, url, owner), a ``patchSet`` attribute (number, revision, uploader),
accounts (name, email, username) and ``eventCreatedOn`` in epoch seconds.

Votes follow the documented approval semantics: ``oldValue`` is present only
when the value changed as a result of the event, so a ``comment-added`` that
repeats the approvals a reviewer already had is not a new vote. A removed
vote (``vote-deleted``, or ``reviewer-deleted`` for a reviewer who had voted)
lists the removed label with its ``oldValue``.

``normalise`` returns None for event types govbot does not handle (the
receiver answers 202 and drops them), ``[]`` for handled types that carry
nothing for govbot, and raises :class:`PayloadError` when a handled event
lacks a field govbot cannot do without.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
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

ZERO_SHA = "0" * 40

# The header Gerrit puts in front of a review message: "Patch Set 3: Code-Review+1".
_PATCH_SET_HEADER = re.compile(r"^Patch Set \d+:.*$")


class PayloadError(base.PayloadError):
    """A handled Gerrit event lacks a required field or has one of the wrong type."""


def normalise(
    event: dict[str, Any],
    label: str = "Verified",
    vote_label: str = "Code-Review",
    bot_user: str = "govbot",
) -> list[Event] | None:
    """govbot events for one Gerrit event; None if govbot does not handle its type.

    ``label`` is the label govbot itself votes with (its check result) and
    ``vote_label`` the one whose votes count as governance votes; they must
    differ, or govbot's own check would be counted as a vote.
    """
    if label == vote_label:
        raise ValueError(f"the check label and the vote label are both {label!r}")
    if not isinstance(event, dict):
        raise PayloadError("gerrit event: not a JSON object")
    kind = event.get("type")
    if not isinstance(kind, str):
        raise PayloadError("gerrit event: missing type")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return None
    return handler(_Reader(event, kind), vote_label, bot_user)


class _Reader:
    """Field access with errors that name the event type and the missing field."""

    def __init__(self, event: dict[str, Any], kind: str) -> None:
        self.event = event
        self.kind = kind

    def get(self, dotted: str) -> Any:
        node: Any = self.event
        for part in dotted.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    def text(self, dotted: str) -> str:
        value = self.get(dotted)
        if not isinstance(value, str) or not value:
            raise PayloadError(f"gerrit {self.kind}: missing {dotted}")
        return value

    def number(self, dotted: str) -> int:
        value = self.get(dotted)
        # Gerrit sends numbers; some old versions and hand-written payloads send strings.
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise PayloadError(f"gerrit {self.kind}: missing or non-numeric {dotted}")

    def review(self) -> ReviewRef:
        return ReviewRef("gerrit", self.text("change.project"), str(self.number("change.number")))

    def at(self) -> datetime | None:
        value = self.get("eventCreatedOn")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadError(f"gerrit {self.kind}: eventCreatedOn is not epoch seconds")
        return datetime.fromtimestamp(value, tz=UTC)

    def account(self, *candidates: str) -> str | None:
        """The first account among candidates, by username, else email."""
        for dotted in candidates:
            for key in ("username", "email"):
                value = self.get(f"{dotted}.{key}")
                if isinstance(value, str) and value:
                    return value
        return None

    def required_account(self, *candidates: str) -> str:
        who = self.account(*candidates)
        if who is None:
            raise PayloadError(f"gerrit {self.kind}: missing {candidates[0]}.username or .email")
        return who

    def actor(self, *candidates: str) -> Actor:
        """An account attribute as an actor. Stream events carry no account id
        (json.txt: name, email, username), so ``id`` is left for the worker to
        read from Gerrit's REST API; only a username resolves there."""
        return Actor(self.required_account(*candidates))

    def approvals(self) -> list[dict[str, Any]]:
        value = self.get("approvals")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
            raise PayloadError(f"gerrit {self.kind}: approvals is not a list of objects")
        return value


# Patch set kinds whose content is the prior patch set's (json.txt, patchSet.kind).
KEEPS_VOTES = frozenset({"TRIVIAL_REBASE", "NO_CODE_CHANGE", "NO_CHANGE"})


def _proposal(r: _Reader, author: str, cls: type[ChangeProposed] | type[ChangeUpdated]) -> Event:
    return cls(
        review=r.review(),
        base_ref=r.text("change.branch"),
        base_sha=_first_parent(r),
        head_sha=r.text("patchSet.revision"),
        author=author,
        title=r.get("change.subject") or "",
        url=r.get("change.url") or "",
        at=r.at(),
        draft=r.get("change.wip") is True or r.get("patchSet.isDraft") is True,
        keeps_votes=r.get("patchSet.kind") in KEEPS_VOTES,
    )


def _first_parent(r: _Reader) -> str | None:
    """The commit the patch set is based on: the base the change is judged (and later
    found released) against, pinned, since the branch moves once the change merges."""
    parents = r.get("patchSet.parents")
    if isinstance(parents, list) and parents and isinstance(parents[0], str) and parents[0]:
        return parents[0]
    return None  # an older event format: the worker reads the branch as it is then


def _patchset_created(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    author = r.required_account("uploader", "patchSet.uploader")
    first = r.number("patchSet.number") == 1
    return [_proposal(r, author, ChangeProposed if first else ChangeUpdated)]


def _change_restored(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    # A restored change is open for review again; its author is the patch set's
    # uploader or the change owner; the restorer is only a last resort.
    author = r.required_account("patchSet.uploader", "change.owner", "restorer")
    return [_proposal(r, author, ChangeProposed)]


def _change_merged(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    new_rev = r.get("newRev")
    merge_sha = new_rev if isinstance(new_rev, str) and new_rev else None
    head = r.get("patchSet.revision")
    head_sha = head if isinstance(head, str) and head else None
    return [
        ChangeMerged(r.review(), r.text("change.branch"), merge_sha, at=r.at(), head_sha=head_sha)
    ]


def _change_abandoned(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    return [ChangeAbandoned(r.review(), at=r.at())]


def _comment_added(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    review = r.review()
    voter = r.actor("author")
    if r.get("author.username") == bot_user:
        return []  # govbot's own results and comments
    at = r.at()
    head_sha = r.get("patchSet.revision") or None
    source = f"label:{vote_label}"
    events: list[Event] = []
    for approval in r.approvals():
        if approval.get("type") != vote_label or "oldValue" not in approval:
            continue  # another label, or a vote repeated unchanged
        value = _vote_value(r, approval.get("value"))
        if value == _vote_value(r, approval.get("oldValue")):
            continue
        if value == 0:  # a label set back to 0 is the vote taken back, as deleting it is
            events.append(VoteWithdrawn(review, voter, source, at, source_id=source))
        else:
            events.append(VoteCast(review, voter, value, source, at, head_sha, source_id=source))
    comment = r.get("comment")
    if isinstance(comment, str):
        command = parse_command(strip_header(comment), html=False)
        if command is not None:
            word, args = command
            events.append(
                CommentCommand(
                    review, voter, word, args, _comment_id(r), at, r.text("change.branch")
                )
            )
    return events


def _vote_removed(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    """vote-deleted, and reviewer-deleted (which removes the reviewer's votes too).

    ``reviewer`` is whose vote went, ``remover`` who removed it: only the voter
    can take a vote back, so a removal by someone else is refused by the worker.
    """
    review = r.review()
    voter = r.actor("reviewer")
    remover = r.account("remover")
    removed = any(
        a.get("type") == vote_label and "oldValue" in a and a.get("oldValue") not in (None, "0")
        for a in r.approvals()
    )
    if not removed:
        return []
    source = f"label:{vote_label}"
    by = Actor(remover) if remover is not None else None
    return [VoteWithdrawn(review, voter, source, r.at(), by=by, source_id=source)]


def _ref_updated(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    """A new tag. Its sha is the ref's new value as Gerrit sends it: for an annotated tag
    the tag object, which ``GerritForge.tag_commit`` peels to the commit (REST)."""
    ref = r.text("refUpdate.refName")
    if not ref.startswith("refs/tags/"):
        return []
    old, new = r.get("refUpdate.oldRev"), r.text("refUpdate.newRev")
    if old not in (None, ZERO_SHA) or new == ZERO_SHA:
        return []  # a moved or deleted tag is not a new one
    return [TagPushed(r.text("refUpdate.project"), ref.removeprefix("refs/tags/"), new)]


def _hashtags_changed(r: _Reader, vote_label: str, bot_user: str) -> list[Event]:
    """cmd-stream-events.txt, "hashtags-changed": ``change``, ``editor`` (who edited),
    ``added`` and ``removed`` (hashtags), ``hashtags`` (all of them now). Only an edit of
    a hashtag govbot manages concerns it, and govbot's own edits are not reported back."""
    named = [
        h
        for key in ("added", "removed")
        for h in (r.get(key) if isinstance(r.get(key), list) else [])
        if isinstance(h, str) and is_managed(h)
    ]
    if not named:
        return []
    if r.get("editor.username") == bot_user:
        return []
    editor = r.account("editor")
    by = Actor(editor) if editor is not None else None
    return [LabelsEdited(r.review(), tuple(dict.fromkeys(named)), by, r.at())]


_HANDLERS = {
    "hashtags-changed": _hashtags_changed,
    "patchset-created": _patchset_created,
    "change-restored": _change_restored,
    "change-merged": _change_merged,
    "change-abandoned": _change_abandoned,
    "comment-added": _comment_added,
    "vote-deleted": _vote_removed,
    "reviewer-deleted": _vote_removed,
    "ref-updated": _ref_updated,
}


def _vote_value(r: _Reader, raw: Any) -> int:
    """Gerrit sends approval values as strings ("+1", "-2", "0")."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise PayloadError(f"gerrit {r.kind}: approval value {raw!r} is not a number") from None


def strip_header(comment: str) -> str:
    """A review message without Gerrit's leading "Patch Set N: <votes>" line.

    The rest is read for commands as CommonMark with raw HTML shown as text
    (``parse_command(..., html=False)``), because that is how Gerrit shows it:
    its web UI renders change messages as Markdown (``gr-message`` gives
    ``gr-formatted-text`` ``markdown=true``; marked, with GFM) after escaping
    every ``<`` and ``&`` and unescaping only a leading ``>`` so block quotes
    still render (``escapeAllButBlockQuotes`` in polygerrit-ui's
    gr-formatted-text.ts). So on Gerrit, as on GitHub, a command in a code
    block, a code span or a quote is not shown as plain text and does not
    count; but ``<!-- /vote -1 -->`` is shown literally, so it hides nothing
    (and is no command either, since the line does not start with ``/``).
    Older Gerrit UIs had their own renderer with the same blocks (quotes,
    code, preformatted), so the rule holds there too.
    """
    lines = comment.splitlines()
    while lines and (not lines[0].strip() or _PATCH_SET_HEADER.match(lines[0])):
        lines.pop(0)
    return "\n".join(lines)


def _comment_id(r: _Reader) -> str:
    """Stream events carry no message id: derive a stable one, so a redelivery dedupes."""
    parts = (
        r.get("change.project"),
        r.get("change.number"),
        r.get("patchSet.number"),
        r.account("author"),
        r.get("eventCreatedOn"),
        r.get("comment"),
    )
    digest = hashlib.sha256("\0".join(map(str, parts)).encode("utf-8")).hexdigest()[:20]
    return f"gerrit:{digest}"


def event_key(event: Any) -> str | None:
    """The forge object a Gerrit event reports, when it has a lasting identity.

    A patch set is immutable (``patchset:<project>:<change>:<ps>:<sha>``); a review message
    is the author's text at one second on one patch set (``message:...``), which is what
    reconciliation reads back from the REST API's ChangeMessageInfo (author, date,
    ``_revision_number``, message). Never raises.
    """
    if not isinstance(event, dict):
        return None
    r = _Reader(event, str(event.get("type")))
    try:
        project, number = r.text("change.project"), r.number("change.number")
        ps = r.number("patchSet.number")
    except PayloadError:
        return None
    if r.kind == "patchset-created":
        return _bounded(f"patchset:{project}:{number}:{ps}:{r.get('patchSet.revision')}")
    if r.kind == "comment-added":
        author, at = r.account("author"), event.get("eventCreatedOn")
        if author is None or isinstance(at, bool) or not isinstance(at, int | float):
            return None
        text = event.get("comment")
        digest = hashlib.sha256(str(text).encode()).hexdigest()[:16] if text else "-"
        return _bounded(f"message:{project}:{number}:{ps}:{author}:{int(at)}:{digest}")
    return None


def _bounded(key: str) -> str:
    """At most 300 characters (deliveries.event_key's width): a digest beyond."""
    if len(key) <= 300:
        return key
    return key.split(":", 1)[0] + ":" + hashlib.sha256(key.encode("utf-8")).hexdigest()


# Who acted, by event type (cmd-stream-events.txt): the account an event is about.
_ACTORS = (
    "author", "uploader", "submitter", "abandoner", "restorer", "remover", "adder",
    "changer", "editor", "deleter", "reviewer", "patchSet.uploader",
)  # fmt: skip
# What else makes one event of a type differ from another by the same account in the
# same second (json.txt, cmd-stream-events.txt): a comment's text and votes, the
# hashtags edited, the ref moved; never what merely describes the change (subject, url).
_CONTENT = {
    "comment-added": ("comment", "approvals"),
    "vote-deleted": ("approvals", "reviewer"),
    "reviewer-added": ("reviewer",),
    "reviewer-deleted": ("reviewer", "approvals"),
    "hashtags-changed": ("added", "removed"),
    "topic-changed": ("oldTopic", "change.topic"),
    "ref-updated": ("refUpdate.project", "refUpdate.refName", "refUpdate.oldRev",
                    "refUpdate.newRev"),
    "change-merged": ("newRev",),
    "wip-state-changed": ("change.wip",),
    "private-state-changed": ("change.private",),
}  # fmt: skip


def _canonical(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(a, dict) for a in value):  # approvals
        value = sorted(
            (str(a.get("type")), str(a.get("value")), str(a.get("oldValue"))) for a in value
        )
    return json.dumps(value, sort_keys=True, default=str)


def identity(payload: dict[str, Any]) -> str | None:
    """The event's own identity, whatever bytes carry it: type, change, patch set,
    ``eventCreatedOn``, the acting account, and what distinguishes two events of the
    type by one account in one second (a comment's text and votes, the hashtags).

    Gerrit sends no delivery id and a retried event is byte-identical, but a
    body replayed with an irrelevant byte changed (a reordered key, a subject
    edited since) is the same event and must have no second effect. None when
    the payload does not say when it happened (nothing to key on).
    """
    kind = str(payload.get("type"))
    r = _Reader(payload, kind)
    created = payload.get("eventCreatedOn")
    if created is None:
        return None
    parts = [
        kind,
        r.get("change.project"),
        r.get("change.number") or r.get("change.id"),
        r.get("patchSet.number"),
        created,
        r.account(*_ACTORS),
        *(_canonical(r.get(field)) for field in _CONTENT.get(kind, ())),
    ]
    digest = hashlib.sha256("\0".join(map(str, parts)).encode("utf-8")).hexdigest()
    return f"{kind[:64]}:{digest}"
