"""The one interface every forge adapter implements, and what a report is.

The service calls only this; GitHub (PyGithub), Gerrit (REST + gerritlib) and
the dry-run recorder sit behind it. Posting is idempotent by design: a report
is keyed by (review, kind, head_sha), and adapters update what they posted
before instead of posting again, so a retried event never answers twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from govbot.core import release
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


@dataclass(frozen=True)
class ProposedChange:
    """A change govbot proposes itself (a release): new file contents on top of ``base``.

    ``branch`` names it: on GitHub the head branch of the pull request, on
    Gerrit its topic. Opening the same proposal again (a redelivered
    ``/release`` comment) finds the change opened the first time.
    """

    repo: str
    base: str  # the branch it targets
    branch: str
    message: str  # the commit message; its first line is the change's title
    files: Mapping[str, bytes | None]  # path -> new bytes; None removes the file

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True)
class OpenedChange:
    number: int  # the pull request's number, the Gerrit change's number
    url: str
    created: bool  # False: it was open already (a retry, a second request)


@dataclass(frozen=True)
class Published:
    """What a forge holds for a released guideline: the tagged commit and the assets.

    Gerrit has no release objects, so there ``assets`` holds only the manifest
    and the decision record carried in the annotated tag's message; the other
    assets are rebuilt from the repository at ``sha`` and checked against it.
    """

    tag: str
    sha: str
    assets: Mapping[str, bytes]

    @classmethod
    def from_tag(cls, tag: str, sha: str, message: str) -> Published:
        """Where the tag is all there is: what its message carries, if govbot wrote it."""
        return cls(tag, sha, release.tag_assets(message))


class PayloadError(ValueError):
    """A delivery govbot handles lacks a field it needs (or has it in the wrong type)."""


DEFAULT_TIMEOUT = 4  # seconds without an answer before a forge request is abandoned


def forge_timeout(environ: Mapping[str, str]) -> float:
    """GOVBOT_FORGE_TIMEOUT: seconds a forge request may go unanswered (at least 1)."""
    raw = environ.get("GOVBOT_FORGE_TIMEOUT", "").strip()
    try:
        return max(1.0, float(raw)) if raw else float(DEFAULT_TIMEOUT)
    except ValueError:
        raise ValueError(f"GOVBOT_FORGE_TIMEOUT must be a number of seconds, not {raw!r}") from None


class ForgeError(Exception):
    """A forge call failed. ``retry_after`` (seconds) is set when it is worth retrying.

    ``rate_limited``: the forge refused because the installation or token used up
    its rate limit; the wait applies to every request to that forge, not just this one.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.rate_limited = rate_limited


class Forge(Protocol):
    @property
    def name(self) -> str: ...

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        """The governed files of ``repo`` at ``rev`` (a sha or a branch)."""
        ...

    def changed_files(self, review: ReviewRef) -> list[str]: ...

    def default_branch(self, repo: str) -> str:
        """The branch the repository's governance lives on (its default branch)."""
        ...

    def resolve(self, repo: str, rev: str) -> str:
        """The commit sha of ``rev`` (a sha or a branch name), as the forge has it now."""
        ...

    def account_id(self, login: str) -> str | None:
        """The immutable account id behind a login or username; None if there is none."""
        ...

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        """The commit a new tag names, given what the push event reported (``pushed``)."""
        ...

    def post_check(self, report: CheckReport) -> str:
        """Create or update the check result; returns the forge's id for it."""
        ...

    def upsert_comment(
        self, review: ReviewRef, marker: str, body: str, *, notify: Sequence[str] = ()
    ) -> str:
        """Create, or edit in place, the one comment carrying ``marker``; returns its id.

        ``notify``: logins govbot chose to alert (the chairs, when a vote was tampered
        with). On GitHub the body's @mentions do it; on Gerrit, where text mentions
        alert nobody, the message is mailed to them."""
        ...

    def labels(self, review: ReviewRef) -> frozenset[str]:
        """The review's labels (GitHub) or hashtags (Gerrit), as the forge has them now."""
        ...

    def edit_labels(self, review: ReviewRef, add: Sequence[str], remove: Sequence[str]) -> None:
        """Add and remove labels; removing one that is already gone is not an error."""
        ...

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str: ...

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        """Create the release of an existing tag, or complete it; never a second one."""
        ...

    def open_change(self, change: ProposedChange) -> OpenedChange:
        """Open ``change`` for review, or find it open already; never a second one."""
        ...

    def published(self, repo: str, tag: str) -> Published:
        """The tagged commit and the published assets; ForgeError(permanent) if there is no tag."""
        ...
