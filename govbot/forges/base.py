"""The one interface every forge adapter implements, and what a report is.

The service calls only this; GitHub (PyGithub), Gerrit (REST + gerritlib) and
the dry-run recorder sit behind it. Posting is idempotent by design: a report
is keyed by (review, kind, head_sha), and adapters update what they posted
before instead of posting again, so a retried event never answers twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from govbot.core.events import ReviewRef


@dataclass(frozen=True)
class Annotation:
    path: str
    line: int
    level: str  # "failure" | "warning" | "notice"
    title: str
    message: str


@dataclass(frozen=True)
class CheckReport:
    """A check's outcome on one revision of a review."""

    review: ReviewRef
    head_sha: str
    name: str  # "govbot/check"
    conclusion: str  # "success" | "failure" | "neutral" | "pending" (still open: a vote)
    title: str
    summary: str  # Markdown
    annotations: tuple[Annotation, ...] = field(default=())


class ForgeError(Exception):
    """A forge call failed. ``retry_after`` (seconds) is set when it is worth retrying."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Forge(Protocol):
    name: str

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        """The governed files of ``repo`` at ``rev`` (a sha or a branch)."""
        ...

    def changed_files(self, review: ReviewRef) -> list[str]: ...

    def post_check(self, report: CheckReport) -> str:
        """Create or update the check result; returns the forge's id for it."""
        ...

    def upsert_comment(self, review: ReviewRef, marker: str, body: str) -> str:
        """Create, or edit in place, the one comment carrying ``marker``; returns its id."""
        ...

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str: ...

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        """Create the release of an existing tag, or complete it; never a second one."""
        ...
