"""A fake Gerrit (REST API + gitiles tree listing) over real HTTP on 127.0.0.1.

It answers in Gerrit's documented formats: JSON behind the ``)]}'`` line,
file contents as base64 text, ``/a/`` paths only with HTTP basic auth (401
otherwise), project names that must arrive as one ``%2F``-encoded path
segment (it routes on the raw path, as Gerrit does), ``project~number``
change ids. It records every request, and ``fail_next`` makes the next
requests fail with a chosen status and headers, to test retries.

Tests seed it with ``add_commit``, ``add_change`` and ``add_tag``, and get a
running one from the ``fake_gerrit`` fixture (uvicorn in a thread, free port).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

XSSI = ")]}'\n"
MODES = {"file": 0o100644, "exec": 0o100755, "symlink": 0o120000, "tree": 0o040000}


@dataclass
class Recorded:
    method: str
    path: str  # raw, still percent-encoded
    query: str
    body: Any
    authorized: bool


@dataclass
class FakeGerrit:
    user: str = "govbot"
    password: str = "hunter2-http-password"
    url: str = ""
    branches: dict[tuple[str, str], str] = field(default_factory=dict)
    trees: dict[tuple[str, str], dict[str, tuple[int, bytes]]] = field(default_factory=dict)
    changes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tags: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

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

    def add_change(self, project: str, number: int, revision: str, files: dict[str, Any]) -> None:
        """files: path -> FileInfo (e.g. {"status": "A"}); /COMMIT_MSG is added as Gerrit does."""
        change = self.changes.setdefault((project, str(number)), {"revisions": {}})
        change["revisions"][revision] = {"/COMMIT_MSG": {"status": "A", "size": 42}, **files}
        change["current"] = revision

    def add_tag(self, project: str, tag: str, revision: str, message: str = "") -> None:
        info: dict[str, Any] = {"ref": f"refs/tags/{tag}", "revision": revision}
        if message:  # annotated: "revision" is the tag object, "object" the commit
            info = {**info, "revision": _sha(f"tag:{tag}"), "object": revision, "message": message}
        self.tags[project, tag] = info

    def fail_next(
        self, n: int, status: int, headers: dict[str, str] | None = None, body: str = ""
    ) -> None:
        self._failures.extend([(status, headers or {}, body)] * n)

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
            body = json.loads(raw_body) if raw_body else None
            authorized = self._authorized(request.headers.get("authorization", ""))
            self.requests.append(Recorded(request.method, raw, request.url.query, body, authorized))
            if self._failures:
                status, headers, text = self._failures.pop(0)
                return Response(text, status_code=status, headers=headers, media_type="text/plain")
            segments = [unquote(s) for s in raw.lstrip("/").split("/")]
            if segments[:2] == ["plugins", "gitiles"]:
                return self._gitiles(segments[2:])
            if segments[0] != "a":
                return _text(404, "Not Found")
            if not authorized:
                return _text(401, "Unauthorized")
            return self._rest(request.method, segments[1:], body)

        return app

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def _rest(self, method: str, s: list[str], body: Any) -> Response:
        match (method, s):
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
            case ("GET", ["changes", change_id, "revisions", rev, "files", ""]):
                change = self._change(change_id)
                if change is None:
                    return _text(404, f"Not found: {change_id}")
                files = change["revisions"].get(change["current"] if rev == "current" else rev)
                return _text(404, f"Not found: {rev}") if files is None else _json(files)
            case ("POST", ["changes", change_id, "revisions", _, "review"]):
                if self._change(change_id) is None:
                    return _text(404, f"Not found: {change_id}")
                return _json({"labels": (body or {}).get("labels", {})})
            case ("GET", ["projects", project, "tags", tag]):
                info = self.tags.get((project, tag))
                return _text(404, f"Not found: {tag}") if info is None else _json(info)
            case ("PUT", ["projects", project, "tags", tag]):
                if (project, tag) in self.tags:
                    return _text(409, f'tag "refs/tags/{tag}" already exists')
                self.add_tag(project, tag, body["revision"], body.get("message", ""))
                return _json(self.tags[project, tag], status=201)
        return _text(404, "Not Found")

    def _change(self, change_id: str) -> dict[str, Any] | None:
        project, _, number = change_id.rpartition("~")
        return self.changes.get((project, number))

    def _gitiles(self, s: list[str]) -> Response:
        """``{project}/+/{commit}/{dir}?format=JSON``: one directory's entries."""
        if "+" not in s:
            return _text(404, "Not Found")
        plus = s.index("+")
        project, commit, directory = "/".join(s[:plus]), s[plus + 1], "/".join(s[plus + 2 :])
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
        if not entries:
            return _text(404, "Not Found")
        return _json({"id": _sha(directory), "entries": [entries[n] for n in sorted(entries)]})


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _json(data: Any, status: int = 200) -> Response:
    return Response(XSSI + json.dumps(data), status_code=status, media_type="application/json")


def _text(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")


@contextmanager
def serve(fake: FakeGerrit) -> Iterator[str]:
    """Run ``fake`` on a free 127.0.0.1 port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
