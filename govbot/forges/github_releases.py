"""The release side of GitHubForge: tags, releases and their assets, and the pull request.

A mixin, apart from the review side in ``github.py`` because a release is its
own workflow: tag, publish, propose the next one (``ProposedChange``, a release)
and read back what was published, each safe to redo after a crash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import BinaryIO, cast

import requests
from github import GithubException
from github.GitRelease import GitRelease
from github.GitReleaseAsset import GitReleaseAsset
from github.InputGitTreeElement import InputGitTreeElement
from github.PullRequest import PullRequest
from github.Repository import Repository

from govbot.forges.base import ForgeError, OpenedChange, ProposedChange, Published
from govbot.forges.github_client import GitHubClient, GitHubError

_ASSET_TYPES = {".txt": "text/plain", ".md": "text/plain", ".json": "application/json",
                ".yaml": "text/yaml", ".html": "text/html"}  # fmt: skip


class GitHubReleases(GitHubClient):
    """GitHubForge's create_tag, publish_release, open_change and published."""

    # -- tagging and releasing ------------------------------------------------

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
        published = self._assets(release, repo, tag)
        for asset, data in assets.items():
            if asset not in published:
                try:
                    self._upload(release, repo, tag, asset, data)
                    continue
                except GitHubError as e:
                    if e.status != 422:  # 422: it is there after all (a lost answer, a race)
                        raise
                    published = self._assets(release, repo, tag)
                    if asset not in published:
                        raise
            self._same_asset(published[asset], data, repo, tag)
        return str(release.id)

    def _same_asset(self, found: GitReleaseAsset, data: bytes, repo: str, tag: str) -> None:
        """A published asset must be the very bytes govbot would upload, or publishing fails.

        GitHub gives each uploaded asset a ``digest`` (``sha256:<hex>``, computed
        by GitHub at upload); an asset without one (uploaded before GitHub had
        digests) of the right size is downloaded and compared. A planted asset
        of the right size but other content is never taken for the committee's.
        """
        expected = "sha256:" + hashlib.sha256(data).hexdigest()
        digest = found.digest
        if found.size == len(data) and (
            digest == expected
            if digest
            else hashlib.sha256(self._download(found, repo, tag)).hexdigest() == expected[7:]
        ):
            return
        what = f"{found.size} bytes" if found.size != len(data) else f"SHA-256 {digest or 'other'}"
        raise ForgeError(
            f"release {tag} in {repo} already has {found.name} of {what}, not "
            f"{len(data)} bytes of {expected}; govbot never replaces a published asset",
            permanent=True,
        )

    def _release(self, r: Repository, repo: str, tag: str) -> GitRelease | None:
        try:
            return self._call(f"release {tag} in {repo}", lambda: r.get_release(tag))
        except GitHubError as e:
            if e.status == 404:
                return None
            raise

    def _assets(self, release: GitRelease, repo: str, tag: str) -> dict[str, GitReleaseAsset]:
        assets = self._call(
            f"assets of release {tag} in {repo}", lambda: list(release.get_assets())
        )
        return {a.name: a for a in assets}

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
