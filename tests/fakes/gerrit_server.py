"""A fake Gerrit (REST API + gitiles tree listing) over real HTTP on 127.0.0.1.

It answers in Gerrit's documented formats: JSON behind the ``)]}'`` line,
file contents as base64 text, ``/a/`` paths only with HTTP basic auth (401
otherwise), project names that must arrive as one ``%2F``-encoded path
segment (it routes on the raw path, as Gerrit does), ``project~number``
change ids. It records every request, and ``fail_next`` makes the next
requests fail with a chosen status and headers, to test retries (or, with
``lose=True``, take effect and lose their answer, to test what is redone).

Tests seed it with ``add_commit``, ``add_change`` and ``add_tag``, and get a
running one from the ``fake_gerrit`` fixture (uvicorn in a thread, free port).

Changes can also be made as govbot makes them: ``POST /changes/`` (an empty
commit on the branch with a ``Change-Id:`` footer), a change edit (files,
``edit:message``) and ``edit:publish`` (a new patch set whose tree the content
and gitiles endpoints serve); the changes query knows ``project:``,
``branch:``, ``topic:`` and ``status:``; ``merge`` submits a change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from govbot.forges.gerrit import GerritForge
from govbot.forges.gerrit_rest import GerritRest

XSSI = ")]}'\n"
MODES = {"file": 0o100644, "exec": 0o100755, "symlink": 0o120000, "tree": 0o040000}
STATUSES = {"open": {"NEW"}, "merged": {"MERGED"}, "abandoned": {"ABANDONED"}}
STATUSES["closed"] = STATUSES["merged"] | STATUSES["abandoned"]
STATUSES["any"] = STATUSES["open"] | STATUSES["closed"]
_TERM = re.compile(r'\s*(-?\w+):(?:"([^"]*)"|\{([^}]*)\}|(\S+))\s*')
_AGE = re.compile(r"^(\d+)(s|sec|second|seconds|m|min|minute|minutes|h|hr|hour|hours|d|day|days)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PAGE = 500  # a server's default query limit: more changes than this come in pages
_CHANGE_ID_FOOTER = re.compile(r"^Change-Id: (I[0-9a-f]{40})$", re.MULTILINE)

Tree = dict[str, tuple[int, bytes]]


@dataclass
class Recorded:
    method: str
    path: str  # raw, still percent-encoded
    query: str
    body: Any
    authorized: bool


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: str
    path: str  # only requests whose raw path contains it ("" for any)
    method: str  # only requests with this method ("" for any)
    lose: bool  # the request takes effect, then its answer is replaced by the failure


class Sleeps(list[float]):
    """A sleep that only records: retries are checked without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class FakeGerrit:
    user: str = "govbot"
    password: str = "hunter2-http-password"
    url: str = ""
    branches: dict[tuple[str, str], str] = field(default_factory=dict)
    trees: dict[tuple[str, str], Tree] = field(default_factory=dict)
    # (project, number) -> the change: "revisions" (sha -> FileInfo map), "current",
    # "patch_sets" (shas, oldest first), "messages" (sha -> commit message), "edit"...
    changes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tags: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)  # project -> its HEAD branch
    accounts: dict[str, int] = field(default_factory=dict)  # username -> _account_id
    emails: dict[str, int] = field(default_factory=dict)  # preferred email -> _account_id
    names: dict[str, int] = field(default_factory=dict)  # full name -> _account_id
    requests: list[Recorded] = field(default_factory=list)
    private: set[str] = field(default_factory=set)  # projects anonymous users cannot read
    hidden: set[str] = field(default_factory=set)  # projects even govbot's account cannot read
    clock: float = (
        1_714_564_800.0  # the server's time (epoch seconds) for new patch sets and messages
    )
    page: int = PAGE  # changes per query answer (``_more_changes`` and ``S=`` beyond it)
    _failures: list[_Failure] = field(default_factory=list)

    # -- seeding -------------------------------------------------------------

    def add_commit(
        self,
        project: str,
        sha: str,
        files: dict[str, bytes],
        *,
        branch: str | None = None,
        modes: dict[str, str] | None = None,
    ) -> None:
        modes = modes or {}
        self.trees[project, sha] = {p: (MODES[modes.get(p, "file")], c) for p, c in files.items()}
        if branch:
            self.branches[project, branch] = sha

    def add_change(
        self,
        project: str,
        number: int,
        revision: str,
        files: dict[str, Any],
        *,
        branch: str = "master",
        topic: str | None = None,
        kind: str = "REWORK",
    ) -> None:
        """files: path -> FileInfo (e.g. {"status": "A"}); /COMMIT_MSG is added as Gerrit does.

        Adding another revision to the same number makes it the next patch set, of
        ``kind`` (RevisionInfo.kind: REWORK, TRIVIAL_REBASE, NO_CODE_CHANGE...).
        """
        change_id = "I" + _sha(f"change:{project}:{number}")
        change = self.changes.setdefault((project, str(number)), _new_change(project, branch))
        change.setdefault("change_id", change_id)
        change.setdefault("topic", topic)
        change["revisions"][revision] = {"/COMMIT_MSG": {"status": "A", "size": 42}, **files}
        change["patch_sets"].append(revision)
        change.setdefault("kinds", {})[revision] = kind
        change["messages"][revision] = f"Change {number}\n\nChange-Id: {change['change_id']}\n"
        change["current"], change["subject"] = revision, f"Change {number}"
        change.setdefault("created", {})[revision] = self.clock
        change["updated"] = self.clock

    def add_message(
        self, project: str, number: int, author: str, message: str, *, tag: str | None = None
    ) -> str:
        """A review message on the current patch set, as POST .../review leaves one (its
        first line "Patch Set N: Code-Review+1" when it votes, as Gerrit writes it)."""
        change = self.changes[project, str(number)]
        ps = change["patch_sets"].index(change["current"]) + 1
        message_id = _sha(f"msg:{project}:{number}:{len(change.setdefault('review', []))}")[:16]
        change["review"].append({"id": message_id, "author": author, "date": self.clock,
                                 "message": message, "_revision_number": ps, "tag": tag})  # fmt: skip
        change["updated"] = self.clock
        return message_id

    def add_tag(self, project: str, tag: str, revision: str, message: str = "") -> None:
        """A lightweight tag, or with a message an annotated one (as Gerrit's TagInfo shows it)."""
        info: dict[str, Any] = {"ref": f"refs/tags/{tag}", "revision": revision}
        if message:  # annotated: "revision" is the tag object, "object" the commit
            tagger = {"name": self.user, "email": f"{self.user}@example.org", "tz": 0}
            info = {
                **info,
                "revision": _sha(f"tag:{tag}"),
                "object": revision,
                "message": message,
                "tagger": {**tagger, "date": "2025-06-01 12:00:00.000000000"},
            }
        self.tags[project, tag] = info

    def merge(self, project: str, number: int, submitter: str = "chair-alice") -> str:
        """Submit the change: its branch moves to a new commit with the change's tree."""
        change = self.changes[project, str(number)]
        change["updated"] = change["submitted"] = self.clock
        change["submitter"] = submitter
        sha = _sha(f"merged:{project}:{number}:{change['current']}")
        self.trees[project, sha] = dict(self.trees.get((project, change["current"]), {}))
        self.branches[project, change["branch"]] = sha
        change["status"] = "MERGED"
        return sha

    def change(self, project: str, number: int) -> dict[str, Any]:
        return self.changes[project, str(number)]

    def forge(self, sleep: Callable[[float], object] = lambda _: None) -> GerritForge:
        """The real adapter (REST over HTTP, gitiles for trees) pointed here."""
        gitiles = f"{self.url}/plugins/gitiles"
        rest = GerritRest(self.url, self.user, self.password, gitiles_url=gitiles, sleep=sleep)
        return GerritForge(rest)

    def fail_next(
        self,
        n: int,
        status: int,
        headers: dict[str, str] | None = None,
        body: str = "",
        *,
        path: str = "",
        method: str = "",
        lose: bool = False,
    ) -> None:
        """The next ``n`` requests (with ``method``, whose raw path contains ``path``) answer
        ``status``. With ``lose`` each takes effect first: an answer lost after the work."""
        failure = _Failure(status, headers or {}, body, path, method, lose)
        self._failures.extend([failure] * n)

    def calls(self, method: str, path_part: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    @property
    def reviews(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/review")]

    # -- serving -------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def handle(request: Request) -> Response:
            raw = request.scope["raw_path"].decode("ascii")
            raw_body = await request.body()
            is_json = "json" in request.headers.get("content-type", "json")
            body = (json.loads(raw_body) if is_json else raw_body) if raw_body else None
            authorized = self._authorized(request.headers.get("authorization", ""))
            query = request.url.query
            self.requests.append(Recorded(request.method, raw, query, body, authorized))
            failure = next(
                (f for f in self._failures if f.path in raw and f.method in ("", request.method)),
                None,
            )
            if failure is not None:
                self._failures.remove(failure)
                if failure.lose:
                    self._dispatch(request.method, raw, query, body, authorized)
                return Response(
                    failure.body,
                    status_code=failure.status,
                    headers=failure.headers,
                    media_type="text/plain",
                )
            return self._dispatch(request.method, raw, query, body, authorized)

        return app

    def _dispatch(self, method: str, raw: str, query: str, body: Any, authorized: bool) -> Response:
        segments = [unquote(s) for s in raw.lstrip("/").split("/")]
        if segments[:2] == ["plugins", "gitiles"]:  # anonymous, as any browser
            return self._gitiles(segments[2:], reader=None)
        if segments[0] != "a":
            return _text(404, "Not Found")
        if not authorized:
            return _text(401, "Unauthorized")
        if segments[1:3] == ["plugins", "gitiles"]:  # the same plugin, authenticated
            return self._gitiles(segments[3:], reader=self.user)
        return self._rest(method, segments[1:], body, parse_qs(query))

    def _resolve_account(self, who: str) -> str | None:
        """The username of the account ``who`` names, as Gerrit's AccountResolver finds it:
        a bare account id first, then an email, a full name, a username."""
        by_id = {i: u for u, i in self.accounts.items()}
        if who.isdigit():
            return by_id.get(int(who))
        for table in (self.emails, self.names):
            if who in table and table[who] in by_id:
                return by_id[table[who]]
        return who if who in self.accounts else None

    def _account_info(self, username: str, details: bool) -> dict[str, Any]:
        info: dict[str, Any] = {"_account_id": self.accounts[username]}
        if details:  # "username: Only set if detailed account information is requested"
            info.update(username=username, name=username)
        return info

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def _rest(self, method: str, s: list[str], body: Any, params: dict[str, list[str]]) -> Response:
        if s[:1] == ["changes"]:
            return self._changes(method, s[1:], body, params)
        match (method, s):
            case ("GET", ["projects", project, "HEAD"]):
                # rest-api-projects.txt "Get HEAD": the ref name, as a JSON string
                return _json(f"refs/heads/{self.heads.get(project, 'master')}")
            case ("GET", ["accounts", ""]):
                # rest-api-accounts.txt "Query Account": q=username:NAME (DETAILS: username)
                query = params.get("q", [""])[0]
                operator, _, value = query.partition(":")
                if operator != "username":
                    return _text(400, f"Unsupported query {query}")
                value = value.strip('"')
                found = [u for u in self.accounts if u.casefold() == value.casefold()]
                details = "DETAILS" in params.get("o", [])
                return _json([self._account_info(u, details) for u in found])
            case ("GET", ["accounts", who]):
                # rest-api-accounts.txt "Get Account", {account-id}: "a bare account ID",
                # an email, a full name or a username all resolve, a bare id first
                username = self._resolve_account(who)
                if username is None:
                    return _text(404, f"Account '{who}' not found")
                return _json(self._account_info(username, True))
            case ("GET", ["projects", project, "branches", branch]):
                sha = self.branches.get((project, branch.removeprefix("refs/heads/")))
                if sha is None:
                    return _text(404, f"Not found: {branch}")
                return _json({"ref": f"refs/heads/{branch}", "revision": sha})
            case ("GET", ["projects", project, "commits", commit, "files", path, "content"]):
                entry = self.trees.get((project, commit), {}).get(path)
                if entry is None:
                    return _text(404, f"Not found: {path}")
                return _text(200, base64.b64encode(entry[1]).decode())
            case ("GET", ["projects", project, "tags", tag]):
                info = self.tags.get((project, tag))
                return _text(404, f"Not found: {tag}") if info is None else _json(info)
            case ("PUT", ["projects", project, "tags", tag]):
                if (project, tag) in self.tags:
                    return _text(409, f'tag "refs/tags/{tag}" already exists')
                revision = self.branches.get((project, body["revision"]), body["revision"])
                self.add_tag(project, tag, revision, body.get("message", ""))
                return _json(self.tags[project, tag], status=201)
        return _text(404, "Not Found")

    # -- changes -------------------------------------------------------------

    def _changes(
        self, method: str, s: list[str], body: Any, params: dict[str, list[str]]
    ) -> Response:
        if s in ([], [""]):
            if method == "GET":
                start = int(params.get("S", ["0"])[0] or 0)
                return self._query(params.get("q", [""])[0], params.get("o", []), start)
            if method == "POST":
                return self._create_change(body or {})
            return _text(405, "Method Not Allowed")
        found = self._find(s[0])
        if found is None:
            return _text(404, f"Not found: {s[0]}")
        number, change = found
        match (method, s[1:]):
            case ("GET", []):
                return _json(self._info(number, change, params.get("o", [])))
            case ("GET", ["revisions", rev, "files", ""]):
                files = change["revisions"].get(change["current"] if rev == "current" else rev)
                return _text(404, f"Not found: {rev}") if files is None else _json(files)
            case ("POST", ["revisions", rev, "review"]):
                # Set Review: the caller's (govbot's) label votes on that patch set
                labels = (body or {}).get("labels") or {}
                sha = change["current"] if rev == "current" else rev
                change.setdefault("labels", {}).setdefault(sha, {}).update(labels)
                return _json({"labels": labels})
            case ("GET", ["hashtags"]):
                # rest-api-changes.txt "Get Hashtags": a list of strings
                return _json(sorted(change.setdefault("hashtags", [])))
            case ("POST", ["hashtags"]):
                # "Set Hashtags": a HashtagsInput (add, remove); answers the hashtags now set
                tags = change.setdefault("hashtags", [])
                for tag in (body or {}).get("add") or []:
                    if tag not in tags:
                        tags.append(tag)
                for tag in (body or {}).get("remove") or []:
                    if tag in tags:
                        tags.remove(tag)
                return _json(sorted(tags))
            case ("GET", ["edit:message"]):
                if change["edit"] is None:
                    return _text(404, "Not found")
                return _json(base64.b64encode(change["edit"]["message"].encode()).decode())
            case ("PUT", ["edit:message"]):
                return self._edit_message(change, str((body or {}).get("message", "")))
            case ("POST", ["edit:publish"]):
                return self._publish(change)
            case ("DELETE", ["edit"]):
                if change["edit"] is None:
                    return _text(404, "Not found")
                change["edit"] = None
                return Response(status_code=204)
            case ("PUT", ["edit", *path]) if path:
                return self._edit_file(change, "/".join(path), _file_content(body))
            case ("DELETE", ["edit", *path]) if path:
                return self._edit_file(change, "/".join(path), None)
        return _text(404, "Not Found")

    def _find(self, change_id: str) -> tuple[str, dict[str, Any]] | None:
        """``project~number`` (the project %2F-encoded), or a bare number."""
        project, _, number = change_id.rpartition("~")
        if not project:
            project = next((p for p, n in self.changes if n == number), "")
        change = self.changes.get((project, number))
        return None if change is None else (number, change)

    def _query(self, q: str, options: list[str] | None = None, start: int = 0) -> Response:
        wanted: dict[str, str] = {}
        pos = 0
        while pos < len(q):
            term = _TERM.match(q, pos)
            if term is None:
                return _text(400, f"line 1:{pos} no viable alternative at input '{q[pos:]}'")
            operator, value = term[1], next(v for v in term.groups()[1:] if v is not None)
            if operator not in ("project", "branch", "topic", "status", "-age") or (
                operator == "status" and value not in ("open", "merged", "abandoned", "closed")
            ):
                return _text(400, f"Unsupported operator {operator}:{value}")
            wanted[operator] = value.removeprefix("refs/heads/") if operator == "branch" else value
            pos = term.end()
        statuses = STATUSES[wanted["status"]] if "status" in wanted else STATUSES["any"]
        newer = 0.0
        if "-age" in wanted:  # user-search.txt: age is the time since the last update
            age = _AGE.match(wanted["-age"])
            if age is None:
                return _text(400, f"Invalid age: {wanted['-age']}")
            newer = self.clock - int(age[1]) * _UNIT[age[2][0]]
        hits = [
            self._info(number, change, options or [])
            for (project, number), change in self.changes.items()
            if wanted.get("project", project) == project
            and wanted.get("branch", change["branch"]) == change["branch"]
            and wanted.get("topic", change["topic"]) == change["topic"]
            and change["status"] in statuses
            and change.get("updated", self.clock) >= newer
        ]
        # rest-api-changes.txt "Query Changes": most recently updated first; the last
        # change of a partial answer carries "_more_changes": true; S= skips
        hits.sort(key=lambda c: (c["updated"], c["_number"]), reverse=True)
        page = hits[start : start + self.page]
        if start + self.page < len(hits):
            page[-1]["_more_changes"] = True
        return _json(page)

    def _create_change(self, body: dict[str, Any]) -> Response:
        project, branch = str(body.get("project", "")), str(body.get("branch", ""))
        branch = branch.removeprefix("refs/heads/")
        subject = str(body.get("subject", "")).strip()
        if not subject:
            return _text(400, "commit message must be non-empty")
        base = self.branches.get((project, branch))
        if base is None:
            return _text(400, f"Branch refs/heads/{branch} does not exist.")
        taken = [int(n) for _, n in self.changes] or [0]
        number = str(max(taken) + 1)
        change = _new_change(project, branch)
        change.update(
            change_id="I" + _sha(f"change:{project}:{number}"),
            topic=body.get("topic") or None,
            parent=base,
        )
        self.changes[project, number] = change
        message = f"{subject}\n\nChange-Id: {change['change_id']}\n"
        self._new_patch_set(
            project, number, change, dict(self.trees.get((project, base), {})), message
        )
        return _json(self._info(number, change, []), status=201)

    def _new_patch_set(
        self, project: str, number: str, change: dict[str, Any], tree: Tree, message: str
    ) -> str:
        sha = _sha(f"{project}:{number}:{len(change['patch_sets']) + 1}:{message}")
        self.trees[project, sha] = tree
        parent = self.trees.get((project, change.get("parent", "")), {})
        files: dict[str, Any] = {"/COMMIT_MSG": {"status": "A", "size": len(message)}}
        for path in sorted(parent.keys() | tree.keys()):
            if path not in tree:
                files[path] = {"status": "D"}
            elif path not in parent:
                files[path] = {"status": "A"}
            elif tree[path] != parent[path]:
                files[path] = {}  # "M" is the default status, left out as Gerrit does
        change["revisions"][sha] = files
        change["patch_sets"].append(sha)
        change["messages"][sha] = message
        change["current"] = sha
        change.setdefault("created", {})[sha] = self.clock
        change["updated"] = self.clock
        change["subject"] = message.split("\n", 1)[0]
        return sha

    def _edit(self, change: dict[str, Any]) -> dict[str, Any]:
        """The pending edit, as it would be made now (not stored until something changes)."""
        if change["edit"] is not None:
            return dict(change["edit"])
        current = change["current"]
        tree = dict(self.trees.get((change["project"], current), {}))
        return {"base": current, "tree": tree, "message": change["messages"][current]}

    def _edit_file(self, change: dict[str, Any], path: str, content: bytes | None) -> Response:
        edit = self._edit(change)
        tree = dict(edit["tree"])
        if content is None:
            tree.pop(path, None)
        else:
            tree[path] = (tree.get(path, (MODES["file"], b""))[0], content)
        if tree == edit["tree"]:
            return _text(409, "no changes were made")
        change["edit"] = {**edit, "tree": tree}
        return Response(status_code=204)

    def _edit_message(self, change: dict[str, Any], message: str) -> Response:
        message = message.strip() + "\n"
        footer = _CHANGE_ID_FOOTER.findall(message.rsplit("\n\n", 1)[-1])
        if not footer:
            return _text(400, "missing Change-Id footer")
        if footer != [change["change_id"]]:
            return _text(400, "wrong Change-Id footer")
        edit = self._edit(change)
        if message == edit["message"]:
            return _text(409, "New commit message cannot be same as existing commit message")
        change["edit"] = {**edit, "message": message}
        return Response(status_code=204)

    def _publish(self, change: dict[str, Any]) -> Response:
        edit = change["edit"]
        if edit is None:
            return _text(409, f"no edit exists for change {change['change_id']}")
        base = change["current"]
        same_tree = edit["tree"] == self.trees.get((change["project"], base), {})
        if same_tree and edit["message"] == change["messages"][base]:
            return _text(409, "identical tree and message")
        number = next(n for (p, n), c in self.changes.items() if c is change)
        self._new_patch_set(change["project"], number, change, edit["tree"], edit["message"])
        change["edit"] = None
        return Response(status_code=204)

    def _info(self, number: str, change: dict[str, Any], options: list[str]) -> dict[str, Any]:
        """A ChangeInfo; CURRENT_REVISION/ALL_REVISIONS add ``current_revision`` and ``revisions``."""
        project = change["project"]
        info: dict[str, Any] = {
            "id": f"{quote(project, safe='')}~{number}",
            "project": project,
            "branch": change["branch"],
            "change_id": change["change_id"],
            "subject": change["subject"],
            "status": change["status"],
            "_number": int(number),
            "owner": self._account(change.get("owner", "contributor"), options),
            "updated": _timestamp(change.get("updated", self.clock)),
        }
        if change["topic"]:
            info["topic"] = change["topic"]
        if "submitted" in change:  # ChangeInfo: "Only set for merged changes."
            info["submitted"] = _timestamp(change["submitted"])
            info["submitter"] = self._account(change["submitter"], options)
        if {"CURRENT_REVISION", "ALL_REVISIONS"} & set(options):
            shas = change["patch_sets"] if "ALL_REVISIONS" in options else [change["current"]]
            info["current_revision"] = change["current"]
            info["revisions"] = {
                sha: {
                    "_number": change["patch_sets"].index(sha) + 1,
                    "kind": change.get("kinds", {}).get(sha, "REWORK"),
                    "ref": f"refs/changes/{number[-2:]:0>2}/{number}/"
                    f"{change['patch_sets'].index(sha) + 1}",
                    "created": _timestamp(change.get("created", {}).get(sha, self.clock)),
                    "uploader": self._account(change.get("owner", "contributor"), options),
                }
                for sha in shas
            }
            if {"CURRENT_COMMIT", "ALL_COMMITS"} & set(options):
                for sha, rev in info["revisions"].items():
                    parent = change.get("parent") or change.get("parents", {}).get(sha)
                    rev["commit"] = {"parents": [{"commit": parent}] if parent else [],
                                     "subject": change["subject"]}  # fmt: skip
        if "MESSAGES" in options:  # ChangeMessageInfo: id, author, date, message, _revision_number
            info["messages"] = [
                {"id": m["id"], "author": self._account(m["author"], options),
                 "date": _timestamp(m["date"]), "message": m["message"],
                 "_revision_number": m["_revision_number"], **({"tag": m["tag"]} if m["tag"] else {})}
                for m in change.get("review", [])
            ]  # fmt: skip
        return info

    def _account(self, username: str, options: list[str]) -> dict[str, Any]:
        """An AccountInfo: only ``_account_id`` unless DETAILED_ACCOUNTS is asked."""
        account: dict[str, Any] = {"_account_id": self.accounts.get(username, 1000000)}
        if "DETAILED_ACCOUNTS" in options:
            account.update(name=username, email=f"{username}@example.org", username=username)
        return account

    def _gitiles(self, s: list[str], reader: str | None) -> Response:
        """``{project}/+/{commit}/{dir}?format=JSON``: one directory's entries.

        As the gitiles plugin's Resolver: a project the caller may not read is
        "not found", like one that does not exist ("Avoid leaking information
        by not distinguishing between project not existing and no access
        rights"); a path the commit lacks is not found either.
        """
        if "+" not in s:
            return _text(404, "Not Found")
        plus = s.index("+")
        project, commit, directory = "/".join(s[:plus]), s[plus + 1], "/".join(s[plus + 2 :])
        if project in self.hidden or (reader is None and project in self.private):
            return _text(404, "Not Found")
        if (project, commit) not in self.trees:
            return _text(404, "Not Found")
        prefix = f"{directory}/" if directory else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, (mode, content) in self.trees.get((project, commit), {}).items():
            if not path.startswith(prefix):
                continue
            name, _, deeper = path[len(prefix) :].partition("/")
            kind, mode = ("tree", MODES["tree"]) if deeper else ("blob", mode)
            entries[name] = {
                "mode": mode,
                "type": kind,
                "id": _sha(name + str(content)),
                "name": name,
            }
        if not entries and directory:
            return _text(404, "Not Found")
        return _json({"id": _sha(directory), "entries": [entries[n] for n in sorted(entries)]})


def _new_change(project: str, branch: str) -> dict[str, Any]:
    return {
        "project": project,
        "branch": branch,
        "status": "NEW",
        "subject": "",
        "revisions": {},
        "patch_sets": [],
        "messages": {},
        "edit": None,
    }


def _file_content(body: Any) -> bytes:
    """Raw bytes, or a FileContentInput's ``binary_content`` data URL (newer Gerrits)."""
    if isinstance(body, dict):
        return base64.b64decode(str(body.get("binary_content", "")).partition(";base64,")[2])
    return body if isinstance(body, bytes) else b""


def _timestamp(epoch: float) -> str:
    """Gerrit's timestamp format (rest-api.txt): "2013-02-21 11:16:36.000000000", UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1e9):09d}"


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _json(data: Any, status: int = 200) -> Response:
    return Response(XSSI + json.dumps(data), status_code=status, media_type="application/json")


def _text(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")


@contextmanager
def serve(fake: FakeGerrit) -> Iterator[str]:
    """Run ``fake`` on a free 127.0.0.1 port; yields its base URL."""
    # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY (else ~40 ms per answer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake Gerrit did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def running(**kwargs: Any) -> Iterator[FakeGerrit]:
    """A started FakeGerrit (``fake.url`` set), stopped on exit."""
    fake = FakeGerrit(**kwargs)
    with serve(fake) as url:
        fake.url = url
        yield fake


@pytest.fixture
def fake_gerrit() -> Iterator[FakeGerrit]:
    """Import into a test module (or a conftest) to use; see also ``running``."""
    with running() as fake:
        yield fake
