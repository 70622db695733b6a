"""A small harness for attacks on the vote, through the real receiver, worker and clock.

``tests/test_vote_scenario.py`` is the model: its :class:`Bot` (the real
webhook app behind a TestClient, a real Worker and Clock on the ``engine``
fixture, a clock the test moves) is used as it is. What attacks add is here:

* :class:`Git`, a scratch repository whose branches and commits a module
  builds once (``commit`` edits files on top of a revision and returns the
  new commit id, leaving no branch moved unless asked);
* GitHub payloads in which the **sender** (who acted) differs from the
  author of the comment or review, with explicit ids and times, each built by
  ``minimal_payload`` so it validates against GitHub's webhook schema;
* readers of what govbot did: the stored vote state, the latest vote report,
  the audit log.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from govbot.core.yamlio import dump, parse_bytes
from govbot.repo.snapshots import read_directory
from govbot.store.models import AuditEntry, ReportRow
from tests.conftest import REPO
from tests.fakes.github_schema import minimal_payload
from tests.test_vote_scenario import GITHUB_IDS, SECRET, T0, Bot, iso

__all__ = ["SECRET", "T0", "Bot", "iso"]  # re-exported from the vote scenario

PROJECT = "governance/guidelines"


class Git:
    """A scratch clone of this repository's governed files, main at the first commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for rel, raw in read_directory(REPO).items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_bytes(raw)
        self("init", "-q", "-b", "main")
        self("add", "-A")
        self("commit", "-q", "-m", "base")
        self.base = self("rev-parse", "HEAD")

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=self.path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(
        self,
        parent: str,
        message: str,
        edit: Callable[[Path], None],
        branch: str | None = None,
    ) -> str:
        """A commit on ``parent`` whose tree is ``edit``'s work; ``branch`` is set to it."""
        self("checkout", "-q", "--detach", parent)
        edit(self.path)
        self("add", "-A")
        self("commit", "-q", "--allow-empty", "-m", message)
        sha = self("rev-parse", "HEAD")
        self("checkout", "-q", "--detach", self.base)
        if branch is not None:
            self.set_branch(branch, sha)
        return sha

    def same_tree(self, like: str, parent: str, message: str) -> str:
        """Another commit with exactly ``like``'s tree (a rebase that changed nothing)."""
        return self("commit-tree", f"{like}^{{tree}}", "-p", parent, "-m", message)

    def merge(self, first: str, second: str, message: str = "Merge") -> str:
        """The merge commit of two revisions (no branch moves), as a forge would make it."""
        self("checkout", "-q", "--detach", first)
        self("merge", "-q", "--no-ff", "--no-edit", "-m", message, second)
        sha = self("rev-parse", "HEAD")
        self("checkout", "-q", "--detach", self.base)
        return sha

    def set_branch(self, branch: str, sha: str) -> None:
        self("update-ref", f"refs/heads/{branch}", sha)


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Load a YAML file, let ``change`` mutate its data, write it back."""
    data = parse_bytes(path.name, path.read_bytes()).data
    change(data)
    path.write_text(dump(data))


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


# -- GitHub payloads (each validated against GitHub's webhook schema) ------------------------


def user(login: str, account: int | None = None) -> dict[str, Any]:
    """A GitHub user: ``account`` overrides the id (another account with the same login)."""
    return {"login": login, "id": GITHUB_IDS.get(login, 9999) if account is None else account}


def repository(default_branch: str = "main") -> dict[str, Any]:
    return {"full_name": PROJECT, "default_branch": default_branch}


def github_pull(
    action: str,
    number: int,
    base: str,
    head: str,
    at: datetime,
    *,
    branch: str = "main",
    default_branch: str = "main",
    draft: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    fields = {"number": number, "title": f"Change {number}", "updated_at": iso(at), "draft": draft,
              "user": user("contributor"), "base": {"ref": branch, "sha": base},
              "head": {"ref": f"topic-{number}", "sha": head}, **extra}  # fmt: skip
    return minimal_payload("pull_request", action, {
        "number": number, "pull_request": fields, "sender": user("contributor"),
        "repository": repository(default_branch),
    })  # fmt: skip


def github_merged(
    number: int, base: str, head: str, merge_sha: str, at: datetime, **kw: Any
) -> dict[str, Any]:
    return github_pull(
        "closed", number, base, head, at, merged=True, merge_commit_sha=merge_sha,
        closed_at=iso(at), **kw,
    )  # fmt: skip


def github_review(
    action: str,
    number: int,
    voter: dict[str, Any],
    state: str,
    commit: str,
    at: datetime,
    review_id: int,
    sender: dict[str, Any] | None = None,
    default_branch: str = "main",
) -> dict[str, Any]:
    """A review ``submitted`` (or ``dismissed``) by ``voter``; ``sender`` acted (default: the voter)."""
    return minimal_payload("pull_request_review", action, {
        "review": {"id": review_id, "state": state, "user": voter, "commit_id": commit,
                   "submitted_at": iso(at)},
        "sender": sender or voter,
        "pull_request": {"number": number},
        "repository": repository(default_branch),
    })  # fmt: skip


def github_comment(
    action: str,
    number: int,
    author: dict[str, Any],
    body: str,
    at: datetime,
    comment_id: int,
    sender: dict[str, Any] | None = None,
    before: str | None = None,
    default_branch: str = "main",
    on_pull: bool = True,
) -> dict[str, Any]:
    """An issue comment ``created``/``edited``/``deleted``; ``sender`` acted (default: the author)."""
    issue: dict[str, Any] = {"number": number}
    if on_pull:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{PROJECT}/pulls/{number}"}
    overrides: dict[str, Any] = {
        "comment": {"id": comment_id, "body": body, "user": author, "created_at": iso(at),
                    "updated_at": iso(at)},
        "sender": sender or author,
        "issue": issue,
        "repository": repository(default_branch),
    }  # fmt: skip
    if action == "edited":
        overrides["changes"] = {"body": {"from": before or ""}}
    return minimal_payload("issue_comment", action, overrides)


# -- what govbot did -------------------------------------------------------------------------


def audit(bot: Bot, action: str, subject: str | None = None) -> list[dict[str, Any]]:
    """The audit log's entries of one kind (about one subject), oldest first."""
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    with bot.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def reports(bot: Bot, key: str, kind: str | None = None) -> list[str]:
    """Every body govbot posted (or would have) on a review, oldest first."""
    query = select(ReportRow.body).where(ReportRow.review_key == key).order_by(ReportRow.id)
    if kind is not None:
        query = query.where(ReportRow.kind == kind)
    with bot.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(query)]


def key_of(number: int) -> str:
    return f"github:{PROJECT}#{number}"


def files_of(mapping: Mapping[str, bytes], root: Path) -> None:
    """Write a snapshot's files (None deletes) under ``root``."""
    for rel, raw in mapping.items():
        target = root / rel
        if raw is None:
            if target.exists():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
