"""The GitHub forge adapter: govbot's Forge protocol on top of PyGithub.

This module is the review side (reading files, check runs, comments) and the
configuration; the release side is ``github_releases.py`` and every call goes
through ``github_client.py``, which owns retries and keeps secrets out.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from github.CheckRun import CheckRun
from github.PullRequest import PullRequest
from github.Repository import Repository

from govbot.core.events import ReviewRef
from govbot.core.layout import GOVERNED_DIRS, PRODUCTS_DIR, is_governed
from govbot.forges.base import Annotation, CheckReport, ForgeError, forge_timeout
from govbot.forges.github_client import (
    DEFAULT_API_URL,
    AmbiguousWrite,
    GitHubClient,
    GitHubError,
)
from govbot.forges.github_releases import GitHubReleases

log = logging.getLogger(__name__)

ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per check-run create/update
_SUMMARY_LIMIT = 65535  # GitHub rejects longer check-run summaries
COMMENT_LIMIT = 65536  # GitHub: "Body is too long (maximum is 65536 characters)", a 422
FILES_CAP = 3000  # GitHub: "Responses include a maximum of 3000 files" (pull request files)
CHECKS_REFUSAL_MEMORY = 3600.0  # seconds a refused check-run creation is not asked again
_CLIPPED = "\n\n… (clipped: the report is longer than GitHub allows in a comment)"
_BLOB_CACHE_SIZE = 4096
_FILE_MODES = ("100644", "100755")  # regular files; symlinks and submodules are never read


_SHA = re.compile(r"[0-9a-f]{40}")


class GitHubForge(GitHubReleases, GitHubClient):
    """govbot's Forge on GitHub (github.com or GitHub Enterprise), as a token or a GitHub App installation."""

    name = "github"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GitHubForge | None:
        """The forge configured by GOVBOT_GITHUB_* variables, or None when none are set."""
        token = environ.get("GOVBOT_GITHUB_TOKEN") or None
        key = environ.get("GOVBOT_GITHUB_PRIVATE_KEY") or None
        key_file = environ.get("GOVBOT_GITHUB_PRIVATE_KEY_FILE") or None
        app_id = environ.get("GOVBOT_GITHUB_APP_ID") or None
        installation_id = environ.get("GOVBOT_GITHUB_INSTALLATION_ID") or None
        if not (token or key or key_file or app_id or installation_id):
            return None
        if key is None and key_file:
            key = Path(key_file).read_text(encoding="utf-8")
        if key and "\n" not in key:
            key = key.replace("\\n", "\n")  # a PEM squeezed onto one line of an env file
        return cls(
            environ.get("GOVBOT_GITHUB_API_URL") or DEFAULT_API_URL,
            token=token,
            app_id=_int_env("GOVBOT_GITHUB_APP_ID", app_id),
            private_key=key,
            installation_id=_int_env("GOVBOT_GITHUB_INSTALLATION_ID", installation_id),
            # GitHub asks integrations to space their requests; only a local forge may opt out
            throttle=environ.get("GOVBOT_GITHUB_THROTTLE", "").strip().lower() not in ("0", "off"),
            timeout=round(forge_timeout(environ)),
        )

    def __repr__(self) -> str:
        auth = "token" if self._app_id is None else f"app {self._app_id}"
        return f"GitHubForge({self._base_url!r}, auth={auth})"

    # -- reading -------------------------------------------------------------

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        """Governed files at ``rev``; blobs are cached by sha, so base and head share unchanged files."""
        r = self._repo(repo)
        tree = self._call(f"tree {repo}@{rev}", lambda: r.get_git_tree(rev, recursive=True))
        if tree.truncated:  # a huge repo: list only the directories govbot reads
            entries = self._walk_governed(r, repo, rev)
        else:
            entries = [(e.path, e.mode, e.type, e.sha) for e in tree.tree]
        files: dict[str, bytes] = {}
        for path, mode, kind, sha in sorted(entries):
            if kind == "blob" and mode in _FILE_MODES and is_governed(path):
                files[path] = self._blob(r, repo, sha)
        return files

    def _walk_governed(self, r: Repository, repo: str, rev: str) -> list[tuple[str, str, str, str]]:
        dirs = [d for d in GOVERNED_DIRS if d]

        def descend(path: str) -> bool:  # the governed directories, and all of products/
            return path.split("/")[0] == PRODUCTS_DIR or any(
                d == path or d.startswith(path + "/") for d in dirs
            )

        return self._walk(r, repo, rev, descend)

    def _walk(
        self, r: Repository, repo: str, rev: str, descend: Callable[[str], bool]
    ) -> list[tuple[str, str, str, str]]:
        """(path, mode, type, sha) of the entries under ``rev``, one tree at a time, entering
        the directories ``descend`` accepts: for trees too big for one recursive listing."""
        entries: list[tuple[str, str, str, str]] = []
        pending = [("", rev)]
        while pending:
            prefix, sha = pending.pop()
            tree = self._call(f"tree {repo}:{prefix or '/'}", partial(r.get_git_tree, sha))
            for e in tree.tree:
                path = prefix + e.path
                if e.type == "tree" and descend(path):
                    pending.append((path + "/", e.sha))
                entries.append((path, e.mode, e.type, e.sha))
        return entries

    def _blob(self, r: Repository, repo: str, sha: str) -> bytes:
        if sha in self._blobs:
            self._blobs.move_to_end(sha)
            return self._blobs[sha]
        blob = self._call(f"blob {repo}@{sha}", lambda: r.get_git_blob(sha))
        data = (
            base64.b64decode(blob.content) if blob.encoding == "base64" else blob.content.encode()
        )
        self._blobs[sha] = data
        if len(self._blobs) > _BLOB_CACHE_SIZE:
            self._blobs.popitem(last=False)
        return data

    def default_branch(self, repo: str) -> str:
        if repo not in self._default_branches:
            r = self._repo(repo)
            self._default_branches[repo] = self._call(f"repo {repo}", lambda: r.default_branch)
        return self._default_branches[repo]

    def resolve(self, repo: str, rev: str) -> str:
        """A sha stays itself; a branch is read through its ref (GET git/ref/heads/{b})."""
        if _SHA.fullmatch(rev):
            return rev
        r = self._repo(repo)
        branch = rev.removeprefix("refs/heads/")
        return str(
            self._call(f"ref {repo}@{branch}", lambda: r.get_git_ref(f"heads/{branch}").object.sha)
        )

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        """GitHub's push event already names the commit (``head_commit``) of a new tag."""
        return pushed

    def account_id(self, login: str) -> str | None:
        """GET /users/{login}: the user's id, which stays when the login is renamed."""
        try:
            user = self._call(f"user {login}", lambda: self._gh.get_user(login))
            return str(self._call(f"user {login}", lambda: user.id))
        except GitHubError as e:
            if e.status == 404:
                return None
            raise

    def changed_files(self, review: ReviewRef) -> list[str]:
        """Paths the PR touches; a rename contributes both its old and its new path.

        GitHub's file list stops at 3,000 files without saying so; at the cap
        the list is not trusted and the two trees are compared instead.
        """
        pull = self._repo(review.repo).get_pull(_number(review))

        def paths() -> list[str]:
            names: list[str] = []
            for f in pull.get_files():
                names += [f.filename, *([f.previous_filename] if f.previous_filename else [])]
            return names

        names = self._call(f"files of {review.key}", paths)
        if len(names) >= FILES_CAP:
            names = self._changed_by_trees(review, pull)
        return list(dict.fromkeys(names))

    def _changed_by_trees(self, review: ReviewRef, pull: PullRequest) -> list[str]:
        """Every path that differs between the merge base and the head (what the PR's diff is)."""
        r = self._repo(review.repo)
        head = self._call(f"head of {review.key}", lambda: pull.head.sha)
        base = self._call(f"base of {review.key}", lambda: pull.base.sha)
        merge_base = self._call(
            f"merge base of {review.key}", lambda: r.compare(base, head).merge_base_commit.sha
        )
        log.info("%s lists %d+ files: comparing the trees instead", review.key, FILES_CAP)
        old, new = (self._flat_tree(r, review.repo, sha) for sha in (merge_base, head))
        return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))

    def _flat_tree(self, r: Repository, repo: str, rev: str) -> dict[str, tuple[str, str]]:
        """path -> (mode, sha) of every non-directory entry at ``rev``."""
        tree = self._call(f"tree {repo}@{rev}", lambda: r.get_git_tree(rev, recursive=True))
        if tree.truncated:  # too big for one listing: walk it
            entries = self._walk(r, repo, tree.sha, lambda _: True)
        else:
            entries = [(e.path, e.mode, e.type, e.sha) for e in tree.tree]
        return {path: (mode, sha) for path, mode, kind, sha in entries if kind != "tree"}

    # -- reporting -----------------------------------------------------------

    def post_check(self, report: CheckReport) -> str:
        """A check run (GitHub App), or a commit status where check runs are not allowed (plain token).

        Only a 403 that is about permission ("You must authenticate via a
        GitHub App", "Resource not accessible by integration") means the token
        cannot create check runs. A rate limit also answers 403, and falling
        back then would post statuses where required checks are expected: it
        is raised for the worker to retry. Even a real refusal is only
        remembered for a while: an App can be granted the permission later.
        """
        r = self._repo(report.review.repo)
        if time.monotonic() >= self._checks_forbidden_until:
            try:
                return self._post_check_run(r, report)
            except GitHubError as e:
                if e.status != 403 or e.rate_limited:
                    raise
                log.info("%s; reporting %s as a commit status instead", e, report.name)
                self._checks_forbidden_until = time.monotonic() + CHECKS_REFUSAL_MEMORY
        state = {"failure": "failure", "pending": "pending"}.get(report.conclusion, "success")
        commit = r.get_commit(report.head_sha)
        description = _clip(report.title, 140)
        self._call(
            f"status {report.name} on {report.head_sha}",
            lambda: commit.create_status(state=state, description=description, context=report.name),
        )
        return f"status:{report.name}"

    def _post_check_run(self, r: Repository, report: CheckReport) -> str:
        notes = [_annotation(a) for a in report.annotations]
        step = ANNOTATIONS_PER_REQUEST
        batches = [notes[i : i + step] for i in range(0, len(notes), step)] or [[]]
        title, summary = _clip(report.title, 255), _clip(report.summary, _SUMMARY_LIMIT)
        outputs = [{"title": title, "summary": summary, "annotations": b} for b in batches]
        what = f"check run {report.name} on {report.head_sha}"
        run = self._existing_run(r, report)
        pending = report.conclusion == "pending"  # a vote still open: in progress, no conclusion
        if run is not None and (run.conclusion, run.output.title, run.output.summary) == (
            None if pending else report.conclusion, title, summary
        ) and (run.output.annotations_count or 0) == len(notes):  # fmt: skip
            return str(run.id)  # a retried event: already posted
        done: dict[str, Any] = {"status": "in_progress"}
        if not pending:
            done = {"status": "completed", "conclusion": report.conclusion}
            done["completed_at"] = datetime.now(UTC)
        if run is None or run.output.annotations_count:
            # GitHub only appends annotations, so a run that has some cannot be corrected: replace it.
            create = partial(r.create_check_run, report.name, report.head_sha, **done)
            try:
                run = self._call(what, partial(create, output=outputs[0]), idempotent=False)
            except AmbiguousWrite:
                # A timeout or 5xx after the POST: the run may exist. Look it up (head sha +
                # name) before creating again; if it is there, complete it in place.
                made = self._existing_run(r, report)
                if made is None or (run is not None and made.id == run.id):
                    raise  # not created: the worker's retry creates it (looking first again)
                log.info("%s: created despite the failed answer; completing it", what)
                run = made
                self._call(what, partial(run.edit, output=outputs[0], **done))
        else:
            self._call(what, partial(run.edit, output=outputs[0], **done))
        for output in outputs[1:]:
            self._call(what, partial(run.edit, output=output))
        return str(run.id)

    def _existing_run(self, r: Repository, report: CheckReport) -> CheckRun | None:
        """Our latest check run of this name on this commit (another app's is not ours to edit)."""
        commit = r.get_commit(report.head_sha)
        runs = self._call(
            f"check runs on {report.head_sha}",
            lambda: list(commit.get_check_runs(check_name=report.name)),
        )
        ours = [
            run for run in runs if self._app_id is None or (run.app and run.app.id == self._app_id)
        ]
        return max(ours, key=lambda run: run.id, default=None)

    def upsert_comment(
        self, review: ReviewRef, marker: str, body: str, *, notify: Sequence[str] = ()
    ) -> str:
        """Edit govbot's comment (the one that starts with ``marker``) or post it; never a second one.

        A body over GitHub's limit is clipped with a note, as the check-run
        summary is: a 422 would lose the whole report. ``notify`` needs nothing more:
        the body's @mentions of those logins notify them.
        """
        issue = self._repo(review.repo).get_issue(_number(review))
        text = _comment_text(marker, body)

        def find() -> Any:
            return next(
                (c for c in issue.get_comments() if (c.body or "").startswith(marker)), None
            )

        comment = self._call(f"comments of {review.key}", find)
        if comment is None:
            try:
                comment = self._call(
                    f"comment on {review.key}", lambda: issue.create_comment(text), idempotent=False
                )
            except AmbiguousWrite:  # posted or not? look before posting again
                comment = self._call(f"comments of {review.key}", find)
                if comment is None:
                    raise
        elif comment.body != text:
            existing = comment
            self._call(f"comment {comment.id} on {review.key}", lambda: existing.edit(text))
        return str(comment.id)

    # -- labels --------------------------------------------------------------

    def labels(self, review: ReviewRef) -> frozenset[str]:
        """GET /repos/{o}/{r}/issues/{n}/labels: "Every pull request is an issue", and labels
        of both are managed through the Issues endpoints (GitHub REST, "Labels")."""
        issue = self._repo(review.repo).get_issue(_number(review))
        names = self._call(
            f"labels of {review.key}", lambda: [label.name for label in issue.get_labels()]
        )
        return frozenset(names)

    def edit_labels(self, review: ReviewRef, add: Sequence[str], remove: Sequence[str]) -> None:
        """POST .../labels adds (GitHub creates a label the repository lacks, github/docs#35718);
        DELETE .../labels/{name} removes one, and "returns a 404 Not Found status if the label
        does not exist" on the issue: already gone is what was asked, so it is not an error."""
        issue = self._repo(review.repo).get_issue(_number(review))
        if add:
            self._call(f"add labels to {review.key}", lambda: issue.add_to_labels(*add))
        for name in remove:
            try:
                self._call(
                    f"remove label {name} from {review.key}",
                    partial(issue.remove_from_labels, name),
                )
            except GitHubError as e:
                if e.status != 404:
                    raise


def _comment_text(marker: str, body: str) -> str:
    text = f"{marker}\n{body}"
    if len(text) <= COMMENT_LIMIT:
        return text
    return text[: COMMENT_LIMIT - len(_CLIPPED)] + _CLIPPED


def _annotation(a: Annotation) -> dict[str, Any]:
    line = max(a.line, 1)  # GitHub needs a line; whole-file findings go on the first
    return {
        "path": a.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": a.level,
        "title": _clip(a.title, 255),
        "message": _clip(a.message, 64000),
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(review: ReviewRef) -> int:
    if review.forge != "github" or not review.number.isdigit():
        raise ForgeError(f"{review.key} is not a GitHub pull request", permanent=True)
    return int(review.number)


def _int_env(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a number")
    return int(value)
