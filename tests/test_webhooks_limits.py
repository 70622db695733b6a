"""The receiver's bounds: what it reads, for how long, and how much it holds at once.

The budget is tested on its own, the app through its ASGI interface (where a
test can see whether the body was read at all and can stall a sender), and
the memory bound on the real app served by uvicorn in a subprocess, whose
peak resident set size is read from /proc.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from bench.webhooks import served, sqlite_inbox
from govbot.store.db import make_engine
from govbot.store.migrate import upgrade
from webhooks.app import create_app
from webhooks.intake import LARGE_BODY, Budget, Limits
from webhooks.settings import Settings
from webhooks.signatures import sign_github

SECRET, GERRIT_SECRET = b"limits-secret", b"gerrit-secret"
MB = 1000 * 1000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'govbot.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one())


# -- the budget ------------------------------------------------------------------------


def limits(**kw: Any) -> Limits:
    base = {"max_body_bytes": 25 * 2**20, "max_bodies": 4, "max_buffered_bytes": 64 * 2**20,
            "read_timeout": 1.0, "body_deadline": 5.0}  # fmt: skip
    return Limits(**{**base, **kw})


def test_the_budget_caps_bodies_and_bytes_and_gives_them_back() -> None:
    budget = Budget(limits(max_bodies=2))
    first, second = budget.admit(1000), budget.admit(None)
    assert first is not None and second is not None
    assert budget.admit(10) is None  # a third body at once
    assert second.cover(5000) and (budget.bodies, budget.bytes) == (2, 6000)
    first.release()
    first.release()  # once only
    second.release()
    assert (budget.bodies, budget.bytes, budget.large_bytes) == (0, 0, 0)


def test_large_bodies_leave_room_for_the_ordinary_ones() -> None:
    budget = Budget(limits(max_bodies=100))
    big = [budget.admit(28 * 2**20) for _ in range(3)]  # the large share is 56 of 64 MiB
    assert big[0] is not None and big[1] is not None and big[2] is None
    small = [budget.admit(100_000) for _ in range(60)]
    assert all(t is not None for t in small)  # the reserve is theirs
    growing = budget.admit(None)
    assert growing is not None and growing.cover(LARGE_BODY)
    assert not growing.cover(LARGE_BODY + 1)  # past LARGE_BODY it needs the large share


# -- the app, through ASGI ----------------------------------------------------------------


async def call(
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes] | None,
    stall: bool = False,
) -> tuple[int, dict[str, str], bytes, int]:
    """(status, headers, body, chunks read) of one request; ``chunks=None`` fails if read."""
    sent: list[dict[str, Any]] = []
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        if chunks is None:
            raise AssertionError("the body was read")
        reads += 1
        if reads <= len(chunks):
            more = reads < len(chunks) or stall
            return {"type": "http.request", "body": chunks[reads - 1], "more_body": more}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": raw, "client": ("127.0.0.1", 1), "server": ("t", 80)}  # fmt: skip
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], answer_headers, body, reads


def github_headers(body: bytes, signature: str | None = None) -> dict[str, str]:
    return {"content-type": "application/json", "x-github-event": "pull_request",
            "x-github-delivery": hashlib.md5(body).hexdigest(), "content-length": str(len(body)),
            "x-hub-signature-256": signature or sign_github(SECRET, body)}  # fmt: skip


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    settings = Settings(github_secret=SECRET, gerrit_secret=GERRIT_SECRET, read_timeout=0.2,
                        max_body_bytes=8 * MB, max_buffered_bytes=16 * 2**20, max_bodies=8)  # fmt: skip
    return create_app(engine, settings)


@pytest.mark.parametrize("signature", [None, "sha1=abc", "sha256=short", "sha256=" + "g" * 64])
def test_a_github_body_that_cannot_be_signed_is_refused_unread(
    app: FastAPI, engine: Engine, signature: str | None
) -> None:
    headers = github_headers(b"{}")
    del headers["x-hub-signature-256"]
    if signature:
        headers["x-hub-signature-256"] = signature
    status, _, _, reads = asyncio.run(call(app, "/webhooks/github", headers, None))
    assert (status, reads, stored(engine)) == (401, 0, 0)


def test_gerrit_credentials_are_checked_before_the_body_is_read(
    app: FastAPI, engine: Engine
) -> None:
    headers = {"x-govbot-token": "wrong", "content-length": "1000000"}
    status, answer, _, reads = asyncio.run(call(app, "/webhooks/gerrit", headers, None))
    assert (status, reads, stored(engine)) == (401, 0, 0)
    assert answer["www-authenticate"].startswith("Basic")


def test_a_wrong_signature_is_found_while_reading_and_nothing_is_stored(
    app: FastAPI, engine: Engine
) -> None:
    body = json.dumps({"action": "opened", "number": 1}).encode()
    headers = github_headers(body, "sha256=" + "0" * 64)
    parts = [body[:5], body[5:]]
    status, _, _, reads = asyncio.run(call(app, "/webhooks/github", headers, parts))
    assert (status, reads, stored(engine)) == (401, 2, 0)


@pytest.mark.parametrize("source", ["github", "gerrit"])
def test_json_nested_deeper_than_python_can_parse_is_a_bad_request(
    app: FastAPI, engine: Engine, source: str
) -> None:
    """A signed 100,000-level nesting raises RecursionError in json.loads: 400, not 500."""
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    headers = github_headers(body)
    if source == "gerrit":
        headers = {"x-govbot-token": GERRIT_SECRET.decode(), "content-length": str(len(body))}
    status, _, answer, _ = asyncio.run(call(app, f"/webhooks/{source}", headers, [body]))
    assert status == 400 and b"JSON object" in answer
    assert stored(engine) == 0


def test_beyond_the_budget_a_sender_is_told_to_come_back(app: FastAPI, engine: Engine) -> None:
    """Two 7 MB bodies being read hold the large share of a 16 MiB budget: the next large
    one is refused at once (503 + Retry-After), unread; a small one still gets in."""
    big = b"x" * (7 * MB)

    async def scenario() -> list[tuple[int, dict[str, str], bytes, int]]:
        slow = [
            asyncio.create_task(
                call(app, "/webhooks/github", github_headers(big), [big[:10]], True)
            )
            for _ in range(2)
        ]
        await asyncio.sleep(0.05)
        third = await call(app, "/webhooks/github", github_headers(big), None)
        small = json.dumps({"zen": "hi"}).encode()
        ping = github_headers(small) | {"x-github-event": "ping"}
        fourth = await call(app, "/webhooks/github", ping, [small])
        return [third, fourth, *await asyncio.gather(*slow)]

    third, fourth, *slow = asyncio.run(scenario())
    assert (third[0], third[1]["retry-after"], third[3]) == (503, "5", 0)
    assert fourth[0] == 200  # the ping: small bodies have their reserve
    assert [s[0] for s in slow] == [408, 408]  # the stalled senders ran out of time
    assert stored(engine) == 0


def test_a_sender_that_stops_sending_gets_408(app: FastAPI, engine: Engine) -> None:
    body = b'{"type": "patchset-created"}'
    headers = {"x-govbot-token": GERRIT_SECRET.decode(), "content-length": str(len(body))}
    status, answer, _, _ = asyncio.run(call(app, "/webhooks/gerrit", headers, [body[:4]], True))
    assert (status, answer["connection"]) == (408, "close")
    assert stored(engine) == 0


# -- the real server's memory -------------------------------------------------------------


def peak_rss(pid: int) -> int:
    """The serving process's peak resident set size (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def post(port: int, headers: dict[str, str], body: bytes) -> tuple[int | str, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # a hang detector only
    try:
        conn.request("POST", "/webhooks/github", body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status, time.perf_counter() - start
    except OSError as e:
        return type(e).__name__, time.perf_counter() - start
    finally:
        conn.close()


def trickle(port: int, out: list[int | str]) -> None:
    """A slow sender: declares 1 MB, sends a few bytes, then waits."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(
            b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
            b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n\r\n" + b"{" * 100
        )
        out.append(int(s.recv(100).split()[1]))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_concurrent_huge_unauthenticated_bodies_leave_memory_bounded() -> None:
    """12 concurrent unauthenticated 24 MB bodies, twice (a well-formed but wrong
    signature, which must be read to be found wrong, then none at all), then 40 slow
    senders: the serving process's peak RSS stays under 250 MB, every sender is
    answered 401, 413 or 503 (408 for the slow ones), and the receiver still stores
    a real delivery afterwards."""
    body = b"x" * (24 * MB)
    forged = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "forged",
              "X-Hub-Signature-256": "sha256=" + "0" * 64}  # fmt: skip
    unsigned = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "unsigned"}
    env = {"GOVBOT_GITHUB_WEBHOOK_SECRET": SECRET.decode(), "GOVBOT_RECEIVER_READ_TIMEOUT": "1"}
    with (
        sqlite_inbox() as (inbox_env, _count),
        served("webhooks.app:create_app", {**inbox_env, **env}) as (port, pid),
    ):
        before = peak_rss(pid)
        rounds: dict[str, list[tuple[int | str, float]]] = {}
        for name, headers in (("forged", forged), ("unsigned", unsigned)):
            answers: list[tuple[int | str, float]] = []

            def one(h: dict[str, str] = headers, out: list[Any] = answers) -> None:
                out.append(post(port, h, body))

            threads = [threading.Thread(target=one) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rounds[name] = answers
        slow: list[int | str] = []
        slow_threads = [threading.Thread(target=trickle, args=(port, slow)) for _ in range(40)]
        for t in slow_threads:
            t.start()
        for t in slow_threads:
            t.join()
        peak = peak_rss(pid)
        real = json.dumps({"zen": "still here"}).encode()
        ping = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "after",
                "X-Hub-Signature-256": sign_github(SECRET, real)}  # fmt: skip
        after = post(port, ping, real)
    print(f"\npeak RSS {before / 2**20:.0f} MiB before, {peak / 2**20:.0f} MiB after; answers:")
    for name, answers in rounds.items():
        print(f"  {name}: " + ", ".join(f"{s} in {t:.2f}s" for s, t in sorted(answers, key=str)))
    print(f"  slow senders: {sorted(slow, key=str)}")
    assert peak < 250 * 2**20
    for answers in rounds.values():
        assert len(answers) == 12 and {s for s, _ in answers} <= {401, 413, 503}
    assert sorted(slow, key=str) == [408] * 40
    assert after[0] == 200
