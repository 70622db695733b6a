"""The webhook receiver, through the real app, on SQLite and on PostgreSQL.

What matters is what a sender sees and what ends up in the inbox: a 2xx means
the delivery is stored (once, whatever the redeliveries), and anything refused
leaves no row. GitHub's own example payloads are used as they are; payloads
built here are checked against GitHub's published schema first.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from govbot.store.db import database_url, make_engine
from govbot.store.migrate import upgrade
from tests.fakes.github_schema import SCHEMA_PATH, minimal_payload, validate_payload
from webhooks.app import INLINE_BYTES, create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github

GITHUB_SHARED = Path(__file__).resolve().parents[2] / "shared" / "github"
EXAMPLES = GITHUB_SHARED / "webhook-examples.json"
GERRIT_EVENT = Path(__file__).parent / "fixtures" / "webhooks" / "gerrit-patchset-created.json"
SECRET = b"it's a secret to everybody"
GERRIT_SECRET = b"gerrit-shared-secret"
LIMIT = 64 * 1024  # above every example (the largest is ~28 KB), small enough to exceed cheaply
SETTINGS = Settings(github_secret=SECRET, gerrit_secret=GERRIT_SECRET, max_body_bytes=LIMIT)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database; on PostgreSQL a schema of its own, dropped afterwards."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'govbot.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = database_url({"DATABASE_URL": request.getfixturevalue("postgres")})
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, SETTINGS)) as c:
        yield c


def rows(engine: Engine) -> list[tuple[str, str, str, str | None, bytes]]:
    with engine.connect() as conn:
        result = conn.execute(
            text("SELECT source, delivery_id, event, action, body FROM deliveries ORDER BY id")
        )
        return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in result]


@pytest.fixture(scope="module")
def examples() -> dict[str, list[dict[str, Any]]]:
    if not EXAMPLES.is_file():
        pytest.skip(f"GitHub's example payloads are not at {EXAMPLES}")
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))


def checked(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A hand-made payload, after GitHub's schema has agreed GitHub could send it."""
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"GitHub's webhook schema is not at {SCHEMA_PATH}")
    validate_payload(event, payload.get("action"), payload)
    return payload


def github_headers(
    event: str, body: bytes, delivery: str | None = None, secret: bytes = SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_github(secret, body),
    }


def post_github(client: TestClient, event: str, body: bytes, **kw: Any) -> httpx.Response:
    return client.post("/webhooks/github", content=body, headers=github_headers(event, body, **kw))


def synchronize(examples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A fresh copy: tests may edit it, the module-scoped examples must stay intact."""
    return copy.deepcopy(next(p for p in examples["pull_request"] if p["action"] == "synchronize"))


def test_every_github_example_is_accepted_and_the_handled_ones_stored(client, engine, examples):
    from govbot.forges.github_events import event_key, normalise

    expected = []
    seen = set()  # GitHub's examples repeat one comment and one review in several variants
    for event, payloads in examples.items():
        for payload in payloads:
            body = json.dumps(payload).encode()
            delivery = str(uuid.uuid4())
            answer = post_github(client, event, body, delivery=delivery)
            assert answer.status_code in (200, 202), (event, payload.get("action"), answer.text)
            if event == "ping":
                assert answer.json() == {"status": "pong"}
            elif normalise(event, copy.deepcopy(payload)) is None:
                assert answer.json() == {"status": "ignored"}, (event, payload.get("action"))
            elif event_key(event, payload) in seen:  # the same forge object: a duplicate
                assert answer.json() == {"status": "duplicate"}, (event, payload.get("action"))
            else:
                assert answer.json() == {"status": "queued", "delivery": delivery}
                expected.append(("github", delivery, event, payload.get("action"), body))
                seen.add(event_key(event, payload) or delivery)
    assert expected, "govbot handles none of GitHub's examples?"
    assert rows(engine) == expected  # stored verbatim, in order, nothing else


def test_a_redelivery_is_answered_duplicate_and_stored_once(client, engine, examples):
    body = json.dumps(synchronize(examples)).encode()
    delivery = str(uuid.uuid4())
    first = post_github(client, "pull_request", body, delivery=delivery)
    again = post_github(client, "pull_request", body, delivery=delivery)
    assert (first.status_code, first.json()) == (202, {"status": "queued", "delivery": delivery})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert [r[1] for r in rows(engine)] == [delivery]


def test_the_same_signed_body_under_a_new_delivery_id_is_a_duplicate(client, engine, examples):
    """X-GitHub-Delivery is not covered by the HMAC (it signs the body alone): anyone who
    captured a delivery can send it again under a new id. The event is keyed on its
    type and the body's HMAC (its signature), so the replay is answered duplicate and
    stored once."""
    body = json.dumps(synchronize(examples)).encode()
    first = post_github(client, "pull_request", body, delivery="original")
    replay = post_github(client, "pull_request", body, delivery="replayed-under-a-new-id")
    assert first.status_code == 202
    assert (replay.status_code, replay.json()) == (200, {"status": "duplicate"})
    other = synchronize(examples)
    other["pull_request"]["head"]["sha"] = "f" * 40  # a new event: a new push
    fresh = post_github(client, "pull_request", json.dumps(other).encode(), delivery="next")
    assert fresh.status_code == 202
    assert [r[1] for r in rows(engine)] == ["original", "next"]
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT event_key FROM deliveries ORDER BY id")).scalars().all()
    assert keys[0] == "pull_request:" + sign_github(SECRET, body).removeprefix("sha256=")


def test_a_gerrit_event_with_an_irrelevant_byte_changed_is_a_duplicate(client, engine):
    """Gerrit sends no delivery id; an event is its type, change, patch set,
    eventCreatedOn and acting account. Re-serialised, with a field that does not make
    the event (the change's subject since edited), it is the same event."""
    auth = ("gerrit", GERRIT_SECRET.decode())
    event = json.loads(gerrit_body())
    assert client.post("/webhooks/gerrit", content=gerrit_body(), auth=auth).json()["status"] == (
        "queued"
    )
    edited = copy.deepcopy(event)
    edited["change"]["subject"] += " (edited)"
    for body in (json.dumps(event, indent=1).encode(), json.dumps(edited).encode()):
        answer = client.post("/webhooks/gerrit", content=body, auth=auth)
        assert (answer.status_code, answer.json()) == (200, {"status": "duplicate"})
    later = copy.deepcopy(event)
    later["patchSet"]["number"] = 3  # another patch set: another event
    later["patchSet"]["revision"] = "4" * 40
    assert (
        client.post("/webhooks/gerrit", content=json.dumps(later).encode(), auth=auth).json()[
            "status"
        ]
        == "queued"
    )
    assert len(rows(engine)) == 2


def test_two_gerrit_comments_of_one_reviewer_in_one_second_are_two_events(client, engine):
    """eventCreatedOn is in seconds: a comment's text and votes are part of its identity,
    so "+1" and "recheck" sent within one second are both stored."""
    auth = ("gerrit", GERRIT_SECRET.decode())
    event = json.loads(gerrit_body())
    event |= {"type": "comment-added", "author": event["uploader"], "comment": "Patch Set 2: +1",
              "approvals": [{"type": "Code-Review", "value": "1"}]}  # fmt: skip
    second = {**event, "comment": "Patch Set 2:\n\nlooks fine", "approvals": []}
    for body in (event, second, event):
        client.post("/webhooks/gerrit", content=json.dumps(body).encode(), auth=auth)
    assert len(rows(engine)) == 2


def test_a_gerrit_events_identity_is_what_makes_it_that_event():
    """Two hashtag edits (govbot's labels) or two ref updates by one account in one
    second are two events; a body re-serialised or re-described is the same one."""
    from govbot.forges.gerrit_events import identity

    event = json.loads(gerrit_body())
    assert identity(event) == identity(json.loads(json.dumps(event, indent=2, sort_keys=True)))
    assert identity({**event, "change": {**event["change"], "url": "elsewhere"}}) == identity(event)
    assert identity({**event, "uploader": {"username": "mallory"}}) != identity(event)
    tags = {**event, "type": "hashtags-changed", "editor": event["uploader"]}
    assert identity({**tags, "added": ["a"]}) != identity({**tags, "removed": ["a"]})
    ref = {"type": "ref-updated", "submitter": event["uploader"], "eventCreatedOn": 1,
           "refUpdate": {"project": "p", "refName": "refs/tags/v1", "oldRev": "0" * 40,
                         "newRev": "1" * 40}}  # fmt: skip
    other = copy.deepcopy(ref)
    other["refUpdate"]["refName"] = "refs/tags/v2"
    assert identity(ref) != identity(other)
    assert identity({k: v for k, v in event.items() if k != "eventCreatedOn"}) is None


def test_a_stream_event_and_its_webhook_are_one_event(client, engine):
    """The same Gerrit event by stream-events and by the webhooks plugin: stored once."""
    from govbot.service.ingest import record_stream_event

    auth = ("gerrit", GERRIT_SECRET.decode())
    client.post("/webhooks/gerrit", content=gerrit_body(), auth=auth)
    assert record_stream_event(engine, json.loads(gerrit_body())) is False
    assert len(rows(engine)) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc", "wrong-secret", "other-body"],
)
def test_a_bad_signature_is_refused_and_nothing_stored(client, engine, examples, signature):
    body = json.dumps(synchronize(examples)).encode()
    headers = github_headers("pull_request", body)
    if signature is None:
        del headers["X-Hub-Signature-256"]
    elif signature == "wrong-secret":
        headers["X-Hub-Signature-256"] = sign_github(b"not the secret", body)
    elif signature == "other-body":
        headers["X-Hub-Signature-256"] = sign_github(SECRET, body + b" ")
    else:
        headers["X-Hub-Signature-256"] = signature
    answer = client.post("/webhooks/github", content=body, headers=headers)
    assert answer.status_code == 401
    assert rows(engine) == []


def test_without_a_configured_secret_every_delivery_is_refused(engine, examples):
    body = json.dumps(synchronize(examples)).encode()
    with TestClient(create_app(engine, Settings())) as c:
        assert post_github(c, "pull_request", body, secret=b"").status_code == 401
        gerrit = c.post("/webhooks/gerrit", content=b"{}", auth=("govbot", ""))
        assert gerrit.status_code == 401
    assert rows(engine) == []


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_a_required_header_missing_is_a_bad_request(client, engine, examples, missing):
    body = json.dumps(synchronize(examples)).encode()
    headers = github_headers("pull_request", body)
    del headers[missing]
    assert client.post("/webhooks/github", content=body, headers=headers).status_code == 400
    assert rows(engine) == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(client, engine, body):
    assert post_github(client, "pull_request", body).status_code == 400
    assert rows(engine) == []


def test_a_handled_event_missing_a_needed_field_is_a_bad_request(client, engine, examples):
    payload = synchronize(examples)
    del payload["pull_request"]["head"]  # deliberately not something GitHub sends
    answer = post_github(client, "pull_request", json.dumps(payload).encode())
    assert answer.status_code == 400
    assert "head" in answer.json()["detail"]
    assert rows(engine) == []


# What govbot's normaliser reads of a pull request, on top of the schema's smallest payload.
HANDLED_PULL = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "user": {"login": "alice", "id": 1, "node_id": "U_1", "type": "User"},
        "head": {"sha": "a" * 40, "ref": "topic"},
        "base": {"sha": "b" * 40, "ref": "main"},
    },
    "repository": {"full_name": "o/r"},
}


def oversized(examples: dict[str, list[dict[str, Any]]]) -> bytes:
    """A valid pull_request.synchronize made too big by a long description.

    Built from the schema, not from GitHub's example: the example predates
    fields the current schema requires.
    """
    payload = minimal_payload(
        "pull_request", "synchronize", {"pull_request": {"body": "x" * LIMIT}}
    )
    return json.dumps(checked("pull_request", payload)).encode()


def test_an_oversized_body_is_refused_before_it_is_read(client, engine, examples):
    answer = post_github(client, "pull_request", oversized(examples))
    assert answer.status_code == 413
    assert rows(engine) == []


def test_an_oversized_chunked_body_is_refused_while_it_is_read(client, engine, examples):
    body = oversized(examples)
    headers = github_headers("pull_request", body)
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))  # no Content-Length
    answer = client.post("/webhooks/github", content=chunks, headers=headers)
    assert answer.status_code == 413
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert rows(engine) == []


def test_an_event_govbot_does_not_handle_is_ignored_and_not_stored(client, engine):
    payload = checked("star", minimal_payload("star", "created"))
    answer = post_github(client, "star", json.dumps(payload).encode())
    assert (answer.status_code, answer.json()) == (202, {"status": "ignored"})
    assert rows(engine) == []


def test_a_ping_is_answered_and_not_stored(client, engine):
    payload = checked("ping", minimal_payload("ping", None, {"zen": "Keep it logically awesome."}))
    answer = post_github(client, "ping", json.dumps(payload).encode())
    assert (answer.status_code, answer.json()) == (200, {"status": "pong"})
    assert rows(engine) == []


def gerrit_body() -> bytes:
    return GERRIT_EVENT.read_bytes()


def test_gerrit_event_with_basic_auth_is_stored_once(client, engine):
    body = gerrit_body()
    digest = hashlib.sha256(body).hexdigest()
    first = client.post("/webhooks/gerrit", content=body, auth=("gerrit", GERRIT_SECRET.decode()))
    assert (first.status_code, first.json()) == (200, {"status": "queued", "delivery": digest})
    again = client.post(
        "/webhooks/gerrit", content=body, headers={"X-Govbot-Token": GERRIT_SECRET.decode()}
    )
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert rows(engine) == [("gerrit", digest, "patchset-created", None, body)]


@pytest.mark.parametrize(
    "auth",
    [
        {"auth": ("gerrit", "wrong")},
        {"headers": {"X-Govbot-Token": "wrong"}},
        {},
        {"headers": {"Authorization": "Basic !!!"}},
        {"headers": {"Authorization": "Bearer x"}},
    ],
)
def test_gerrit_without_the_secret_is_refused(client, engine, auth):
    answer = client.post("/webhooks/gerrit", content=gerrit_body(), **auth)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Basic")
    assert rows(engine) == []


def test_gerrit_ignores_unhandled_types_and_refuses_broken_events(client, engine):
    auth = ("gerrit", GERRIT_SECRET.decode())
    unhandled = json.dumps(
        {"type": "project-created", "projectName": "x", "eventCreatedOn": 1}
    ).encode()
    answer = client.post("/webhooks/gerrit", content=unhandled, auth=auth)
    assert (answer.status_code, answer.json()) == (200, {"status": "ignored"})
    broken = json.loads(gerrit_body())
    del broken["patchSet"]["revision"]
    for body in (json.dumps(broken).encode(), b"{not json", b'{"no": "type"}'):
        assert client.post("/webhooks/gerrit", content=body, auth=auth).status_code == 400
    huge = b'{"type": "patchset-created", "pad": "' + b"x" * LIMIT + b'"}'
    assert client.post("/webhooks/gerrit", content=huge, auth=auth).status_code == 413
    assert rows(engine) == []


def test_healthz_is_alive_and_readyz_checks_the_database(client):
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok"}},
    )


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/missing-dir/govbot.db", "postgresql+psycopg://postgres@127.0.0.1:1/none"],
)
def test_a_broken_database_is_503_for_health_and_deliveries(tmp_path, examples, url):
    broken = create_engine(
        url.format(tmp=tmp_path), connect_args={"connect_timeout": 2} if "psycopg" in url else {}
    )
    with TestClient(create_app(broken, SETTINGS)) as c:
        assert c.get("/healthz").status_code == 200  # alive, whatever the database
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"].startswith("unreachable")
        body = json.dumps(synchronize(examples)).encode()
        assert post_github(c, "pull_request", body).status_code == 503
        auth = ("gerrit", GERRIT_SECRET.decode())
        assert c.post("/webhooks/gerrit", content=gerrit_body(), auth=auth).status_code == 503


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app under a real uvicorn on a loopback port of its own."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(engine, SETTINGS), log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def test_through_a_real_uvicorn_server(server, engine, examples):
    body = json.dumps(synchronize(examples)).encode()
    delivery = str(uuid.uuid4())
    with httpx.Client(base_url=server, timeout=10) as http:
        assert http.get("/readyz").json()["checks"] == {"database": "ok"}
        for expected in (202, 200):  # the same connection, kept alive
            answer = http.post(
                "/webhooks/github",
                content=body,
                headers=github_headers("pull_request", body, delivery),
            )
            assert answer.status_code == expected
        big = oversized(examples)
        headers = github_headers("pull_request", big)
        assert http.post("/webhooks/github", content=big, headers=headers).status_code == 413
        chunks = (big[i : i + 8192] for i in range(0, len(big), 8192))
        assert http.post("/webhooks/github", content=chunks, headers=headers).status_code == 413
        bad = github_headers("pull_request", body, secret=b"wrong")
        assert http.post("/webhooks/github", content=body, headers=bad).status_code == 401
    assert [r[1] for r in rows(engine)] == [delivery]


def test_concurrent_deliveries_and_redeliveries_are_each_stored_once(server, engine, examples):
    """Deliveries committed together (one transaction per burst) still get their own answer.

    A 503 (the receiver busy on a loaded machine) stores nothing and is sent again.
    """
    ids = [str(uuid.uuid4()) for _ in range(20)]
    bodies = {d: json.dumps({**synchronize(examples), "test_delivery": d}).encode() for d in ids}

    async def burst() -> list[tuple[str, int]]:
        async with httpx.AsyncClient(base_url=server, timeout=30) as http:

            async def post(delivery: str) -> tuple[str, int]:
                body = bodies[delivery]  # distinct events (the same body is the same event)
                headers = github_headers("pull_request", body, delivery)
                answer = await http.post("/webhooks/github", content=body, headers=headers)
                while answer.status_code == 503:  # busy (a loaded machine): send again, as
                    await asyncio.sleep(0.05)  # a sender honouring Retry-After would
                    answer = await http.post("/webhooks/github", content=body, headers=headers)
                return delivery, answer.status_code

            return await asyncio.gather(*(post(d) for d in ids + ids))

    answers = asyncio.run(burst())
    for delivery in ids:  # one queued, one duplicate, whichever came first
        assert sorted(status for d, status in answers if d == delivery) == [200, 202]
    assert sorted(r[1] for r in rows(engine)) == sorted(ids)


def test_a_large_delivery_is_checked_off_the_event_loop_and_stored(engine):
    """Bodies over INLINE_BYTES are parsed in the threadpool; the outcome is the same."""
    payload = minimal_payload("pull_request", "synchronize", HANDLED_PULL)
    payload["pull_request"]["body"] = "y" * (INLINE_BYTES + 1)
    body = json.dumps(checked("pull_request", payload)).encode()
    settings = Settings(github_secret=SECRET, max_body_bytes=2 * len(body))
    with TestClient(create_app(engine, settings)) as c:
        answer = post_github(c, "pull_request", body)
    assert (answer.status_code, answer.json()["status"]) == (202, "queued")
    assert [r[4] for r in rows(engine)] == [body]


def test_settings_never_show_secrets():
    settings = Settings.from_env(
        {"GOVBOT_GITHUB_WEBHOOK_SECRET": "hunter2", "GOVBOT_MAX_BODY_BYTES": "10"}
    )
    assert settings.github_secret == b"hunter2" and settings.gerrit_secret is None
    assert settings.max_body_bytes == 10
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert Settings.from_env({}).max_body_bytes == 25 * 1024 * 1024
    with pytest.raises(ValueError):
        Settings.from_env({"GOVBOT_MAX_BODY_BYTES": "lots"})


def test_bench_webhooks_reports_every_figure(capsys):
    """A smoke run of ``govbot bench webhooks``: the figures are printed, never asserted."""
    from bench import webhooks as bench_webhooks

    args = argparse.Namespace(duration=1, concurrency=8, database="sqlite", repeat=2)
    assert bench_webhooks.main(args) == 0
    out = capsys.readouterr().out
    for label in (
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        bench_webhooks.BARE,
        "govbot, SQLite",
        "durably stored",
        "targets:",
        "of the bare endpoint",
        "CPU us",
        "== ranges over 2 runs",
    ):
        assert label in out, label
    assert "PostgreSQL" not in out


def test_a_repeated_signature_header_counts_only_its_first_value(client, engine, examples):
    """A sender (or a proxy) that repeats X-Hub-Signature-256 gets the first one checked,
    as Starlette's Headers.get answers: a valid signature appended after a bad one does
    not let a body through, and a bogus one appended after a good one changes nothing."""
    body = json.dumps(synchronize(examples)).encode()
    good = github_headers("pull_request", body)
    bogus = "sha256=" + "0" * 64

    def post(first: str, second: str) -> httpx.Response:
        headers = [(k, v) for k, v in good.items() if k != "X-Hub-Signature-256"]
        headers += [("X-Hub-Signature-256", first), ("X-Hub-Signature-256", second)]
        return client.post("/webhooks/github", content=body, headers=headers)

    assert post(bogus, good["X-Hub-Signature-256"]).status_code == 401
    assert rows(engine) == []
    assert post(good["X-Hub-Signature-256"], bogus).status_code == 202
    assert len(rows(engine)) == 1
