"""The dry-run forge: reads a local Git repository and posts nothing.

With no forge credentials configured, govbot still runs end to end: files come
from a local clone (by default the repository govbot runs from), and what would
have been posted is recorded by the worker in the reports table and the audit
log, like real posts are (``govbot reports`` shows them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from govbot.core.events import ReviewRef
from govbot.forges.base import CheckReport, ForgeError, OpenedChange, ProposedChange, Published
from govbot.repo.snapshots import (
    SnapshotError,
    current_branch,
    read_git,
    read_tag,
    resolve_commit,
)


@dataclass
class DryRunForge:
    repo_path: Path
    name: str = "dry-run"

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        try:
            return read_git(self.repo_path, rev)
        except SnapshotError as e:
            raise ForgeError(
                f"{rev} of {repo} is not in the local repository {self.repo_path} ({e})",
                permanent=True,
            ) from e

    def changed_files(self, review: ReviewRef) -> list[str]:
        return []

    def default_branch(self, repo: str) -> str:
        """The local clone's checked-out branch (what ``govbot up`` serves), else main."""
        return current_branch(self.repo_path) or "main"

    def resolve(self, repo: str, rev: str) -> str:
        try:
            return resolve_commit(self.repo_path, rev)
        except SnapshotError as e:
            raise ForgeError(f"{rev} of {repo}: {e}", permanent=True) from e

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        found = read_tag(self.repo_path, tag)
        return found[0] if found is not None else pushed

    def account_id(self, login: str) -> str | None:
        """A local clone has no accounts: ids must come in the payload (GitHub's do)."""
        return None

    def post_check(self, report: CheckReport) -> str:
        return f"dry-run:check:{report.review.key}@{report.head_sha}"

    def upsert_comment(
        self, review: ReviewRef, marker: str, body: str, *, notify: Sequence[str] = ()
    ) -> str:
        return f"dry-run:comment:{review.key}"

    def labels(self, review: ReviewRef) -> frozenset[str]:
        """A local clone has no labels: every label govbot wants is recorded as to be added."""
        return frozenset()

    def edit_labels(self, review: ReviewRef, add: Sequence[str], remove: Sequence[str]) -> None:
        return None

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str:
        return f"dry-run:tag:{repo}:{tag}"

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        return f"dry-run:release:{repo}:{tag}"

    def open_change(self, change: ProposedChange) -> OpenedChange:
        return OpenedChange(0, f"dry-run:change:{change.repo}:{change.branch}", True)

    def published(self, repo: str, tag: str) -> Published:
        """A tag of the local repository (``git tag -a`` by hand, or a real forge's, fetched)."""
        try:
            found = read_tag(self.repo_path, tag)
        except SnapshotError as e:
            raise ForgeError(str(e), permanent=True) from e
        if found is None:
            raise ForgeError(f"no tag {tag} in {self.repo_path}", permanent=True)
        return Published.from_tag(tag, *found)
