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


@dataclass(frozen=True)
class ChangeProposed(_Revision):
    """A review opened (or reopened): its first revision."""


@dataclass(frozen=True)
class ChangeUpdated(_Revision):
    """A new revision of an open review."""


@dataclass(frozen=True)
class ChangeMerged:
    review: ReviewRef
    base_ref: str
    merge_sha: str | None
    at: datetime | None = None


@dataclass(frozen=True)
class ChangeAbandoned:
    review: ReviewRef
    at: datetime | None = None


@dataclass(frozen=True)
class VoteCast:
    review: ReviewRef
    voter: str  # the forge account (GitHub login, Gerrit username)
    value: int  # -1, 0 or +1 (a Gerrit -2/+2 keeps its value)
    source: str  # "review", "label:<name>" or "comment"
    at: datetime | None = None
    head_sha: str | None = None


@dataclass(frozen=True)
class VoteWithdrawn:
    review: ReviewRef
    voter: str
    source: str
    at: datetime | None = None


@dataclass(frozen=True)
class CommentCommand:
    review: ReviewRef
    author: str
    command: str  # e.g. "vote", "hold", "release", "recheck"
    args: tuple[str, ...]
    comment_id: str
    at: datetime | None = None
    base_ref: str | None = None  # the branch the review targets, or the repo's default branch


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
    | TagPushed
)
