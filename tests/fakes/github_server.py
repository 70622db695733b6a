"""A fake GitHub REST API, served over real HTTP, for testing the adapter through real PyGithub.

Patching PyGithub would test our idea of PyGithub; this serves the JSON
shapes GitHub documents, so the adapter, PyGithub and HTTP are all exercised.
State is seeded on the object ``github_server()`` yields; every request is
recorded in ``.requests``; ``fail_next`` makes the next requests fail the way
GitHub does (5xx, rate limits with their headers).

    with github_server() as gh:
        repo = gh.add_repo("org/gov")
        repo.commit("c1" * 20, {"guidelines/2024.01.yaml": b"..."}, branch="main")
        forge = GitHubForge(gh.url, token="t", throttle=False)
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pytest
import uvicorn
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from govbot.forges.github import GitHubForge

NOW = "2024-05-01T12:00:00Z"
JSONBody = Annotated[dict[str, Any], Body()]
_ids = itertools.count(1000)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorization: str | None
    status: int = 0  # the answer's status (304: not modified, not counted against the limit)
    if_none_match: str | None = None


@dataclass
class Fault:
    """A forge object that keeps misbehaving: requests of ``method`` whose path contains
    ``part`` (and, for a check run's creation, whose ``head_sha`` is this one) are
    answered ``status`` before any effect, or, with ``after``, once the effect is done
    (the answer is lost, the object exists); ``hang`` seconds pass before the answer
    (a client with a shorter timeout gives up first). ``times`` None: for ever."""

    method: str
    part: str
    status: int = 502
    after: bool = False
    hang: float = 0.0
    head_sha: str | None = None
    times: int | None = None
    seen: int = 0

    def matches(self, method: str, path: str, body: Any) -> bool:
        if method != self.method or self.part not in path:
            return False
        if self.head_sha is not None and not (
            isinstance(body, dict) and body.get("head_sha") == self.head_sha
        ):
            return False
        return self.times is None or self.seen < self.times


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    message: str
    path: str | None  # only requests whose path contains this fail


def git_sha(kind: str, data: bytes) -> str:
    """The sha Git gives an object (so seeded blob shas look and behave like real ones)."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


TOKEN = "ghp_NotARealTokenButLooksLikeOne1234567890"  # what the fake's clients present
PULL_FILES_CAP = 3000  # "Responses include a maximum of 3000 files" (List pull requests files)
COMPARE_FILES_CAP = 300  # a comparison lists at most 300 files (Compare two commits)
COMMENT_LIMIT = 65536  # "body is too long (maximum is 65536 characters)"


@dataclass
class FakeRepo:
    full_name: str
    id: int = field(default_factory=lambda: next(_ids))
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sha -> direct entries
    commits: dict[str, str] = field(default_factory=dict)  # commit sha -> root tree sha
    commit_meta: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> message, parents
    refs: dict[str, str] = field(default_factory=dict)  # "refs/tags/v1" -> sha
    tag_objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # PR -> its reviews
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    # each: id, tag_name, name, body, draft, prerelease, assets (name -> bytes), asset_meta (name -> id, content_type)
    releases: list[dict[str, Any]] = field(default_factory=list)
    truncate_trees: bool = False  # answer recursive listings as GitHub does for huge repos
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # the repository's, by name
    issue_labels: dict[int, list[str]] = field(default_factory=dict)  # issue/PR -> label names
    clock: str = NOW  # the time new objects get (ISO 8601); tests move it

    def commit(
        self,
        sha: str,
        files: dict[str, bytes],
        modes: dict[str, str] | None = None,
        branch: str | None = None,
        parents: list[str] | None = None,
    ) -> None:
        """Seed commit ``sha`` with ``files`` (path -> bytes); ``modes`` marks e.g. symlinks ("120000")."""
        if parents is not None:
            self.commit_meta[sha] = {"message": "", "parents": list(parents)}
        root: dict[str, Any] = {}
        for path, data in files.items():
            *dirs, name = path.split("/")
            node = root
            for d in dirs:
                node = node.setdefault(d, {})
            node[name] = ((modes or {}).get(path, "100644"), data)
        self.commits[sha] = self._tree(root)
        if branch:
            self.refs[f"refs/heads/{branch}"] = sha

    def _tree(self, node: dict[str, Any]) -> str:
        """Store ``node`` as trees; its leaves are (mode, bytes) or stored (mode, type, sha)."""
        entries: list[dict[str, Any]] = []
        for name, value in sorted(node.items()):
            if isinstance(value, dict):
                sub = self._tree(value)
                if self.trees[sub]:  # Git has no empty directories
                    entries.append({"path": name, "mode": "040000", "type": "tree", "sha": sub})
                continue
            if len(value) == 2:
                mode, data = value
                sha = git_sha("blob", data)
                self.blobs[sha] = data
                value = (mode, "blob", sha)
            mode, kind, sha = value
            entry = {"path": name, "mode": mode, "type": kind, "sha": sha}
            if kind == "blob":
                entry["size"] = len(self.blobs[sha])
            entries.append(entry)
        sha = git_sha("tree", repr(entries).encode())
        self.trees[sha] = entries
        return sha

    def _nest(self, tree_sha: str) -> dict[str, Any]:
        """A stored tree as ``_tree`` takes it: name -> subtree, or (mode, type, sha)."""
        return {
            e["path"]: self._nest(e["sha"])
            if e["type"] == "tree"
            else (e["mode"], e["type"], e["sha"])
            for e in self.trees[tree_sha]
        }

    def write_tree(self, entries: list[dict[str, Any]], base_tree: str | None = None) -> str:
        """POST /git/trees: ``entries`` laid over ``base_tree``; a null sha deletes the path."""
        if base_tree is not None and base_tree not in self.trees:
            raise HTTPException(422, "Invalid tree info")
        root = self._nest(base_tree) if base_tree else {}
        for e in entries:
            *dirs, leaf = e["path"].strip("/").split("/")
            if e.get("mode") not in ("100644", "100755", "040000", "160000", "120000"):
                raise HTTPException(422, "Invalid tree info")
            node: Any = root
            deleting = e.get("sha", "") is None and "content" not in e
            for d in dirs:
                node = node.get(d) if deleting else node.setdefault(d, {})
                if not isinstance(node, dict):
                    raise HTTPException(422, "GitRPC::BadObjectState")
            if deleting:
                if leaf not in node:  # as GitHub does: deleting what is not there is an error
                    raise HTTPException(422, "GitRPC::BadObjectState")
                del node[leaf]
            elif "content" in e:
                node[leaf] = (e["mode"], e["content"].encode())
            elif e.get("type") == "tree" and e.get("sha") in self.trees:
                node[leaf] = self._nest(e["sha"])
            elif e.get("type") == "blob" and e.get("sha") in self.blobs:
                node[leaf] = (e["mode"], "blob", e["sha"])
            else:
                raise HTTPException(422, "Invalid tree info")
        return self._tree(root)

    def new_commit(self, message: str, tree: str, parents: list[str]) -> str:
        """Store a commit (POST /git/commits, merges); the same content gives the same sha."""
        if tree not in self.trees or any(p not in self.commits for p in parents):
            raise HTTPException(422, "Invalid tree or parent sha")
        header = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents)
        sha = git_sha("commit", f"{header}\n{message}".encode())
        self.commits[sha] = tree
        self.commit_meta[sha] = {"message": message, "parents": list(parents)}
        return sha

    def ancestors(self, sha: str) -> list[str]:
        """``sha`` and every commit it descends from, nearest first (breadth first)."""
        order, pending, seen = [], [sha], set()
        while pending:
            current = pending.pop(0)
            if current not in seen:
                seen.add(current)
                order.append(current)
                pending += self.commit_meta.get(current, {}).get("parents", [])
        return order

    def merge_base(self, base: str, head: str) -> str | None:
        """The nearest common ancestor, as ``compare/{base}...{head}`` reports it."""
        of_base = set(self.ancestors(base))
        return next((sha for sha in self.ancestors(head) if sha in of_base), None)

    def is_ancestor(self, old: str, new: str) -> bool:
        pending, seen = [new], set()
        while pending:
            sha = pending.pop()
            if sha == old:
                return True
            if sha not in seen:
                seen.add(sha)
                pending += self.commit_meta.get(sha, {}).get("parents", [])
        return False

    def files(self, rev: str) -> dict[str, bytes]:
        """Every file at ``rev`` (a branch or a commit), governed or not: for checking a commit whole."""
        sha = self.refs.get(f"refs/heads/{rev}", rev)
        return {e["path"]: self.blobs[e["sha"]] for e in _listing(self, self.commits[sha], "")
                if e["type"] == "blob"}  # fmt: skip

    def open_pull(self, head: str, base: str, title: str, body: str = "") -> dict[str, Any]:
        """A pull request of branch ``head`` onto branch ``base``, as POST /pulls makes one."""
        head_sha, base_sha = self.refs[f"refs/heads/{head}"], self.refs[f"refs/heads/{base}"]
        number = max([*self.pulls, *self.comments], default=0) + 1
        fork = self.merge_base(base_sha, head_sha) or base_sha  # GitHub diffs from the merge base
        old, new = (_flat(self, self.commits[sha]) for sha in (fork, head_sha))
        files = [{"filename": path, "status": "removed" if path not in new else
                  "added" if path not in old else "modified"}
                 for path in sorted(old.keys() | new.keys()) if old.get(path) != new.get(path)]  # fmt: skip
        self.pulls[number] = {"number": number, "head": head_sha, "base": base_sha, "files": files,
                              "head_ref": head, "base_ref": base, "title": title, "body": body,
                              "state": "open", "merged": False, "merge_commit_sha": None,
                              "created_at": self.clock, "updated_at": self.clock, "draft": False,
                              "author": "govbot[bot]"}  # fmt: skip
        return self.pulls[number]

    def merge_pull(self, number: int) -> str:
        """Merge PR ``number`` as GitHub's merge button does; returns the merge commit's sha."""
        pull = self.pulls[number]
        head = self.refs[f"refs/heads/{pull['head_ref']}"]
        base = f"refs/heads/{pull['base_ref']}"
        message = f"Merge pull request #{number} from {pull['head_ref']}"
        sha = self.new_commit(message, self.commits[head], [self.refs[base], head])
        self.refs[base] = sha
        pull.update(state="closed", merged=True, merge_commit_sha=sha, head=head)
        pull.update(closed_at=self.clock, merged_at=self.clock)
        self.touch(number, self.clock)
        return sha

    def add_pull(
        self, number: int, head: str, base: str, files: list[str | dict[str, Any]]
    ) -> None:
        """Seed PR ``number``; a file is a path, or a dict such as {"filename", "status", "previous_filename"}."""
        listed = [{"filename": f, "status": "modified"} if isinstance(f, str) else f for f in files]
        self.pulls[number] = {"number": number, "head": head, "base": base, "files": listed,
                              "head_ref": f"pr-{number}", "base_ref": "main", "title": "", "body": "",
                              "state": "open", "merged": False, "merge_commit_sha": None,
                              "created_at": self.clock, "updated_at": self.clock, "draft": False,
                              "author": "govbot[bot]"}  # fmt: skip

    def add_comment(
        self, number: int, body: str, login: str = "someone", at: str | None = None
    ) -> int:
        """A comment on issue/PR ``number`` (at ``at``, ISO 8601; it updates the PR too)."""
        comment_id = next(_ids)
        when = at or self.clock
        self.comments.setdefault(number, []).append(
            {"id": comment_id, "body": body, "login": login, "created_at": when, "updated_at": when}
        )
        self.touch(number, when)
        return comment_id

    def add_review(
        self, number: int, login: str, state: str, at: str | None = None, commit_id: str = ""
    ) -> int:
        """A submitted review ("APPROVED", "CHANGES_REQUESTED", "COMMENTED") on PR ``number``."""
        review_id = next(_ids)
        when = at or self.clock
        pull = self.pulls[number]
        self.reviews.setdefault(number, []).append(
            {
                "id": review_id,
                "login": login,
                "state": state,
                "submitted_at": when,
                "commit_id": commit_id
                or self.refs.get(f"refs/heads/{pull['head_ref']}", pull["head"]),
                "body": "",
            }
        )
        self.touch(number, when)
        return review_id

    def touch(self, number: int, at: str) -> None:
        """A pull request's ``updated_at`` moves with every comment, review and push."""
        if number in self.pulls:
            self.pulls[number]["updated_at"] = max(self.pulls[number].get("updated_at", NOW), at)

    def add_labels(self, number: int, names: list[str]) -> list[str]:
        """POST .../issues/{n}/labels: a label the repository lacks is created ("not only
        assigns existing labels but also creates a new label if it does not already exist
        ... a default color of ededed", github/docs#35718); already there, nothing changes."""
        for name in names:
            self.labels.setdefault(name, {"id": next(_ids), "name": name, "color": "ededed"})
            on = self.issue_labels.setdefault(number, [])
            if name not in on:
                on.append(name)
        return self.issue_labels.get(number, [])

    def add_tag(self, tag: str, sha: str, annotated: bool = True) -> None:
        target = sha
        if annotated:
            target = git_sha("tag", f"{tag} {sha}".encode())
            self.tag_objects[target] = {"tag": tag, "message": tag, "object": sha, "type": "commit"}
        self.refs[f"refs/tags/{tag}"] = target

    def add_release(
        self, tag: str, name: str = "", body: str = "", assets: dict[str, bytes] | None = None
    ) -> dict[str, Any]:
        """Seed a published release of ``tag`` (the tag itself is not created)."""
        release: dict[str, Any] = {"id": next(_ids), "tag_name": tag, "name": name, "body": body,
                                   "draft": False, "prerelease": False, "assets": {}, "asset_meta": {}}  # fmt: skip
        self.releases.append(release)
        for asset_name, data in (assets or {}).items():
            self.add_asset(release, asset_name, data)
        return release

    def add_asset(
        self,
        release: dict[str, Any],
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> None:
        release["assets"][name] = data
        release["asset_meta"][name] = {"id": next(_ids), "content_type": content_type}

    def release(self, release_id: int) -> dict[str, Any]:
        for release in self.releases:
            if release["id"] == release_id:
                return release
        raise HTTPException(404, "Not Found")

    def asset(self, asset_id: int) -> tuple[dict[str, Any], str]:
        """The release holding asset ``asset_id``, and the asset's name."""
        for release in self.releases:
            for name, meta in release["asset_meta"].items():
                if meta["id"] == asset_id:
                    return release, name
        raise HTTPException(404, "Not Found")


class FakeGitHub:
    """The server's state plus the FastAPI app serving it."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Recorded] = []
        self.repos: dict[str, FakeRepo] = {}
        self.checks_forbidden = False  # answer check-run creation as GitHub does for a plain token
        self.labels_forbidden = False  # refuse to add labels (a token without the permission)
        self.app_id = 4242  # the app that new check runs are attributed to
        self.tokens: set[str] = set()  # when non-empty, other credentials get 401
        self.installation_tokens: list[str] = []
        # GitHub's installation tokens: "stateless" (ghs_<app id>_<JWT>, ~520 characters with
        # dots and dashes, minted since April 2026) or the former 40-character "stateful" ones
        self.token_format = "stateless"
        self.asset_digests = True  # GitHub's "digest" of each release asset (since June 2025)
        self.clock_skew = 0.0  # seconds the server's clock (Date, rate-limit resets) is off
        self._failures: list[_Failure] = []
        self.delays: dict[tuple[str, str], float] = {}  # (method, path part) -> seconds to stall
        # login -> the account's immutable id: GET /users/{username}, and the author of
        # what the fake records (default 1)
        self.user_ids: dict[str, int] = {}
        # the App's webhook deliveries (GET /app/hook/deliveries), newest last; ``deliver``
        # is where a redelivery goes (it returns the status code the receiver answered)
        self.hook_deliveries: list[dict[str, Any]] = []
        self.hook_payloads: dict[str, tuple[str, bytes]] = {}  # guid -> (event, body)
        self.deliver: Callable[[str, str, bytes], int] | None = None
        self.etags = True  # answer conditional requests as GitHub does (ETag, 304)
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self.app = _build_app(self)

    def date(self) -> str:
        """The server's clock as an HTTP Date (``clock_skew`` seconds off the test's)."""
        return email.utils.formatdate(time.time() + self.clock_skew, usegmt=True)

    def add_repo(self, full_name: str) -> FakeRepo:
        return self.repos.setdefault(full_name, FakeRepo(full_name))

    def forge(
        self, sleep: Callable[[float], object] = lambda _: None, retries: int = 2
    ) -> GitHubForge:
        """The real adapter (PyGithub over HTTP) pointed here, unthrottled, with TOKEN accepted."""
        self.tokens.add(TOKEN)
        return GitHubForge(self.url, token=TOKEN, retries=retries, sleep=sleep, throttle=False)

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        headers: dict[str, str] | None = None,
        message: str = "Server Error",
        path: str | None = None,
    ) -> None:
        """Make the next ``n`` requests (whose path contains ``path``, if given) fail with ``status``."""
        with self._lock:
            self._failures += [_Failure(status, headers or {}, message, path) for _ in range(n)]

    def calls(self, method: str, path_part: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def api(self, path: str) -> str:
        return f"{self.url}{path}"

    def user(self, login: str) -> dict[str, Any]:
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {"login": login, "id": self.user_ids.get(login, 1), "type": kind,
                "url": self.api(f"/users/{login}")}  # fmt: skip

    def counted(self) -> list[Recorded]:
        """The requests GitHub counts against the rate limit: a 304 is not counted."""
        return [r for r in self.requests if r.status != 304 and not r.path.startswith("/app/")]

    def hook_delivery(self, event: str, body: bytes, status_code: int, guid: str) -> dict[str, Any]:
        """Record one attempt of an App webhook delivery (0: no answer at all)."""
        action = json.loads(body).get("action") if body else None
        entry = {"id": next(_ids), "guid": guid, "delivered_at": _iso_now(),
                 "redelivery": guid in self.hook_payloads, "duration": 0.1,
                 "status": "OK" if 200 <= status_code < 300 else ("timed out" if not status_code else f"HTTP {status_code}"),
                 "status_code": status_code, "event": event, "action": action,
                 "installation_id": 5, "repository_id": None}  # fmt: skip
        self.hook_payloads[guid] = (event, body)
        self.hook_deliveries.append(entry)
        return entry

    def repo(self, owner: str, name: str) -> FakeRepo:
        repo = self.repos.get(f"{owner}/{name}")
        if repo is None:
            raise HTTPException(404, "Not Found")
        return repo

    def check_run_json(self, repo: FakeRepo, run: dict[str, Any]) -> dict[str, Any]:
        url = self.api(f"/repos/{repo.full_name}/check-runs/{run['id']}")
        output = {**run["output"], "annotations_count": len(run["annotations"])}
        app = {"id": run["app_id"], "slug": "govbot", "name": "govbot"}
        return {
            **{k: v for k, v in run.items() if k not in ("annotations", "app_id")},
            "output": output,
            "url": url,
            "app": app,
        }

    def release_json(self, repo: FakeRepo, r: dict[str, Any]) -> dict[str, Any]:
        path = f"/repos/{repo.full_name}/releases/{r['id']}"
        html = f"https://github.com/{repo.full_name}/releases/tag/{r['tag_name']}"
        return {**{k: r[k] for k in ("id", "tag_name", "name", "body", "draft", "prerelease")},
                "target_commitish": "main", "url": self.api(path), "html_url": html,
                "assets_url": self.api(f"{path}/assets"),
                "upload_url": f"{self.url}/uploads{path}/assets{{?name,label}}",
                "tarball_url": self.api(f"/repos/{repo.full_name}/tarball/{r['tag_name']}"),
                "zipball_url": self.api(f"/repos/{repo.full_name}/zipball/{r['tag_name']}"),
                "author": self.user("govbot[bot]"), "created_at": NOW, "published_at": NOW,
                "assets": [self.asset_json(repo, r, n) for n in r["assets"]]}  # fmt: skip

    def asset_json(self, repo: FakeRepo, r: dict[str, Any], name: str) -> dict[str, Any]:
        meta = r["asset_meta"][name]
        url = self.api(f"/repos/{repo.full_name}/releases/assets/{meta['id']}")
        download = f"{self.url}/{repo.full_name}/releases/download/{r['tag_name']}/{name}"
        digest: str | None = (
            "sha256:" + hashlib.sha256(r["assets"][name]).hexdigest()
        )  # GitHub's, at upload
        digest = digest if self.asset_digests else None  # assets uploaded before June 2025
        return {"id": meta["id"], "name": name, "label": "", "size": len(r["assets"][name]), "digest": digest,
                "content_type": meta["content_type"], "state": "uploaded", "download_count": 0,
                "url": url, "browser_download_url": download, "uploader": self.user("govbot[bot]"),
                "created_at": NOW, "updated_at": NOW}  # fmt: skip

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {"id": repo.id, "name": name, "full_name": repo.full_name, "owner": self.user(owner),
                "url": self.api(f"/repos/{repo.full_name}"), "private": False, "default_branch": "main"}  # fmt: skip

    def commit_json(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        meta = repo.commit_meta.get(sha, {"message": "", "parents": []})
        api, html = (
            self.api(f"/repos/{repo.full_name}/git/commits"),
            f"https://github.com/{repo.full_name}/commit",
        )
        person = {"name": "govbot", "email": "govbot@example.com", "date": NOW}
        return {"sha": sha, "url": f"{api}/{sha}", "html_url": f"{html}/{sha}", "message": meta["message"],
                "tree": {"sha": repo.commits[sha], "url": self.api(f"/repos/{repo.full_name}/git/trees/{repo.commits[sha]}")},
                "parents": [{"sha": p, "url": f"{api}/{p}", "html_url": f"{html}/{p}"} for p in meta["parents"]],
                "author": person, "committer": person,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None}}  # fmt: skip

    def commit_ref(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        """A commit as the commits and compare endpoints show it: the git commit nested inside."""
        git = self.commit_json(repo, sha)
        api = self.api(f"/repos/{repo.full_name}/commits")
        return {"sha": sha, "url": f"{api}/{sha}", "html_url": git["html_url"], "commit": git,
                "author": self.user("govbot[bot]"), "committer": self.user("govbot[bot]"),
                "parents": [{"sha": p["sha"], "url": f"{api}/{p['sha']}"} for p in git["parents"]]}  # fmt: skip

    def pull_json(self, repo: FakeRepo, p: dict[str, Any]) -> dict[str, Any]:
        owner = repo.full_name.split("/")[0]
        n, path = p["number"], f"/repos/{repo.full_name}/pulls/{p['number']}"
        head = p["head"] if p["merged"] else repo.refs.get(f"refs/heads/{p['head_ref']}", p["head"])

        def part(ref: str, sha: str) -> dict[str, Any]:
            return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": self.user(owner),
                    "repo": self.repo_json(repo)}  # fmt: skip

        return {"id": n + 500000, "number": n, "state": p["state"], "title": p["title"], "body": p["body"],
                "url": self.api(path), "html_url": f"https://github.com/{repo.full_name}/pull/{n}",
                "head": part(p["head_ref"], head), "base": part(p["base_ref"], p["base"]),
                "merged": p["merged"], "merge_commit_sha": p["merge_commit_sha"],
                "draft": p.get("draft", False), "changed_files": len(p["files"]),
                "closed_at": p.get("closed_at"), "merged_at": p.get("merged_at"),
                "user": self.user(p.get("author", "govbot[bot]")),
                "created_at": p.get("created_at", NOW), "updated_at": p.get("updated_at", NOW)}  # fmt: skip

    def label_json(self, repo: FakeRepo, name: str) -> dict[str, Any]:
        label = repo.labels[name]
        url = self.api(f"/repos/{repo.full_name}/labels/{quote(name)}")
        return {"id": label["id"], "node_id": f"LA_{label['id']}", "url": url, "name": name,
                "color": label["color"], "default": False, "description": None}  # fmt: skip

    def comment_json(self, repo: FakeRepo, c: dict[str, Any]) -> dict[str, Any]:
        url = self.api(f"/repos/{repo.full_name}/issues/comments/{c['id']}")
        number = next((n for n, cs in repo.comments.items() if c in cs), 0)
        return {"id": c["id"], "body": c["body"], "user": self.user(c["login"]), "url": url,
                "issue_url": self.api(f"/repos/{repo.full_name}/issues/{number}"),
                "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{c['id']}",
                "created_at": c.get("created_at", NOW), "updated_at": c.get("updated_at", NOW)}  # fmt: skip

    def review_json(self, repo: FakeRepo, number: int, r: dict[str, Any]) -> dict[str, Any]:
        """A PullRequestReview as "List reviews for a pull request" shows it."""
        return {"id": r["id"], "node_id": f"PRR_{r['id']}", "user": self.user(r["login"]),
                "body": r["body"], "state": r["state"], "commit_id": r["commit_id"],
                "submitted_at": r["submitted_at"], "author_association": "MEMBER",
                "html_url": f"https://github.com/{repo.full_name}/pull/{number}#pullrequestreview-{r['id']}",
                "pull_request_url": self.api(f"/repos/{repo.full_name}/pulls/{number}")}  # fmt: skip


def _build_app(gh: FakeGitHub) -> FastAPI:
    """Routes are async, so they run one at a time on the server's loop and need no lock."""
    app = FastAPI()
    R = "/repos/{owner}/{name}"

    @app.exception_handler(HTTPException)
    async def _github_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"message": exc.detail}, status_code=exc.status_code)

    @app.middleware("http")
    async def _record_and_fail(request: Request, call_next: Any) -> Any:
        auth = request.headers.get("authorization")
        body = await request.body()
        raw = request.url.path.startswith("/uploads/")  # release assets: bytes, not JSON
        recorded = Recorded(request.method, request.url.path, dict(request.query_params),
                            json.loads(body) if body and not raw else None, auth,
                            if_none_match=request.headers.get("if-none-match"))  # fmt: skip
        with gh._lock:
            gh.requests.append(recorded)
            failure = next(
                (f for f in gh._failures if not f.path or f.path in request.url.path), None
            )
            if failure:
                gh._failures.remove(failure)
            fault = next(
                (
                    f
                    for f in gh.faults
                    if f.matches(request.method, request.url.path, recorded.json)
                ),
                None,
            )
            if fault:
                fault.seen += 1
        if failure:
            recorded.status = failure.status
            headers = {"date": gh.date(), **failure.headers}
            return JSONResponse({"message": failure.message}, failure.status, headers=headers)
        if fault and not fault.after:
            await asyncio.sleep(fault.hang)
            recorded.status = fault.status
            return JSONResponse({"message": "Server Error"}, fault.status, {"date": gh.date()})
        token = (auth or "").split(" ")[-1]
        public = request.url.path.startswith("/app/") or "/releases/download/" in request.url.path
        if gh.tokens and token not in gh.tokens and not public:
            recorded.status = 401
            return JSONResponse({"message": "Bad credentials"}, 401)
        response = await call_next(request)
        if fault and fault.after:  # done, but the answer is lost: a 5xx, or a hang
            await asyncio.sleep(fault.hang)
            recorded.status = fault.status
            return JSONResponse({"message": "Server Error"}, fault.status, {"date": gh.date()})
        if request.method == "GET" and response.status_code == 200 and gh.etags and not raw:
            response = await _conditional(request, response)
        recorded.status = response.status_code
        response.headers["date"] = gh.date()  # as GitHub: every answer carries its Date
        for (method, part), seconds in list(gh.delays.items()):
            if request.method == method and part in request.url.path:
                # done, but the answer is slow: lets a test kill the client after the effect
                await asyncio.sleep(seconds)
        return response

    @app.get("/app/hook/deliveries")
    async def hook_deliveries(request: Request) -> JSONResponse:
        # "List deliveries for an app webhook": newest first, JWT auth
        if not (request.headers.get("authorization") or "").startswith("Bearer "):
            raise HTTPException(401, "A JSON web token could not be decoded")
        return _page(gh, request, list(reversed(gh.hook_deliveries)))

    @app.post("/app/hook/deliveries/{delivery_id}/attempts", status_code=202)
    async def redeliver(delivery_id: int, request: Request) -> dict[str, Any]:
        # "Redeliver a delivery for an app webhook": 202 Accepted
        if not (request.headers.get("authorization") or "").startswith("Bearer "):
            raise HTTPException(401, "A JSON web token could not be decoded")
        found = next((d for d in gh.hook_deliveries if d["id"] == delivery_id), None)
        if found is None:
            raise HTTPException(404, "Not Found")
        event, body = gh.hook_payloads[found["guid"]]
        target = gh.deliver
        status = await asyncio.to_thread(target, found["guid"], event, body) if target else 0
        gh.hook_delivery(event, body, status, found["guid"])
        return {}

    @app.post("/app/installations/{installation}/access_tokens", status_code=201)
    async def access_token(installation: int, request: Request) -> dict[str, Any]:
        if not (request.headers.get("authorization") or "").startswith("Bearer "):
            raise HTTPException(401, "A JSON web token could not be decoded")
        token = _installation_token(gh.token_format, gh.app_id, installation)
        gh.installation_tokens.append(token)
        if gh.tokens:
            gh.tokens.add(token)
        return {"token": token, "expires_at": "2999-01-01T00:00:00Z", "permissions": {}}

    @app.get("/users/{username}")
    async def get_user(username: str) -> dict[str, Any]:
        # REST "Get a user": the public user, whose ``id`` stays when the login is renamed;
        # logins are case-insensitive (the answer spells it as the account does)
        login = next((u for u in gh.user_ids if u.casefold() == username.casefold()), None)
        if login is None:
            raise HTTPException(404, "Not Found")
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {"login": login, "id": gh.user_ids[login], "node_id": f"U_{gh.user_ids[login]}",
                "type": kind, "site_admin": False, "url": gh.api(f"/users/{login}"),
                "html_url": f"https://github.com/{login}"}  # fmt: skip

    @app.get(R)
    async def get_repo(owner: str, name: str) -> dict[str, Any]:
        return gh.repo_json(gh.repo(owner, name))

    @app.get(R + "/git/trees/{rev:path}")  # a branch name may hold slashes
    async def get_tree(
        owner: str, name: str, rev: str, recursive: str | None = None
    ) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        sha = repo.refs.get(f"refs/heads/{rev}", rev)
        sha = repo.commits.get(sha, sha)
        if sha not in repo.trees:
            raise HTTPException(404, "Not Found")
        entries = _listing(repo, sha, "") if recursive else repo.trees[sha]
        truncated = bool(recursive) and repo.truncate_trees
        return {"sha": sha, "url": gh.api(f"/repos/{repo.full_name}/git/trees/{sha}"),
                "tree": entries[:1] if truncated else entries, "truncated": truncated}  # fmt: skip

    @app.get(R + "/git/blobs/{sha}")
    async def get_blob(owner: str, name: str, sha: str) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if sha not in repo.blobs:
            raise HTTPException(404, "Not Found")
        data = repo.blobs[sha]
        return {"sha": sha, "size": len(data), "encoding": "base64", "url": gh.api(f"/repos/{repo.full_name}/git/blobs/{sha}"),
                "content": base64.encodebytes(data).decode()}  # fmt: skip

    @app.post(R + "/git/blobs", status_code=201)
    async def create_blob(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if body.get("encoding", "utf-8") not in ("utf-8", "base64") or "content" not in body:
            raise HTTPException(422, "Validation Failed")
        content = body["content"]
        data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
        sha = git_sha("blob", data)
        repo.blobs[sha] = data
        return {"sha": sha, "url": gh.api(f"/repos/{repo.full_name}/git/blobs/{sha}")}

    @app.post(R + "/git/trees", status_code=201)
    async def create_tree(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        sha = repo.write_tree(body.get("tree") or [], body.get("base_tree"))
        return {"sha": sha, "url": gh.api(f"/repos/{repo.full_name}/git/trees/{sha}"),
                "tree": repo.trees[sha], "truncated": False}  # fmt: skip

    @app.post(R + "/git/commits", status_code=201)
    async def create_commit(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        sha = repo.new_commit(body["message"], body["tree"], body.get("parents") or [])
        return gh.commit_json(repo, sha)

    @app.get(R + "/git/commits/{sha}")
    async def get_commit(owner: str, name: str, sha: str) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if sha not in repo.commits:
            raise HTTPException(404, "Not Found")
        return gh.commit_json(repo, sha)

    @app.get(R + "/pulls")
    async def list_pulls(
        owner: str,
        name: str,
        request: Request,
        state: str = "open",
        head: str | None = None,
        base: str | None = None,
    ) -> JSONResponse:
        repo = gh.repo(owner, name)
        pulls = [p for _, p in sorted(repo.pulls.items(), reverse=True)
                 if state in ("all", p["state"]) and base in (None, p["base_ref"])
                 and head in (None, f"{owner}:{p['head_ref']}")]  # fmt: skip
        # "sort": created (default), updated, popularity, long-running; "direction": desc
        # by default for created and updated. Newest number first is created order.
        if request.query_params.get("sort") == "updated":
            pulls.sort(key=lambda p: (p.get("updated_at", NOW), p["number"]), reverse=True)
        if request.query_params.get("direction") == "asc":
            pulls.reverse()
        return _page(gh, request, [gh.pull_json(repo, p) for p in pulls])

    @app.get(R + "/pulls/{number}/reviews")
    async def list_reviews(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        # "List reviews for a pull request": in chronological order
        repo = gh.repo(owner, name)
        if number not in repo.pulls:
            raise HTTPException(404, "Not Found")
        reviews = [gh.review_json(repo, number, r) for r in repo.reviews.get(number, [])]
        return _page(gh, request, reviews)

    @app.get(R + "/issues/comments")
    async def list_repo_comments(owner: str, name: str, request: Request) -> JSONResponse:
        # "List issue comments for a repository": since ("Only show results that were last
        # updated after the given time"), sort created|updated, direction asc|desc
        repo = gh.repo(owner, name)
        since = request.query_params.get("since")
        found = [c for cs in repo.comments.values() for c in cs
                 if since is None or c.get("updated_at", NOW) >= since]  # fmt: skip
        key = "updated_at" if request.query_params.get("sort") == "updated" else "created_at"
        found.sort(key=lambda c: (c.get(key, NOW), c["id"]))
        if request.query_params.get("direction") == "desc":
            found.reverse()
        return _page(gh, request, [gh.comment_json(repo, c) for c in found])

    @app.post(R + "/pulls", status_code=201, response_model=None)
    async def create_pull(owner: str, name: str, body: JSONBody) -> dict[str, Any] | JSONResponse:
        repo = gh.repo(owner, name)
        head, base = body.get("head") or "", body.get("base") or ""
        head = head.removeprefix(f"{owner}:")
        if not body.get("title"):
            return _invalid("missing_field", field="title")
        for key, branch in (("base", base), ("head", head)):
            if f"refs/heads/{branch}" not in repo.refs:
                return _invalid("invalid", field=key)
        if any(p["state"] == "open" and (p["head_ref"], p["base_ref"]) == (head, base)
               for p in repo.pulls.values()):  # fmt: skip
            return _invalid("custom", message=f"A pull request already exists for {owner}:{head}.")
        if repo.refs[f"refs/heads/{head}"] == repo.refs[f"refs/heads/{base}"]:
            return _invalid("custom", message=f"No commits between {base} and {head}")
        pull = repo.open_pull(head, base, body["title"], body.get("body") or "")
        return gh.pull_json(repo, pull)

    @app.get(R + "/pulls/{number}")
    async def get_pull(owner: str, name: str, number: int) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if number not in repo.pulls:
            raise HTTPException(404, "Not Found")
        return gh.pull_json(repo, repo.pulls[number])

    @app.get(R + "/pulls/{number}/files")
    async def pull_files(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        pull = gh.repo(owner, name).pulls.get(number)
        if pull is None:
            raise HTTPException(404, "Not Found")
        # GitHub: "Responses include a maximum of 3000 files." (List pull requests files)
        files = [
            {"sha": "0" * 40, "additions": 1, "deletions": 0, "changes": 1, **f}
            for f in pull["files"][:PULL_FILES_CAP]
        ]
        return _page(gh, request, files)

    @app.get(R + "/compare/{basehead:path}")
    async def compare(owner: str, name: str, basehead: str, request: Request) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        base, sep, head = basehead.partition("...")
        base, head = (repo.refs.get(f"refs/heads/{x}", x) for x in (base, head))
        if not sep or base not in repo.commits or head not in repo.commits:
            raise HTTPException(404, "Not Found")
        merge_base = repo.merge_base(base, head)
        if merge_base is None:
            raise HTTPException(404, f"No common ancestor between {base} and {head}.")
        ahead = [c for c in repo.ancestors(head) if c not in set(repo.ancestors(merge_base))]
        old, new = (_flat(repo, repo.commits[sha]) for sha in (merge_base, head))
        changed = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
        files = [{"filename": p, "status": "removed" if p not in new else "added" if p not in old
                  else "modified", "sha": new.get(p, old.get(p))} for p in changed]  # fmt: skip
        html = f"https://github.com/{repo.full_name}/compare/{basehead}"
        return {"url": gh.api(request.url.path), "html_url": html, "permalink_url": html,
                "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
                "base_commit": gh.commit_ref(repo, base), "merge_base_commit": gh.commit_ref(repo, merge_base),
                "status": "ahead" if merge_base == base else "diverged", "ahead_by": len(ahead),
                "behind_by": len([c for c in repo.ancestors(base) if c not in set(repo.ancestors(merge_base))]),
                "total_commits": len(ahead), "commits": [gh.commit_ref(repo, c) for c in reversed(ahead)],
                "files": files[:COMPARE_FILES_CAP]}  # fmt: skip

    @app.get(R + "/issues/{number}/comments")
    async def list_comments(owner: str, name: str, number: int, request: Request) -> JSONResponse:
        repo = gh.repo(owner, name)
        return _page(gh, request, [gh.comment_json(repo, c) for c in repo.comments.get(number, [])])

    @app.post(R + "/issues/{number}/comments", status_code=201, response_model=None)
    async def create_comment(
        owner: str, name: str, number: int, body: JSONBody
    ) -> dict[str, Any] | JSONResponse:
        repo = gh.repo(owner, name)
        if len(body["body"]) > COMMENT_LIMIT:
            return _body_too_long()
        return gh.comment_json(
            repo, _comment(repo, repo.add_comment(number, body["body"], "govbot[bot]"))
        )

    @app.patch(R + "/issues/comments/{comment_id}", response_model=None)
    async def edit_comment(
        owner: str, name: str, comment_id: int, body: JSONBody
    ) -> dict[str, Any] | JSONResponse:
        repo = gh.repo(owner, name)
        comment = _comment(repo, comment_id)
        if len(body["body"]) > COMMENT_LIMIT:
            return _body_too_long()
        comment["body"] = body["body"]
        return gh.comment_json(repo, comment)

    @app.get(R + "/issues/{number}/labels")
    async def list_issue_labels(
        owner: str, name: str, number: int, request: Request
    ) -> JSONResponse:
        repo = gh.repo(owner, name)
        names = repo.issue_labels.get(number, [])
        return _page(gh, request, [gh.label_json(repo, n) for n in names])

    @app.post(R + "/issues/{number}/labels")
    async def add_issue_labels(
        owner: str, name: str, number: int, body: Annotated[Any, Body()]
    ) -> list[dict[str, Any]]:
        """ "Add labels to an issue": ``{"labels": [...]}``, or (as PyGithub sends it) the
        array itself, which GitHub also accepts."""
        repo = gh.repo(owner, name)
        names = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise HTTPException(422, "Validation Failed")
        if gh.labels_forbidden:  # a token that may not create labels in the repository
            raise HTTPException(403, "Resource not accessible by integration")
        return [gh.label_json(repo, n) for n in repo.add_labels(number, names)]

    @app.delete(R + "/issues/{number}/labels/{label:path}")
    async def remove_issue_label(
        owner: str, name: str, number: int, label: str
    ) -> list[dict[str, Any]]:
        """ "Remove a label from an issue": the remaining labels; 404 when the issue lacks it."""
        repo = gh.repo(owner, name)
        on = repo.issue_labels.get(number, [])
        if label not in on:
            raise HTTPException(404, "Label does not exist")
        on.remove(label)
        return [gh.label_json(repo, n) for n in on]

    @app.get(R + "/commits/{ref}/check-runs")
    async def list_check_runs(
        owner: str, name: str, ref: str, request: Request, check_name: str | None = None
    ) -> JSONResponse:
        repo = gh.repo(owner, name)
        runs = [
            r for r in repo.check_runs if r["head_sha"] == ref and check_name in (None, r["name"])
        ]
        return _page(gh, request, [gh.check_run_json(repo, r) for r in runs], key="check_runs")

    @app.post(R + "/check-runs", status_code=201)
    async def create_check_run(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if gh.checks_forbidden:  # GitHub's answer to a personal access token
            raise HTTPException(403, "You must authenticate via a GitHub App.")
        run = {"id": next(_ids), "name": body["name"], "head_sha": body["head_sha"], "status": "queued",
               "conclusion": None, "started_at": NOW, "completed_at": None, "output": {}, "annotations": [], "app_id": gh.app_id}  # fmt: skip
        repo.check_runs.append(run)
        return gh.check_run_json(repo, _update_run(run, body))

    @app.patch(R + "/check-runs/{run_id}")
    async def update_check_run(
        owner: str, name: str, run_id: int, body: JSONBody
    ) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        run = next((r for r in repo.check_runs if r["id"] == run_id), None)
        if run is None:
            raise HTTPException(404, "Not Found")
        return gh.check_run_json(repo, _update_run(run, body))

    @app.post(R + "/statuses/{sha}", status_code=201)
    async def create_status(owner: str, name: str, sha: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if (
            body.get("state") not in ("error", "failure", "pending", "success")
            or len(body.get("description") or "") > 140
        ):
            raise HTTPException(422, "Validation Failed")
        status = {"id": next(_ids), "sha": sha, "state": body["state"], "context": body.get("context", "default"),
                  "description": body.get("description"), "url": gh.api(f"/repos/{repo.full_name}/statuses/{sha}"),
                  "created_at": NOW, "updated_at": NOW}  # fmt: skip
        repo.statuses.append(status)
        return status

    @app.get(R + "/git/ref/{ref:path}")
    async def get_ref(owner: str, name: str, ref: str) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if f"refs/{ref}" not in repo.refs:
            raise HTTPException(404, "Not Found")
        return _ref_json(gh, repo, f"refs/{ref}")

    @app.post(R + "/git/refs", status_code=201)
    async def create_ref(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if body["ref"] in repo.refs:
            raise HTTPException(422, "Reference already exists")
        if body["ref"].startswith("refs/heads/") and body["sha"] not in repo.commits:
            raise HTTPException(422, "Object does not exist")
        repo.refs[body["ref"]] = body["sha"]
        return _ref_json(gh, repo, body["ref"])

    @app.patch(R + "/git/refs/{ref:path}")
    async def update_ref(owner: str, name: str, ref: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        ref, sha = f"refs/{ref}", body.get("sha")
        if ref not in repo.refs:
            raise HTTPException(422, "Reference does not exist")
        if sha not in repo.commits:
            raise HTTPException(422, "Object does not exist")
        if not body.get("force") and not repo.is_ancestor(repo.refs[ref], sha):
            raise HTTPException(422, "Update is not a fast forward")
        repo.refs[ref] = sha
        return _ref_json(gh, repo, ref)

    @app.post(R + "/git/tags", status_code=201)
    async def create_tag(owner: str, name: str, body: JSONBody) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        sha = git_sha("tag", json.dumps(body, sort_keys=True).encode())
        repo.tag_objects[sha] = {k: body[k] for k in ("tag", "message", "object", "type")}
        return _tag_json(gh, repo, sha)

    @app.get(R + "/git/tags/{sha}")
    async def get_tag(owner: str, name: str, sha: str) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        if sha not in repo.tag_objects:
            raise HTTPException(404, "Not Found")
        return _tag_json(gh, repo, sha)

    @app.get(R + "/releases")
    async def list_releases(owner: str, name: str, request: Request) -> JSONResponse:
        repo = gh.repo(owner, name)
        return _page(gh, request, [gh.release_json(repo, r) for r in reversed(repo.releases)])

    @app.get(R + "/releases/tags/{tag:path}")
    async def get_release_by_tag(owner: str, name: str, tag: str) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        for release in repo.releases:
            if release["tag_name"] == tag and not release["draft"]:
                return gh.release_json(repo, release)
        raise HTTPException(404, "Not Found")

    @app.post(R + "/releases", status_code=201, response_model=None)
    async def create_release(
        owner: str, name: str, body: JSONBody
    ) -> dict[str, Any] | JSONResponse:
        repo = gh.repo(owner, name)
        tag = body["tag_name"]
        if any(r["tag_name"] == tag for r in repo.releases):
            error = {"resource": "Release", "code": "already_exists", "field": "tag_name"}
            return JSONResponse({"message": "Validation Failed", "errors": [error]}, 422)
        if f"refs/tags/{tag}" not in repo.refs:  # as GitHub does: a lightweight tag on the branch
            branch = body.get("target_commitish") or "main"
            repo.refs[f"refs/tags/{tag}"] = repo.refs.get(f"refs/heads/{branch}", branch)
        release = repo.add_release(tag, body.get("name") or "", body.get("body") or "")
        release.update(draft=bool(body.get("draft")), prerelease=bool(body.get("prerelease")))
        return gh.release_json(repo, release)

    @app.get(R + "/releases/{release_id}")
    async def get_release(owner: str, name: str, release_id: int) -> dict[str, Any]:
        repo = gh.repo(owner, name)
        return gh.release_json(repo, repo.release(release_id))

    @app.get(R + "/releases/{release_id}/assets")
    async def list_assets(owner: str, name: str, release_id: int, request: Request) -> JSONResponse:
        repo = gh.repo(owner, name)
        release = repo.release(release_id)
        return _page(gh, request, [gh.asset_json(repo, release, n) for n in release["assets"]])

    @app.get(R + "/releases/assets/{asset_id}", response_model=None)
    async def get_asset(
        owner: str, name: str, asset_id: int, request: Request
    ) -> dict[str, Any] | RedirectResponse:
        repo = gh.repo(owner, name)
        release, asset_name = repo.asset(asset_id)
        asset = gh.asset_json(repo, release, asset_name)
        if "application/octet-stream" in request.headers.get("accept", ""):
            return RedirectResponse(asset["browser_download_url"], 302)  # GitHub: to its storage
        return asset

    @app.get("/{owner}/{name}/releases/download/{tag}/{asset_name}")
    async def download_asset(owner: str, name: str, tag: str, asset_name: str) -> Response:
        repo = gh.repo(owner, name)
        for release in repo.releases:
            if release["tag_name"] == tag and asset_name in release["assets"]:
                return Response(
                    release["assets"][asset_name], media_type="application/octet-stream"
                )
        raise HTTPException(404, "Not Found")

    @app.post(
        "/uploads" + R + "/releases/{release_id}/assets", status_code=201, response_model=None
    )
    async def upload_asset(
        owner: str, name: str, release_id: int, request: Request
    ) -> dict[str, Any] | JSONResponse:
        repo = gh.repo(owner, name)
        release = repo.release(release_id)
        asset_name = request.query_params.get("name")
        if not asset_name:
            raise HTTPException(422, "Validation Failed")
        if asset_name in release["assets"]:
            error = {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
            return JSONResponse({"message": "Validation Failed", "errors": [error]}, 422)
        content_type = request.headers.get("content-type", "application/octet-stream")
        repo.add_asset(release, asset_name, await request.body(), content_type)
        return gh.asset_json(repo, release, asset_name)

    return app


def _listing(repo: FakeRepo, tree_sha: str, prefix: str) -> list[dict[str, Any]]:
    """A recursive tree listing: every entry (directories too) with its full path."""
    out = []
    for e in repo.trees[tree_sha]:
        out.append({**e, "path": prefix + e["path"]})
        if e["type"] == "tree":
            out += _listing(repo, e["sha"], f"{prefix}{e['path']}/")
    return out


def _flat(repo: FakeRepo, tree_sha: str) -> dict[str, str]:
    """path -> blob sha of every file under a tree."""
    return {e["path"]: e["sha"] for e in _listing(repo, tree_sha, "") if e["type"] != "tree"}


def _body_too_long() -> JSONResponse:
    """GitHub's 422 for a comment over its limit (as answered to POST and PATCH)."""
    error = {"resource": "IssueComment", "code": "custom", "field": "body",
             "message": f"body is too long (maximum is {COMMENT_LIMIT} characters)"}  # fmt: skip
    return JSONResponse({"message": "Validation Failed", "errors": [error]}, 422)


def _installation_token(kind: str, app_id: int, installation: int) -> str:
    """A token shaped like GitHub's: ``ghs_`` + 36 characters, or ``ghs_<app id>_<JWT>``."""
    serial = next(_ids)
    if kind != "stateless":
        return f"ghs_{hashlib.sha1(str(serial).encode()).hexdigest()[:36]}"

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "s2s"}).encode())
    claims = {"iss": "github", "app": app_id, "inst": installation, "jti": serial,
              "exp": 32503680000, "scope": "installation"}  # fmt: skip
    payload = part(json.dumps(claims).encode())
    signature = part(hashlib.sha512(str(serial).encode()).digest() * 4)  # 256 bytes, as RS2048's
    return f"ghs_{app_id}_{header}.{payload}.{signature}"


async def _conditional(request: Request, response: Any) -> Response:
    """GitHub's conditional requests ("Best practices for using the REST API", *Use
    conditional requests if appropriate*): every answer has an ``etag``; a GET whose
    ``If-None-Match`` names the current one is answered ``304 Not Modified``, no body."""
    body = b"".join([chunk async for chunk in response.body_iterator])
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:40]}"'
    asked = [t.strip() for t in (request.headers.get("if-none-match") or "").split(",")]
    if etag in asked or etag.removeprefix("W/") in asked:
        return Response(status_code=304, headers={"etag": etag})
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body, status_code=response.status_code, headers={**headers, "etag": etag})


def _iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _invalid(code: str, **detail: str) -> JSONResponse:
    """GitHub's 422 for a pull request it will not open."""
    error = {"resource": "PullRequest", "code": code, **detail}
    return JSONResponse({"message": "Validation Failed", "errors": [error]}, 422)


def _comment(repo: FakeRepo, comment_id: int) -> dict[str, Any]:
    for comments in repo.comments.values():
        for c in comments:
            if c["id"] == comment_id:
                return c
    raise HTTPException(404, "Not Found")


def _update_run(run: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Apply a create/update body as GitHub does: annotations are appended, at most 50 a request."""
    output = body.get("output")
    if output is not None:
        if not {"title", "summary"} <= output.keys() or len(output.get("annotations", [])) > 50:
            raise HTTPException(422, "Validation Failed")
        run["annotations"] += output.get("annotations", [])
        run["output"] = {k: output[k] for k in ("title", "summary")} | {"text": output.get("text")}
    for key in ("status", "conclusion", "completed_at"):
        if key in body:
            run[key] = body[key]
    return run


def _ref_json(gh: FakeGitHub, repo: FakeRepo, ref: str) -> dict[str, Any]:
    sha = repo.refs[ref]
    kind = "tag" if sha in repo.tag_objects else "commit"
    return {"ref": ref, "url": gh.api(f"/repos/{repo.full_name}/git/{ref}"),
            "object": {"type": kind, "sha": sha, "url": gh.api(f"/repos/{repo.full_name}/git/{kind}s/{sha}")}}  # fmt: skip


def _tag_json(gh: FakeGitHub, repo: FakeRepo, sha: str) -> dict[str, Any]:
    t = repo.tag_objects[sha]
    return {"sha": sha, "tag": t["tag"], "message": t["message"], "url": gh.api(f"/repos/{repo.full_name}/git/tags/{sha}"),
            "object": {"type": t["type"], "sha": t["object"], "url": gh.api(f"/repos/{repo.full_name}/git/commits/{t['object']}")}}  # fmt: skip


def _page(
    gh: FakeGitHub, request: Request, items: list[Any], key: str | None = None
) -> JSONResponse:
    """One page of ``items``, with the Link header PyGithub follows to the next."""
    per_page = min(int(request.query_params.get("per_page", 30)), 100)  # GitHub's maximum
    page = int(request.query_params.get("page", 1))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    if page * per_page < len(items):
        query = urlencode({**request.query_params, "page": str(page + 1)})
        headers["Link"] = f'<{gh.url}{request.url.path}?{query}>; rel="next"'
    return JSONResponse({"total_count": len(items), key: chunk} if key else chunk, headers=headers)


@contextmanager
def github_server() -> Iterator[FakeGitHub]:
    """Serve a fresh FakeGitHub on 127.0.0.1 (a free port) in a background thread."""
    gh = FakeGitHub()
    sock = socket.socket(
        socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # TCP: asyncio sets TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    gh.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(  # no uvicorn Date header: the fake sends its own clock's
        gh.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2, date_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake GitHub server did not start")
        time.sleep(0.01)
    try:
        yield gh
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with github_server() as gh:
        yield gh
