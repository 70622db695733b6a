"""govbot's own events: what happened on a review, whatever forge it happened on.

Forge adapters turn GitHub and Gerrit payloads into these; nothing past the
adapters ever sees a forge payload. They are plain frozen data so they can be
compared in tests, logged, and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govbot.core.commands import parse_command as parse_command  # the adapters' entry point


@dataclass(frozen=True)
class ReviewRef:
    """A pull request (GitHub) or a change (Gerrit)."""

    forge: str  # "github" | "gerrit"
    repo: str  # "owner/name" on GitHub, the project on Gerrit
    number: str  # the PR number or the Gerrit change number

    @property
    def key(self) -> str:
        return f"{self.forge}:{self.repo}#{self.number}"


@dataclass(frozen=True)
class Actor:
    """Who did something on a forge.

    ``id`` is the immutable account id (GitHub's user id, Gerrit's account
    id) and is what identity is judged by; ``login`` (a GitHub login, a Gerrit
    username or email) is for display only, since logins can be renamed and
    taken over. ``id`` is "" when the payload does not carry one (Gerrit's
    events name accounts by username only): the worker then asks the forge.
    """

    login: str
    id: str = ""


@dataclass(frozen=True)
class _Revision:
    """A revision proposed for review; the two events below differ only in meaning."""

    review: ReviewRef
    base_ref: str  # target branch
    base_sha: str | None  # None when the forge does not say (Gerrit): resolve base_ref
    head_sha: str
    author: str
    title: str = ""
    url: str = ""
    at: datetime | None = None  # when the forge says it happened: orders out-of-order deliveries
    draft: bool = False  # a draft pull request or a work-in-progress change: not yet for review
    keeps_votes: bool = (
        False  # Gerrit says the content is unchanged (trivial rebase, no code change)
    )
    governed_branch: str | None = None  # the repository's default branch, when the payload says


@dataclass(frozen=True)
class ChangeProposed(_Revision):
    """A review opened (or reopened, or made ready for review): its first revision."""


@dataclass(frozen=True)
class ChangeUpdated(_Revision):
    """A new revision of an open review."""


@dataclass(frozen=True)
class ChangeMerged:
    review: ReviewRef
    base_ref: str
    merge_sha: str | None
    at: datetime | None = None
    head_sha: str | None = None  # the reviewed head that was merged


@dataclass(frozen=True)
class ChangeAbandoned:
    review: ReviewRef
    at: datetime | None = None


@dataclass(frozen=True)
class VoteCast:
    review: ReviewRef
    voter: Actor
    value: int  # -1, 0 or +1 (a Gerrit -2/+2 keeps its value)
    source: str  # "review", "label:<name>" or "comment"
    at: datetime | None = None
    head_sha: str | None = None  # the revision the vote was given on, when the forge says
    source_id: str = ""  # the review or comment that carries the vote


@dataclass(frozen=True)
class VoteWithdrawn:
    """A vote taken back: by its voter, or (refused) by someone else.

    ``source_id`` names the review or comment that is gone; only the voter's
    *current* vote coming from it is withdrawn, never a later one.
    """

    review: ReviewRef
    voter: Actor
    source: str
    at: datetime | None = None
    by: Actor | None = None  # who acted; None: the voter
    source_id: str = ""


@dataclass(frozen=True)
class CommentCommand:
    review: ReviewRef
    author: Actor
    command: str  # e.g. "vote", "hold", "release", "recheck"
    args: tuple[str, ...]
    comment_id: str
    at: datetime | None = None
    base_ref: str | None = None  # the branch the review targets, or the repo's default branch
    by: Actor | None = None  # who wrote this text (an editor); None: the author
    governed_branch: str | None = None


@dataclass(frozen=True)
class LabelsEdited:
    """Labels (GitHub) or hashtags (Gerrit) of a review were added or removed.

    Only edits of the labels govbot manages are reported (see
    :mod:`govbot.core.labels`); the handler puts govbot's verdict back, so
    ``labels`` and ``by`` are for the audit log, not for deciding.
    """

    review: ReviewRef
    labels: tuple[str, ...]  # the managed labels the event names
    by: Actor | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class TagPushed:
    repo: str
    tag: str
    sha: str


Event = (
    ChangeProposed
    | ChangeUpdated
    | ChangeMerged
    | ChangeAbandoned
    | VoteCast
    | VoteWithdrawn
    | CommentCommand
    | LabelsEdited
    | TagPushed
)
