"""The receiver's OpenAPI description says what the receiver really does.

Every status code an endpoint is seen to return is declared, with a schema
the answer's body matches; every declared code is seen; and each header the
description calls required is refused when it is missing. Anyone writing a
sender (or a proxy rule) from the description gets no surprise.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import create_engine

from govbot.store.db import make_engine
from govbot.store.migrate import upgrade
from tests.fakes.github_schema import SCHEMA_PATH, minimal_payload, validate_payload
from webhooks.app import create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github

SECRET, GERRIT_SECRET, LIMIT = b"s3cret", b"g3rrit", 64 * 1024
GERRIT_EVENT = Path(__file__).parent / "fixtures" / "webhooks" / "gerrit-patchset-created.json"
Call = Callable[[TestClient], Any]


def github(event: str, body: bytes, delivery: str | None = None, **changes: str | None) -> Call:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_github(SECRET, body),
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    return lambda c: c.post("/webhooks/github", content=body, headers=headers)


def gerrit(body: bytes, password: str = GERRIT_SECRET.decode()) -> Call:
    return lambda c: c.post("/webhooks/gerrit", content=body, auth=("gerrit", password))


def stalled(path: str, headers: dict[str, str], first: bytes) -> Call:
    """A sender that sends the start of its body and then nothing (TestClient cannot:
    it sends whole bodies), straight through the app's ASGI interface."""

    def call(c: TestClient) -> httpx.Response:
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if not messages:
                messages.append({})
                return {"type": "http.request", "body": first, "more_body": True}
            await asyncio.sleep(3600)  # the receiver's read timeout ends this
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": raw,
                 "client": ("127.0.0.1", 1), "server": ("testserver", 80)}  # fmt: skip
        asyncio.run(c.app(scope, receive, send))  # type: ignore[arg-type]
        start = next(m for m in messages if m.get("type") == "http.response.start")
        body = b"".join(
            m.get("body", b"") for m in messages if m.get("type") == "http.response.body"
        )
        request = httpx.Request("POST", f"http://testserver{path}")
        return httpx.Response(start["status"], content=body, request=request)

    return call


def payloads() -> dict[str, bytes]:
    """Payloads GitHub's schema accepts: the smallest ones, with what govbot reads filled in."""
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"GitHub's webhook schema is not at {SCHEMA_PATH}")
    user = {"login": "alice", "id": 1, "node_id": "U_1", "type": "User"}
    pull = {
        "number": 7,
        "user": user,
        "head": {"sha": "a" * 40, "ref": "t"},
        "base": {"sha": "b" * 40, "ref": "main"},
    }
    sync = {"number": 7, "pull_request": pull, "repository": {"full_name": "o/r"}}
    made = {
        "sync": ("pull_request", minimal_payload("pull_request", "synchronize", sync)),
        "star": ("star", minimal_payload("star", "created")),
        "ping": ("ping", minimal_payload("ping", None)),
    }
    for event, payload in made.values():
        validate_payload(event, payload.get("action"), payload)
    return {name: json.dumps(payload).encode() for name, (_event, payload) in made.items()}


def scenarios() -> list[tuple[str, Call, bool]]:
    """(name, call, database healthy?); run in order, so the duplicates come after the originals."""
    p = payloads()
    sync, repeated, gerrit_event = p["sync"], str(uuid.uuid4()), GERRIT_EVENT.read_bytes()
    slow_github = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "slow",
                   "X-Hub-Signature-256": sign_github(SECRET, sync), "Content-Length": str(len(sync))}  # fmt: skip
    slow_gerrit = {"X-Govbot-Token": GERRIT_SECRET.decode(), "Content-Length": "100"}
    return [
        ("github queued", github("pull_request", sync, repeated), True),
        ("github duplicate", github("pull_request", sync, repeated), True),
        ("github ignored", github("star", p["star"]), True),
        ("github ping", github("ping", p["ping"]), True),
        ("github bad json", github("pull_request", b"{"), True),
        ("github no event", github("pull_request", sync, X_GitHub_Event=None), True),
        ("github no delivery", github("pull_request", sync, X_GitHub_Delivery=None), True),
        ("github unsigned", github("pull_request", sync, X_Hub_Signature_256=None), True),
        ("github too big", github("pull_request", b" " * (LIMIT + 1)), True),
        ("github too slow", stalled("/webhooks/github", slow_github, b"{"), True),
        ("github db down", github("pull_request", sync), False),
        ("gerrit queued", gerrit(gerrit_event), True),
        ("gerrit duplicate", gerrit(gerrit_event), True),
        ("gerrit ignored", gerrit(b'{"type": "project-created", "projectName": "p"}'), True),
        ("gerrit bad json", gerrit(b"{"), True),
        ("gerrit wrong password", gerrit(gerrit_event, "nope"), True),
        ("gerrit too big", gerrit(b" " * (LIMIT + 1)), True),
        ("gerrit too slow", stalled("/webhooks/gerrit", slow_gerrit, b"{"), True),
        ("gerrit db down", gerrit(gerrit_event), False),
        ("alive", lambda c: c.get("/healthz"), True),
        ("alive db down", lambda c: c.get("/healthz"), False),
        ("ready", lambda c: c.get("/readyz"), True),
        ("ready db down", lambda c: c.get("/readyz"), False),
    ]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, TestClient]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'govbot.db'}")
    upgrade(engine)
    broken = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'missing' / 'govbot.db'}")
    settings = Settings(
        github_secret=SECRET, gerrit_secret=GERRIT_SECRET, max_body_bytes=LIMIT, read_timeout=0.2
    )
    return {
        True: TestClient(create_app(engine, settings)),
        False: TestClient(create_app(broken, settings)),
    }


@pytest.fixture(scope="module")
def spec(clients: dict[bool, TestClient]) -> dict[str, Any]:
    return clients[True].get("/openapi.json").json()


@pytest.fixture(scope="module")
def observed(clients: dict[bool, TestClient]) -> list[tuple[str, str, str, int, Any]]:
    """(scenario, method, path, status, body) for every scenario, in order."""
    out = []
    for name, call, healthy in scenarios():
        answer = call(clients[healthy])
        out.append(
            (
                name,
                answer.request.method.lower(),
                answer.request.url.path,
                answer.status_code,
                answer.json(),
            )
        )
    return out


def receiver_path(path: str) -> bool:
    """The receiver's own contract; the published-guideline routes are tested in test_site."""
    return path.startswith("/webhooks/") or path in ("/healthz", "/readyz")


def test_title_version_and_routes(spec, clients):
    from govbot import __version__

    assert spec["info"]["title"] == "govbot"
    assert spec["info"]["version"] == __version__
    app_routes = {
        (m.lower(), r.path)
        for r in clients[True].app.routes
        if isinstance(r, APIRoute) and receiver_path(r.path)
        for m in r.methods
    }
    documented = {(m, p) for p, ops in spec["paths"].items() if receiver_path(p) for m in ops}
    assert (
        documented
        == app_routes
        == {
            ("post", "/webhooks/github"),
            ("post", "/webhooks/gerrit"),
            ("get", "/healthz"),
            ("get", "/readyz"),
        }
    )


def test_declared_status_codes_are_exactly_the_observed_ones(spec, observed):
    seen: dict[tuple[str, str], set[str]] = {}
    for _name, method, path, status, _body in observed:
        seen.setdefault((method, path), set()).add(str(status))
    declared = {
        (m, p): set(op["responses"])
        for p, ops in spec["paths"].items()
        if receiver_path(p)
        for m, op in ops.items()
    }
    assert seen == declared


def test_every_answer_matches_its_declared_schema(spec, observed):
    registry = Registry().with_resource(
        "urn:app", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    for name, method, path, status, body in observed:
        # A $ref into the whole document, so the schema's own "#/components/..." refs resolve.
        pointer = f"/paths/{path.replace('/', '~1')}/{method}/responses/{status}/content/application~1json/schema"
        validator = Draft202012Validator({"$ref": f"urn:app#{pointer}"}, registry=registry)
        errors = list(validator.iter_errors(body))
        assert not errors, (name, status, body, errors[0].message)


def test_each_required_header_is_refused_when_missing(spec, clients):
    parameters = spec["paths"]["/webhooks/github"]["post"]["parameters"]
    required = [p["name"] for p in parameters if p["in"] == "header" and p["required"]]
    assert set(required) == {"X-Hub-Signature-256", "X-GitHub-Event", "X-GitHub-Delivery"}
    for name in required:
        answer = github("pull_request", payloads()["sync"], **{name.replace("-", "_"): None})(
            clients[True]
        )
        assert answer.status_code in (400, 401), name
