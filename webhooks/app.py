"""The webhook receiver: authenticate, store the raw delivery, answer. Nothing else.

A delivery is acknowledged only once it is committed to the inbox, so a 2xx
means "durably stored"; everything a delivery causes happens later, in a
worker. The hot path stores the raw bytes as signed (no re-serialised JSON),
with ``inbox.record``: no ORM objects, no audit row.

What can be checked from the headers is checked before a byte of the body
is read (Gerrit's credentials, the presence and form of GitHub's signature).
Bodies are then read within a budget of memory and time (``intake.py``): at
most ``max_body_bytes`` each, a cap on the bodies being read at once and on
the bytes they hold (503 + Retry-After beyond it), and a read timeout (408).
GitHub's HMAC and Gerrit's digest are computed as the chunks arrive. Checking
a delivery (HMAC, JSON, normalisation) takes a fraction of a millisecond for
a typical one, so it runs in the event loop; only large bodies go to the
threadpool. Gerrit is answered 200, not 202: the webhooks plugin before its
SC_ACCEPTED change counts only 200, 201 and 204 as success and posts again.

Writes are group commits (``group_commit.py``): the deliveries waiting to
be stored are written in one statement, in a worker thread, while the next
batch gathers on the event loop. Each request still waits for the commit
of its own row, but a burst costs one commit instead of one per delivery.
The webhook paths are answered before FastAPI's middleware and routing
(``ReceiverApp``): the receiver needs none of it.

Run it with ``uvicorn webhooks.app:create_app --factory``. The database must
be migrated beforehand (``govbot.store.migrate.upgrade``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from govbot import __version__, metrics
from govbot.forges import registry
from govbot.forges.base import PayloadError
from govbot.store import inbox
from govbot.store.inbox_batches import UNAVAILABLE
from govbot.store.models import utcnow
from webhooks.group_commit import InboxWriter, Pending
from webhooks.intake import BUSY, TOO_LARGE, Budget, ClientGone, Refused, read_body
from webhooks.settings import Settings
from webhooks.signatures import (
    Digest,
    github_mac,
    github_matches,
    verify_gerrit,
    well_formed_github,
)

log = logging.getLogger("govbot.webhooks")

Headers = Mapping[str, str]  # by lower-case name (``_headers``)
MAX_NAME = 64  # the inbox's event/action columns
MAX_DELIVERY_ID = 128


class Queued(BaseModel):
    status: Literal["queued"]
    delivery: str


class Ignored(BaseModel):
    status: Literal["ignored"]


class Duplicate(BaseModel):
    status: Literal["duplicate"]


class Pong(BaseModel):
    status: Literal["pong"]


class Problem(BaseModel):
    detail: str


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


ReadyCheck = Callable[[], str | None]
"""Raises when what it checks cannot be reached (``/readyz`` names it and answers 503);
may return a note shown beside "ok" (``dry-run``)."""


def _json(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status, headers, media_type="application/json")


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, {"detail": detail}, headers)


IGNORED = {"status": "ignored"}
DUPLICATE = {"status": "duplicate"}
INLINE_BYTES = 256 * 1024  # larger bodies are checked in the threadpool, not the event loop


@dataclass(frozen=True)
class Endpoint:
    """One sender's rules: who may send (from the headers alone, before the body is
    read), the digest fed while reading, what a body must be, and the success status."""

    source: str
    authenticate: Callable[[Headers], Response | None]
    digest: Callable[[], Digest]
    check: Callable[[bytes | bytearray, Headers, Digest], Response | Pending]
    accepted: int  # the status of "stored" and "ignored"


class Receiver:
    """The endpoints' logic, bound to one engine and one configuration."""

    def __init__(
        self, engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limits = settings.limits()
        self.budget = Budget(self.limits)
        self.writer = InboxWriter(engine, now)
        for source in ("github", "gerrit"):
            if not getattr(settings, f"{source}_secret"):
                env = f"GOVBOT_{source.upper()}_WEBHOOK_SECRET"
                log.warning("%s is not set: /webhooks/%s answers 401 to everything", env, source)
        secret = settings.github_secret or b""
        self.github_endpoint = Endpoint(
            "github", self.github_authenticate, lambda: github_mac(secret), self.github, 202
        )
        # Gerrit's webhooks plugin before its SC_ACCEPTED change counts only 200, 201
        # and 204 as success and posts a 202-answered event again: answer it 200.
        self.gerrit_endpoint = Endpoint(
            "gerrit", self.gerrit_authenticate, hashlib.sha256, self.gerrit, 200
        )
        self.endpoints = {
            "/webhooks/github": self.github_endpoint,
            "/webhooks/gerrit": self.gerrit_endpoint,
        }
        # the counters' children, by label: a label lookup per delivery was a few percent of it
        self._received: dict[tuple[str, int], Any] = {}
        self._stored = {
            name: metrics.DELIVERIES_STORED.labels(name) for name in ("github", "gerrit")
        }

    async def answer(self, endpoint: Endpoint, request: Request) -> Response:
        """The answer to one delivery, counted by source and status."""
        answer = await self.receive(endpoint, request)
        key = (endpoint.source, answer.status_code)
        counter = self._received.get(key)
        if counter is None:
            counter = self._received[key] = metrics.DELIVERIES_RECEIVED.labels(*key)
        counter.inc()
        return answer

    async def receive(self, endpoint: Endpoint, request: Request) -> Response:
        headers = _headers(request.scope)
        refused = endpoint.authenticate(headers)
        if refused is not None:
            return refused  # not a byte read: uvicorn discards the body as it arrives
        declared = headers.get("content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
        if length is not None and length > self.limits.max_body_bytes:
            return _problem(413, TOO_LARGE)
        ticket = self.budget.admit(length)
        if ticket is None:
            log.warning("delivery refused: %d bodies being read, %d bytes held",
                        self.budget.bodies, self.budget.bytes)  # fmt: skip
            return self._retry_later(BUSY)
        try:
            digest = endpoint.digest()
            try:
                body = await read_body(request.receive, ticket, self.limits, digest.update)
            except Refused as e:
                if e.status == 503:
                    return self._retry_later(e.detail)
                return _problem(e.status, e.detail, {"Connection": "close"})
            except ClientGone:
                return _problem(400, "the sender disconnected before the body was read")
            if len(body) <= INLINE_BYTES:
                outcome = endpoint.check(body, headers, digest)
            else:
                outcome = await run_in_threadpool(endpoint.check, body, headers, digest)
            if isinstance(outcome, Response):
                return outcome
            return await self._store(outcome, endpoint.accepted)
        finally:
            ticket.release()

    def _retry_later(self, detail: str) -> Response:
        return _problem(503, detail, {"Retry-After": str(self.limits.retry_after)})

    async def _store(self, pending: Pending, accepted: int) -> Response:
        source, delivery, event, action, *_ = pending
        try:
            new = await self.writer.store(pending)
        except UNAVAILABLE as e:
            log.error("%s delivery %s not stored: %s", source, delivery, type(e).__name__)
            return self._retry_later("the database is unavailable; deliver again later")
        if not new:
            log.info("%s %s delivery %s is a redelivery", source, event, delivery)
            return _json(200, DUPLICATE)
        self._stored[source].inc()
        log.debug("%s %s.%s delivery %s queued", source, event, action, delivery)
        return _json(accepted, {"status": "queued", "delivery": delivery})

    def github_authenticate(self, headers: Headers) -> Response | None:
        """401 before reading when no body could pass: no secret, no well-formed signature."""
        if self.settings.github_secret and well_formed_github(headers.get("x-hub-signature-256")):
            return None
        return self._github_unsigned(headers)

    def _github_unsigned(self, headers: Headers) -> Response:
        delivery = headers.get("x-github-delivery")
        log.warning("github delivery %s rejected: missing or bad signature", delivery)
        return _problem(401, "missing or bad X-Hub-Signature-256")

    def github(self, body: bytes | bytearray, headers: Headers, mac: Digest) -> Response | Pending:

        if not github_matches(mac, headers.get("x-hub-signature-256")):
            return self._github_unsigned(headers)
        delivery = headers.get("x-github-delivery")
        event = headers.get("x-github-event")
        if not event or not delivery:
            return _problem(400, "X-GitHub-Event and X-GitHub-Delivery are required")
        if len(event) > MAX_NAME or len(delivery) > MAX_DELIVERY_ID:
            return _problem(400, "X-GitHub-Event or X-GitHub-Delivery is too long")
        if event == "ping":  # sent when the hook is set up; carries its config, nothing to do
            log.info("github ping, delivery %s", delivery)
            return _json(200, {"status": "pong"})
        payload = _parse(body)
        if payload is None:
            return _problem(
                400, "the body is not a JSON object (use content type application/json)"
            )
        action = payload.get("action")
        if not isinstance(action, str) or len(action) > MAX_NAME:
            action = None
        try:
            events = registry.normalise("github", event, payload)
        except PayloadError as e:
            log.warning("github %s.%s delivery %s refused: %s", event, action, delivery, e)
            return _problem(400, str(e))
        if events is None:
            log.info("github %s.%s delivery %s ignored", event, action, delivery)
            return _json(202, IGNORED)
        # The delivery id is not signed: a replayed body under a new id is the same event.
        key = registry.event_key("github", event, payload, mac.hexdigest())
        return ("github", delivery, event, action, bytes(body), key)

    def gerrit_authenticate(self, headers: Headers) -> Response | None:
        if verify_gerrit(
            self.settings.gerrit_secret, headers.get("authorization"), headers.get("x-govbot-token")
        ):
            return None
        log.warning("gerrit delivery rejected: missing or wrong credentials")
        return _problem(
            401, "missing or wrong credentials", {"WWW-Authenticate": 'Basic realm="govbot"'}
        )

    def gerrit(
        self, body: bytes | bytearray, headers: Headers, digest: Digest
    ) -> Response | Pending:

        payload = _parse(body)
        if payload is None:
            return _problem(400, "the body is not a JSON object")
        event = payload.get("type")
        if not isinstance(event, str) or not event or len(event) > MAX_NAME:
            return _problem(400, "the event has no valid 'type'")
        # Gerrit sends no delivery id; a retried event is byte-identical, so the
        # body's digest recognises it.
        delivery = digest.hexdigest()
        try:
            events = registry.normalise("gerrit", event, payload)
        except PayloadError as e:
            log.warning("gerrit %s delivery %s refused: %s", event, delivery, e)
            return _problem(400, str(e))
        if events is None:
            log.info("gerrit %s delivery %s ignored", event, delivery)
            return _json(200, IGNORED)
        # the event's fields, so a changed irrelevant byte is still the same event
        key = registry.event_key("gerrit", event, payload)
        return ("gerrit", delivery, event, None, bytes(body), key)

    def database_check(self) -> str | None:
        # A raw connection: no "begin" event, so no write lock taken on SQLite.
        with closing(self.engine.raw_connection()) as raw, closing(raw.cursor()) as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        return None

    def readyz(self, checks: dict[str, ReadyCheck]) -> Response:
        """Ready to work: the database and every other dependency (the forges) answer."""
        results: dict[str, str] = {}
        for name, check in {"database": self.database_check, **checks}.items():
            try:
                note = check()
                results[name] = f"ok ({note})" if note else "ok"
            except Exception as e:
                log.warning("readiness: %s unreachable: %s", name, e)
                results[name] = f"unreachable: {type(e).__name__}"
        ok = all(v.startswith("ok") for v in results.values())
        return _json(
            200 if ok else 503, {"status": "ok" if ok else "unavailable", "checks": results}
        )

    def inbox_state(self) -> tuple[dict[str, int], datetime | None, datetime]:
        """For /metrics: the inbox by status and its oldest queued delivery."""
        return inbox.counts(self.engine), inbox.oldest_queued(self.engine), self.writer.now()


def _headers(scope: Scope) -> Headers:
    """The request's headers by lower-case name, the first of each kept (as Starlette's
    ``Headers.get`` answers), read once: a delivery looks up half a dozen, and each
    lookup in Starlette's list was a scan that lower-cased the name again."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:  # names come lower-cased from the server
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _parse(body: bytes | bytearray) -> dict[str, Any] | None:
    """The body as a JSON object, or None.

    orjson parses a typical delivery three times faster than ``json`` (the
    largest single cost of a delivery). What it refuses and ``json`` accepts
    (integers past 64 bits, lone surrogates, NaN) is parsed by ``json``, so
    the receiver accepts exactly what the worker can read; nesting deeper than
    Python's stack (RecursionError) is malformed like any bad JSON.
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
    return payload if isinstance(payload, dict) else None


def _header(name: str, description: str, required: bool = True) -> dict[str, Any]:
    schema = {"type": "string"}
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _answer(model: Any, description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


_JSON_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
_HANDLED = "Stored in the inbox (queued), or not an event govbot handles (ignored)"
_COMMON: dict[int | str, dict[str, Any]] = {
    400: _answer(Problem, "Malformed: not JSON, a required header or field missing"),
    408: _answer(Problem, "The body was not sent in time (GOVBOT_RECEIVER_READ_TIMEOUT)"),
    413: _answer(Problem, "The body exceeds GOVBOT_MAX_BODY_BYTES"),
    503: _answer(
        Problem,
        "The database is unavailable, or the receiver holds as many bodies as it may; "
        "nothing was stored: deliver again after Retry-After",
    ),
}
GITHUB_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _answer(Pong | Duplicate, "A ping, or a redelivery of a stored delivery"),
    202: _answer(Queued | Ignored, _HANDLED),
    401: _answer(Problem, "Missing or bad signature, or no secret configured"),
    **_COMMON,
}
GERRIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _answer(
        Queued | Ignored | Duplicate,
        f"{_HANDLED}, or a redelivery (byte-identical body) of a stored event. Always 200: "
        "the webhooks plugin's older releases count only 200, 201 and 204 as success",
    ),
    401: _answer(Problem, "Missing or wrong credentials, or no secret configured"),
    **_COMMON,
}
READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _answer(Ready, "The database and every forge answer"),
    503: _answer(Ready, "Something govbot needs is unreachable (named in checks)"),
}
GITHUB_HEADERS = [
    _header("X-Hub-Signature-256", "sha256=HMAC-SHA256 of the raw body under the webhook secret"),
    _header("X-GitHub-Event", "The event name, e.g. pull_request"),
    _header("X-GitHub-Delivery", "The delivery's unique id; a redelivery repeats it"),
]
GERRIT_HEADERS = [
    _header("Authorization", "Basic auth whose password is the Gerrit webhook secret", False),
    _header("X-Govbot-Token", "The Gerrit webhook secret (instead of Basic auth)", False),
]


class ReceiverApp(FastAPI):
    """FastAPI, with the webhook deliveries answered before its middleware and routing.

    A delivery needs none of what FastAPI wraps around a route (the receiver
    reads its own body within its own limits and answers its own errors), and
    that wrapping (middleware, routing, dependency solving) was a fifth of the
    time to acknowledge one. The routes stay declared, with the same handler,
    for the API description and for any path this shortcut does not match.
    """

    def __init__(self, receiver: Receiver, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.receiver.endpoints.get(scope["path"])
            if endpoint is not None:
                answer = await self.receiver.answer(endpoint, Request(scope, receive))
                await answer(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(
    engine: Engine | None = None,
    settings: Settings | None = None,
    now: Callable[[], datetime] = utcnow,
    routers: Sequence[APIRouter] = (),
    ready_checks: Mapping[str, ReadyCheck] | None = None,
) -> FastAPI:
    """The receiver; with no arguments, configured from the environment (uvicorn ``--factory``).

    ``routers`` are added by the process that composes the service (``govbot up``
    adds the committee dashboard, which reads through the service layer this
    package does not import); ``ready_checks`` are what ``/readyz`` asks beyond
    the database (each forge).
    """
    serving = engine is None
    if engine is None:
        from govbot.store.db import make_engine

        engine = make_engine()
    receiver = Receiver(engine, settings or Settings.from_env(), now)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        receiver.writer.close()

    app = ReceiverApp(
        receiver,
        lifespan=lifespan,
        title="govbot",
        version=__version__,
        description="Receives GitHub and Gerrit webhooks into govbot's inbox; serves the "
        "guidelines, RefStack's API, the committee dashboard and operator signals.",
        docs_url=None,  # served below from the installed Swagger UI, never from a CDN
        redoc_url=None,
    )
    app.state.receiver = receiver
    metrics.inbox_collector(receiver.inbox_state)

    @app.post(
        "/webhooks/github",
        status_code=202,
        summary="Receive a GitHub webhook delivery",
        responses=GITHUB_RESPONSES,
        openapi_extra={"parameters": GITHUB_HEADERS, "requestBody": _JSON_BODY},
        tags=["webhooks"],
    )
    async def github(request: Request) -> Response:
        return await receiver.answer(receiver.github_endpoint, request)

    @app.post(
        "/webhooks/gerrit",
        status_code=200,
        summary="Receive a Gerrit event (webhooks plugin)",
        responses=GERRIT_RESPONSES,
        openapi_extra={"parameters": GERRIT_HEADERS, "requestBody": _JSON_BODY},
        tags=["webhooks"],
    )
    async def gerrit(request: Request) -> Response:
        return await receiver.answer(receiver.gerrit_endpoint, request)

    @app.get(
        "/healthz",
        summary="Alive: the process answers (nothing else is checked; see /readyz)",
        response_model=Alive,
        tags=["operations"],
    )
    def healthz() -> Response:
        return _json(200, {"status": "ok"})

    checks = dict(ready_checks or {})

    @app.get(
        "/readyz",
        summary="Ready: the database and the forges answer",
        responses=READY_RESPONSES,
        tags=["operations"],
    )
    def readyz() -> Response:
        return receiver.readyz(checks)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        tags=["operations"],
    )
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    from govbot.web.docs import add_docs

    add_docs(app)
    for extra in routers:
        app.include_router(extra)
    # the published guidelines and RefStack-compatible must-pass lists, from the served repo
    from govbot.repo.bundled import local_repo
    from govbot.web.site import router as site_router

    app.include_router(site_router(local_repo()))
    if serving:
        # The process serves this app alone, and everything loaded so far
        # (FastAPI, SQLAlchemy, the models) lives as long as it does: out of the
        # collector's sight, full collections stop walking it. Their pauses were
        # the long tail of the time to acknowledge (p99 ~105 ms -> ~48 ms).
        gc.freeze()
    return app
