"""``govbot bench webhooks``: how fast the receiver acknowledges durably stored deliveries.

The real app runs under uvicorn in a subprocess (one worker, loopback), once
on a fresh SQLite file and once on a fresh PostgreSQL schema, next to a bare
FastAPI endpoint that does nothing: all in the same run, so the ratios mean
something even where absolute numbers depend on the machine.

The load generator is as cheap as we can make it, because it shares the
machine with the server: raw asyncio streams, keep-alive connections, and
one request template built up front. Each request is a distinct event: the
receiver keys an event on its body's hash besides the delivery id (a body
replayed under a new id is a duplicate), so a short ``govbot_bench`` field
at the start of the body differs per request and is signed then (an HMAC of
the body, a few microseconds, in the load generator, equal for every run).
Each connection sends its next request when the previous one is answered
(a closed loop of ``concurrency`` senders), so time-to-acknowledge includes
queueing in the server. Afterwards the inbox's rows are counted: every 2xx
must be a stored delivery. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import importlib.util
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text

from govbot.store.db import database_url, make_engine
from govbot.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "github" / "webhook-examples.json"
SECRET = b"bench-secret"
TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 1000.0, 50.0, 0.5
BARE = "bare FastAPI endpoint (baseline)"
CONNECTION_ERROR = 0  # in the answers' counts: the connection failed instead
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def bare_app() -> Any:
    """The baseline: the same framework and server, an endpoint that does nothing."""
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.post("/webhooks/github")
    async def receive() -> Response:
        return Response(status_code=202)

    return app


def postgres_url() -> str:
    """Never DATABASE_URL: a benchmark has no business in the production database."""
    url = os.environ.get("GOVBOT_BENCH_POSTGRES_URL") or os.environ.get("GOVBOT_TEST_POSTGRES_URL")
    return database_url({"DATABASE_URL": url or DEFAULT_POSTGRES})


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error:
        return False
    return True


def payload() -> tuple[str, bytes]:
    """A pull_request.synchronize govbot handles: GitHub's documented example when at hand."""
    if EXAMPLES.is_file():
        examples = json.loads(EXAMPLES.read_text(encoding="utf-8"))
        for p in examples.get("pull_request", []):
            if p.get("action") == "synchronize":
                return "GitHub's documented example", json.dumps(p).encode()
    user = {"login": "alice", "id": 1, "type": "User"}
    side = {"label": "o:x", "ref": "x", "sha": "a" * 40, "user": user, "repo": {"full_name": "o/r"}}
    pr = {"number": 7, "title": "t", "html_url": "https://github.com/o/r/pull/7", "user": user}
    pr |= {"head": side, "base": {**side, "ref": "main", "sha": "b" * 40}, "body": "x" * 20000}
    built = {
        "action": "synchronize",
        "number": 7,
        "pull_request": pr,
        "repository": {"full_name": "o/r"},
    }
    return "a built-in payload", json.dumps(built | {"sender": user}).encode()


def request_parts(body: bytes, port: int) -> Callable[[str], bytes]:
    """The request for one delivery id: its body carries the id, so each is a new event."""
    from webhooks.signatures import sign_github

    assert body.startswith(b"{")
    rest = body[1:]
    head = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "User-Agent: GitHub-Hookshot/bench\r\nContent-Type: application/json\r\n"
        "X-GitHub-Event: pull_request\r\nX-Hub-Signature-256: "
    ).encode()

    def request(delivery: str) -> bytes:
        one = b'{"govbot_bench":"' + delivery.encode() + b'",' + rest
        return b"".join((
            head, sign_github(SECRET, one).encode(), b"\r\nContent-Length: ",
            str(len(one)).encode(), b"\r\nX-GitHub-Delivery: ", delivery.encode(),
            b"\r\n\r\n", one,
        ))  # fmt: skip

    return request


@dataclass
class Result:
    label: str
    answers: Counter[int]
    latencies: list[float]  # seconds, measured requests only
    seconds: float
    total_2xx: int  # warm-up included: what the inbox must hold
    stored: int | None = None
    cpu_us: float | None = None  # the server process's CPU (user + system) per answer

    @property
    def cpu(self) -> str:
        return "-" if self.cpu_us is None else f"{self.cpu_us:.0f}"

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return (
            1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]
            if ordered
            else float("nan")
        )


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"content-length:")
    if at >= 0:
        length = int(head[at + 15 : head.index(b"\r\n", at)])
        if length:
            await reader.readexactly(length)
    return status


async def _load(
    port: int, request: Callable[[str], bytes], seconds: float, concurrency: int, tag: str
) -> tuple[Counter[int], list[float], int]:
    answers: Counter[int] = Counter()
    latencies: list[float] = []
    ok = 0
    clock = time.perf_counter
    stop = clock() + seconds

    async def sender(i: int) -> None:
        nonlocal ok
        n = 0
        while clock() < stop:  # a connection the server drops is counted and replaced
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                answers[CONNECTION_ERROR] += 1
                return
            try:
                while clock() < stop:
                    n += 1
                    data = request(f"{tag}-{i}-{n}")
                    start = clock()
                    writer.write(data)
                    status = await _read_answer(reader)
                    latencies.append(clock() - start)
                    answers[status] += 1
                    ok += 200 <= status < 300
            except (OSError, asyncio.IncompleteReadError):
                answers[CONNECTION_ERROR] += 1
            finally:
                writer.close()
                with suppress(OSError, asyncio.IncompleteReadError):
                    await writer.wait_closed()

    await asyncio.gather(*(sender(i) for i in range(concurrency)))
    return answers, latencies, ok


def measure(
    label: str, port: int, body: bytes, seconds: float, concurrency: int, pid: int | None = None
) -> Result:
    parts = request_parts(body, port)
    tag = secrets.token_hex(4)
    warm = asyncio.run(_load(port, parts, min(1.0, max(0.2, seconds / 10)), concurrency, f"w{tag}"))
    cpu_before = _cpu_seconds(pid)
    start = time.perf_counter()
    answers, latencies, ok = asyncio.run(_load(port, parts, seconds, concurrency, f"m{tag}"))
    elapsed = time.perf_counter() - start
    cpu_after = _cpu_seconds(pid)
    result = Result(label, answers, latencies, elapsed, ok + warm[2])
    if cpu_before is not None and cpu_after is not None and latencies:
        result.cpu_us = (cpu_after - cpu_before) / len(latencies) * 1e6
    return result


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of process ``pid`` (all its threads), from /proc (Linux), or None.

    Throughput on a shared machine moves with the neighbours' load; the CPU a
    server spends per answer moves much less, so it is printed beside it.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _die_with_parent() -> None:
    """On Linux, the server is stopped if the bench is killed, instead of lingering."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(target: str, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """uvicorn serving ``target`` (a factory) in a subprocess; yields its port, once it
    answers, and the serving process's pid (to read its CPU time or memory)."""
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    if importlib.util.find_spec("uvloop"):
        cmd += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        cmd += ["--http", "httptools"]
    full_env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                    break
                except urllib.error.HTTPError:
                    break  # it answers (the bare app has no /healthz)
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(
                            f"uvicorn did not start: {log.read().decode(errors='replace')}"
                        ) from None
                    time.sleep(0.05)
            yield port, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def sqlite_inbox() -> Iterator[tuple[dict[str, str], Callable[[], int]]]:
    """A fresh, migrated SQLite file: the server's environment and a row counter."""
    with tempfile.TemporaryDirectory() as home:
        engine = make_engine(f"sqlite:///{Path(home) / 'govbot.db'}")
        upgrade(engine)
        try:
            yield {"DATABASE_URL": "", "GOVBOT_HOME": home}, lambda: _count(engine)
        finally:
            engine.dispose()


@contextmanager
def postgres_inbox(url: str) -> Iterator[tuple[dict[str, str], Callable[[], int]]]:
    """A fresh, migrated schema of its own, dropped afterwards."""
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield {"DATABASE_URL": f"{url}?options=-csearch_path%3D{schema}"}, lambda: _count(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one())


def run_bare(body: bytes, seconds: float, concurrency: int) -> Result:
    with served("bench.webhooks:bare_app", {}) as (port, pid):
        return measure(BARE, port, body, seconds, concurrency, pid)


def run_stored(label: str, inbox: Any, body: bytes, seconds: float, concurrency: int) -> Result:
    with inbox as (env, count):
        with served(
            "webhooks.app:create_app", {**env, "GOVBOT_GITHUB_WEBHOOK_SECRET": SECRET.decode()}
        ) as (port, pid):
            result = measure(label, port, body, seconds, concurrency, pid)
        result.stored = count()  # after the server stopped: only what was committed
    return result


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def report(
    results: list[Result], seconds: float, concurrency: int, source: str, body: bytes
) -> int:
    """Print the figures; 1 if a stored run lost or refused a delivery (never for time)."""
    fast = " + ".join(n for n in ("uvloop", "httptools") if importlib.util.find_spec(n))
    print(f"govbot bench webhooks: {seconds:g} s per run, {concurrency} keep-alive connections")
    print(f"server: uvicorn, 1 worker, {fast or 'asyncio + h11 (no uvloop/httptools installed)'}")
    print(f"payload: pull_request.synchronize, {source}, {len(body):,} bytes")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    head = f"{'deliveries/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU us':>7}"
    print(f"{'run':34} {head}  answers")
    for r in results:
        answers = ", ".join(
            f"{n} x {code or 'connection error'}" for code, n in sorted(r.answers.items())
        )
        figures = f"{r.rate:12.0f} {r.ms(0.5):8.1f} {r.ms(0.99):8.1f} {r.ms(1.0):8.1f} {r.cpu:>7}"
        print(f"{r.label:34} {figures}  {answers}")
    print("CPU us: the server process's CPU time (user + system) per answer")
    print(
        f"targets: >= {TARGET_RATE:.0f} deliveries/s stored, p99 ack < {TARGET_P99_MS:.0f} ms, "
        f">= {TARGET_RATIO:.0%} of the bare endpoint's throughput"
    )
    bare = next((r.rate for r in results if r.label == BARE), 0.0)
    failed = False
    for r in results:
        if r.stored is None:
            continue
        durable = r.stored == r.total_2xx
        failed |= not durable or set(r.answers) != {202}
        state = "durably stored" if durable else "MISMATCH: deliveries acknowledged but not stored"
        print(f"{r.label}: {r.stored} rows for {r.total_2xx} 2xx answers, {state}")
        ratio = r.rate / bare if bare else float("nan")
        print(
            f"  {r.rate:.0f}/s ({_verdict(r.rate >= TARGET_RATE)}), "
            f"p99 {r.ms(0.99):.1f} ms ({_verdict(r.ms(0.99) < TARGET_P99_MS)}), "
            f"{ratio:.0%} of the bare endpoint ({_verdict(ratio >= TARGET_RATIO)})"
        )
    return 1 if failed else 0


def main(args: argparse.Namespace) -> int:
    seconds = float(getattr(args, "duration", None) or 5)
    concurrency = int(getattr(args, "concurrency", None) or 32)
    database = getattr(args, "database", None)
    url = postgres_url()
    if database is None:
        database = "both" if postgres_reachable(url) else "sqlite"
    elif database in ("postgres", "both") and not postgres_reachable(url):
        shown = make_url(url).render_as_string(hide_password=True)
        print(
            f"PostgreSQL is not reachable at {shown} (set GOVBOT_BENCH_POSTGRES_URL)",
            file=sys.stderr,
        )
        return 2
    source, body = payload()
    repeat = max(1, int(getattr(args, "repeat", None) or 1))
    failed, runs = 0, []
    for n in range(repeat):
        if repeat > 1:
            print(f"\n== run {n + 1} of {repeat}")
        results = [run_bare(body, seconds, concurrency)]
        if database in ("sqlite", "both"):
            results.append(run_stored("govbot, SQLite", sqlite_inbox(), body, seconds, concurrency))
        if database in ("postgres", "both"):
            results.append(
                run_stored("govbot, PostgreSQL", postgres_inbox(url), body, seconds, concurrency)
            )
        failed |= report(results, seconds, concurrency, source, body)
        runs.append(results)
    if repeat > 1:
        ranges(runs)
    return failed


def ranges(runs: list[list[Result]]) -> None:
    """Each figure's range over the repeated runs: on a shared machine, one run proves little."""
    print(f"\n== ranges over {len(runs)} runs (each ratio against the bare run of the same round)")
    for label in [r.label for r in runs[0]]:
        rows = [(r, next(x for x in run if x.label == BARE)) for run in runs for r in run
                if r.label == label]  # fmt: skip
        rate = [r.rate for r, _ in rows]
        p99 = [r.ms(0.99) for r, _ in rows]
        line = f"{label:34} {min(rate):.0f}-{max(rate):.0f}/s, p99 {min(p99):.1f}-{max(p99):.1f} ms"
        if label != BARE:
            ratio = [r.rate / bare.rate for r, bare in rows if bare.rate]
            line += f", {min(ratio):.0%}-{max(ratio):.0%} of the bare endpoint"
            cpu = [bare.cpu_us / r.cpu_us for r, bare in rows if r.cpu_us and bare.cpu_us]
            if cpu:
                line += f" ({min(cpu):.0%}-{max(cpu):.0%} of its CPU per answer)"
        print(line)
