"""The GitHub forge adapter: govbot's Forge protocol on top of PyGithub.

Every GitHub call goes through ``_call``, which owns retrying: 5xx and rate
limits are retried with backoff (honouring Retry-After and X-RateLimit-Reset)
through an injected ``sleep``, so tests never wait; anything still failing
becomes a ``ForgeError`` the worker can reschedule (``retry_after``) or give
up on (``permanent``). PyGithub's own retrying is switched off so there is
exactly one policy. Secrets (the token, the App's private key, installation
tokens) are kept out of reprs, exception messages and PyGithub's debug logs.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.CheckRun import CheckRun
from github.GitRelease import GitRelease
from github.GitReleaseAsset import GitReleaseAsset
from github.InputGitTreeElement import InputGitTreeElement
from github.PullRequest import PullRequest
from github.Repository import Repository

from govbot.core.events import ReviewRef
from govbot.forges.base import (
    Annotation,
    CheckReport,
    ForgeError,
    OpenedChange,
    ProposedChange,
    Published,
)
from govbot.snapshots import GOVERNED_DIRS, is_governed

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 60.0  # never sleep longer than this in one go; beyond it the worker reschedules
ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per check-run create/update
_SUMMARY_LIMIT = 65535  # GitHub rejects longer check-run summaries
_BLOB_CACHE_SIZE = 4096
_FILE_MODES = ("100644", "100755")  # regular files; symlinks and submodules are never read
_ASSET_TYPES = {".txt": "text/plain", ".md": "text/plain", ".json": "application/json",
                ".yaml": "text/yaml", ".html": "text/html"}  # fmt: skip


class GitHubError(ForgeError):
    """A ForgeError that remembers the HTTP status (None for a network failure)."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


class GitHubForge:
    """govbot's Forge on GitHub (github.com or GitHub Enterprise), as a token or a GitHub App installation."""

    name = "github"

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        token: str | None = None,
        app_id: int | None = None,
        private_key: str | None = None,
        installation_id: int | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], object] = time.sleep,
        *,
        throttle: bool = True,
    ) -> None:
        """``throttle=False`` drops PyGithub's pause between requests (for tests against a local fake)."""
        self._secrets = tuple(s for s in (token, private_key) if s)
        _REDACT.secrets.update(self._secrets)
        self._base_url = base_url
        self._app_id = app_id if token is None else None
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._checks_forbidden = False  # a plain token cannot create check runs: use statuses
        self._gh = Github(
            base_url=base_url,
            auth=_auth(token, app_id, private_key, installation_id),
            retry=None,
            lazy=True,  # objects are fetched when read, so every fetch happens inside _call
            seconds_between_requests=0.25 if throttle else None,
            seconds_between_writes=1.0 if throttle else None,
        )

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
        entries: list[tuple[str, str, str, str]] = []
        pending = [("", rev)]
        while pending:
            prefix, sha = pending.pop()
            tree = self._call(f"tree {repo}:{prefix or '/'}", partial(r.get_git_tree, sha))
            for e in tree.tree:
                path = prefix + e.path
                if e.type == "tree" and any(d == path or d.startswith(path + "/") for d in dirs):
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

    def changed_files(self, review: ReviewRef) -> list[str]:
        """Paths the PR touches; a rename contributes both its old and its new path."""
        pull = self._repo(review.repo).get_pull(_number(review))

        def paths() -> list[str]:
            names: list[str] = []
            for f in pull.get_files():
                names += [f.filename, *([f.previous_filename] if f.previous_filename else [])]
            return list(dict.fromkeys(names))

        return self._call(f"files of {review.key}", paths)

    # -- reporting -----------------------------------------------------------

    def post_check(self, report: CheckReport) -> str:
        """A check run (GitHub App), or a commit status where check runs are not allowed (plain token)."""
        r = self._repo(report.review.repo)
        if not self._checks_forbidden:
            try:
                return self._post_check_run(r, report)
            except GitHubError as e:
                if e.status != 403:
                    raise
                log.info("%s; reporting %s as a commit status instead", e, report.name)
                self._checks_forbidden = True
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
            run = self._call(what, partial(create, output=outputs[0]))
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

    def upsert_comment(self, review: ReviewRef, marker: str, body: str) -> str:
        """Edit govbot's comment (the one that starts with ``marker``) or post it; never a second one."""
        issue = self._repo(review.repo).get_issue(_number(review))
        text = f"{marker}\n{body}"

        def find() -> Any:
            return next(
                (c for c in issue.get_comments() if (c.body or "").startswith(marker)), None
            )

        comment = self._call(f"comments of {review.key}", find)
        if comment is None:
            comment = self._call(f"comment on {review.key}", lambda: issue.create_comment(text))
        elif comment.body != text:
            existing = comment
            self._call(f"comment {comment.id} on {review.key}", lambda: existing.edit(text))
        return str(comment.id)

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str:
        """An annotated tag on ``sha``; idempotent, and it never moves an existing tag."""
        r = self._repo(repo)
        ref = f"refs/tags/{tag}"
        current = self._tag_target(r, repo, tag)
        if current is None:
            obj = self._call(
                f"tag object {tag}", lambda: r.create_git_tag(tag, message, sha, "commit")
            )
            try:
                self._call(f"create {ref} in {repo}", lambda: r.create_git_ref(ref, obj.sha))
                return ref
            except GitHubError as e:
                if e.status != 422:  # 422: someone created it meanwhile
                    raise
                current = self._tag_target(r, repo, tag)
        if current != sha:
            raise ForgeError(
                f"tag {tag} in {repo} is on {current}, not {sha}; govbot never moves a tag",
                permanent=True,
            )
        return ref

    def _tag_target(self, r: Repository, repo: str, tag: str) -> str | None:
        """The commit a tag points at (through annotated tag objects), or None if there is no such tag."""
        try:
            obj = self._call(
                f"ref tags/{tag} in {repo}", lambda: r.get_git_ref(f"tags/{tag}").object
            )
        except GitHubError as e:
            if e.status == 404:
                return None
            raise
        kind, target = obj.type, obj.sha
        for _ in range(5):
            if kind != "tag":
                break
            tag_obj = self._call(f"tag object {target} in {repo}", partial(r.get_git_tag, target))
            kind, target = tag_obj.object.type, tag_obj.object.sha
        return target

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        """The release of the existing ``tag`` with ``assets``; returns its id.

        Safe to call again after a crash at any point: an existing release is
        completed (only missing assets are uploaded), never duplicated, and a
        published asset is never replaced.
        """
        r = self._repo(repo)
        if self._tag_target(r, repo, tag) is None:
            # GitHub would create a lightweight tag on the default branch: never release that
            raise ForgeError(f"tag {tag} does not exist in {repo}; tag it first", permanent=True)
        release = self._release(r, repo, tag)
        if release is None:
            try:
                release = self._call(
                    f"create release {tag} in {repo}", lambda: r.create_git_release(tag, name, body)
                )
            except GitHubError as e:
                if e.status != 422:  # 422 already_exists: another worker created it meanwhile
                    raise
                release = self._release(r, repo, tag)
                if release is None:
                    raise
        published = self._asset_sizes(release, repo, tag)
        for asset, data in assets.items():
            if asset not in published:
                try:
                    self._upload(release, repo, tag, asset, data)
                    continue
                except GitHubError as e:
                    if e.status != 422:  # 422: it is there after all (a lost answer, a race)
                        raise
                    published = self._asset_sizes(release, repo, tag)
                    if asset not in published:
                        raise
            if published.get(asset) != len(data):
                raise ForgeError(
                    f"release {tag} in {repo} already has {asset} of {published.get(asset)} "
                    f"bytes, not {len(data)}; govbot never replaces a published asset",
                    permanent=True,
                )
        return str(release.id)

    def _release(self, r: Repository, repo: str, tag: str) -> GitRelease | None:
        try:
            return self._call(f"release {tag} in {repo}", lambda: r.get_release(tag))
        except GitHubError as e:
            if e.status == 404:
                return None
            raise

    def _asset_sizes(self, release: GitRelease, repo: str, tag: str) -> dict[str, int]:
        assets = self._call(
            f"assets of release {tag} in {repo}", lambda: list(release.get_assets())
        )
        return {a.name: a.size for a in assets}

    def _upload(self, release: GitRelease, repo: str, tag: str, asset: str, data: bytes) -> None:
        content_type = _ASSET_TYPES.get(Path(asset).suffix.lower(), "application/octet-stream")
        # The bytes themselves, not a stream: for an empty stream requests adds
        # "Transfer-Encoding: chunked" beside PyGithub's "Content-Length: 0", a
        # request no server can read (an empty must-pass list is a real asset).
        body = cast(BinaryIO, data)
        self._call(
            f"upload {asset} to release {tag} in {repo}",
            lambda: release.upload_asset_from_memory(body, len(data), asset, content_type),
        )

    # -- proposing and reading back -----------------------------------------

    def open_change(self, change: ProposedChange) -> OpenedChange:
        """A pull request of one commit on top of ``change.base``; never a second one.

        Safe to call again after a crash at any point: an open pull request of
        the branch is returned as it is; a branch left without one (a crash
        between the ref and the pull request) is moved onto the new commit.
        """
        r, repo, branch = self._repo(change.repo), change.repo, change.branch
        existing = self._open_pull(r, change)
        if existing is not None:
            return OpenedChange(existing.number, existing.html_url, created=False)
        sha = self._commit_change(r, change)
        ref = f"refs/heads/{branch}"
        try:
            self._call(f"create {ref} in {repo}", lambda: r.create_git_ref(ref, sha))
        except GitHubError as e:
            if e.status != 422:  # 422: the branch is left from an attempt that never opened its PR
                raise
            self._call(
                f"move {ref} in {repo}",
                # fetched first: the lazy ref's URL is the read-only /git/ref/ one
                lambda: r.get_git_ref(f"heads/{branch}").complete().edit(sha, force=True),
            )
        body = change.message.split("\n", 1)[1].strip() if "\n" in change.message else ""
        try:
            pull = self._call(
                f"open pull request {branch} -> {change.base} in {repo}",
                lambda: r.create_pull(change.base, branch, title=change.title, body=body),
            )
        except GitHubError as e:
            if e.status != 422:  # 422: another worker opened it meanwhile (or a lost answer)
                raise
            existing = self._open_pull(r, change)
            if existing is None:
                raise
            return OpenedChange(existing.number, existing.html_url, created=False)
        return OpenedChange(pull.number, pull.html_url, created=True)

    def _open_pull(self, r: Repository, change: ProposedChange) -> PullRequest | None:
        head = f"{change.repo.split('/', 1)[0]}:{change.branch}"
        pulls = self._call(
            f"pull requests of {head} in {change.repo}",
            lambda: list(r.get_pulls(state="open", head=head, base=change.base)),
        )
        return min(pulls, key=lambda p: p.number, default=None)

    def _commit_change(self, r: Repository, change: ProposedChange) -> str:
        """The commit (not yet on any branch) setting ``change.files`` on the head of its base."""
        repo, base = change.repo, change.base
        parent = self._call(
            f"ref heads/{base} in {repo}", lambda: r.get_git_ref(f"heads/{base}").object.sha
        )
        commit = self._call(f"commit {parent} in {repo}", partial(r.get_git_commit, parent))
        listing = self._call(
            f"tree {repo}@{parent}", partial(r.get_git_tree, commit.tree.sha, recursive=True)
        )
        # GitHub refuses to delete a path the tree lacks; an executable file stays executable
        modes = None if listing.truncated else {e.path: e.mode for e in listing.tree}
        elements: list[InputGitTreeElement] = []
        for path, data in sorted(change.files.items()):
            mode = (modes or {}).get(path, "100644")
            if data is None:
                if modes is None or path in modes:
                    elements.append(InputGitTreeElement(path, mode, "blob", sha=None))
                continue
            content = base64.b64encode(data).decode("ascii")  # any bytes, not only UTF-8
            blob = self._call(
                f"blob {path} in {repo}", partial(r.create_git_blob, content, "base64")
            )
            elements.append(InputGitTreeElement(path, mode, "blob", sha=blob.sha))
        tree = self._call(
            f"tree for {change.branch} in {repo}",
            partial(r.create_git_tree, elements, base_tree=commit.tree),
        )
        created = self._call(
            f"commit for {change.branch} in {repo}",
            partial(r.create_git_commit, change.message, tree, [commit]),
        )
        return created.sha

    def published(self, repo: str, tag: str) -> Published:
        """The commit ``tag`` is on and the bytes of its release's assets (none without a release)."""
        r = self._repo(repo)
        sha = self._tag_target(r, repo, tag)
        if sha is None:
            raise ForgeError(f"tag {tag} does not exist in {repo}", permanent=True)
        release = self._release(r, repo, tag)
        if release is None:
            return Published(tag, sha, {})
        assets = self._call(
            f"assets of release {tag} in {repo}", lambda: list(release.get_assets())
        )
        return Published(tag, sha, {a.name: self._download(a, repo, tag) for a in assets})

    def _download(self, asset: GitReleaseAsset, repo: str, tag: str) -> bytes:
        def fetch() -> bytes:
            try:  # GitHub answers with a redirect to the storage, which PyGithub follows
                _, _, chunks = asset.download_asset(chunk_size=1 << 16)
                return b"".join(chunks)
            except requests.HTTPError as e:  # the stream's errors are not GithubExceptions
                if e.response is None:
                    raise
                answer = e.response
                raise GithubException(
                    answer.status_code, {"message": answer.reason}, dict(answer.headers)
                ) from None

        return self._call(f"asset {asset.name} of release {tag} in {repo}", fetch)

    # -- plumbing ------------------------------------------------------------

    def _repo(self, full_name: str) -> Repository:
        return self._gh.get_repo(full_name)  # lazy: no request until something is read

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retrying transient failures; any failure becomes a GitHubError.

        Writes are retried too. A 5xx rarely hides a write that succeeded; if
        one did, a retried comment or check run could appear twice (a tag
        cannot: its ref answers 422 and is looked up again).
        """
        attempt = 0
        while True:
            try:
                return fn()
            except GithubException as e:
                status: int | None = e.status
                transient, wait = _transient(e)
                message = f"GitHub {what}: HTTP {e.status} {_message(e)}".rstrip()
            except requests.RequestException as e:
                status, transient, wait = None, True, None
                message = f"GitHub {what}: {type(e).__name__}"
            message = _redact(message, self._secrets)
            if not transient:
                raise GitHubError(
                    message, status=status, permanent=status is not None and status < 500
                )
            delay = wait if wait is not None else min(self._backoff * 2**attempt, MAX_WAIT)
            if attempt >= self._retries or delay > MAX_WAIT:
                raise GitHubError(
                    f"{message} (gave up)", status=status, retry_after=max(delay, 1.0)
                )
            attempt += 1
            log.warning("%s; retry %d/%d in %.1fs", message, attempt, self._retries, delay)
            self._sleep(delay)


def _transient(e: GithubException) -> tuple[bool, float | None]:
    """Whether to retry, and the wait the server asked for (None: use backoff)."""
    headers = {k.lower(): str(v) for k, v in (e.headers or {}).items()}
    retry_after = _retry_after(headers.get("retry-after"))
    if e.status >= 500 or e.status == 429:
        return True, retry_after
    if e.status == 403:
        if retry_after is not None:
            return True, retry_after
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            return True, max(0.0, int(reset) - time.time()) + 1.0  # +1: the clocks may disagree
        if isinstance(e, RateLimitExceededException):
            return True, MAX_WAIT  # a secondary limit without a header: GitHub says wait a minute
    return False, None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(e: GithubException) -> str:
    data = e.data if isinstance(e.data, dict) else {}
    return str(e.message or data.get("message") or "")


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


def _auth(
    token: str | None, app_id: int | None, private_key: str | None, installation_id: int | None
) -> Auth.Auth:
    app = (app_id, private_key, installation_id)
    if token and any(v is not None for v in app):
        raise ValueError("configure GitHub with a token or with a GitHub App, not both")
    if token:
        return Auth.Token(token)
    if app_id is None or private_key is None or installation_id is None:
        raise ValueError("GitHub needs a token, or an App id, private key and installation id")
    app_auth = Auth.AppAuth(app_id, private_key)
    try:
        app_auth.create_jwt()  # fail at start-up, not on the first event
    except Exception:
        raise ValueError(
            "the GitHub App private key cannot sign a JWT (expected a PEM RSA key)"
        ) from None
    return app_auth.get_installation_auth(installation_id)


_PATTERNS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{16,}"
    r'|(?<="token": ")[^"]+',
    re.DOTALL,
)


def _redact(text: str, secrets: tuple[str, ...] | set[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return _PATTERNS.sub("***", text)


class _Redact(logging.Filter):
    """PyGithub's DEBUG log prints response bodies, installation tokens included: scrub them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REDACT = _Redact()
for _name in ("github", "github.Requester", "github.GithubRetry", __name__):
    logging.getLogger(_name).addFilter(_REDACT)
