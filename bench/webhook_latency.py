"""Webhook-to-report latency: a one-file guideline change, from "received" to "check posted".

Run it from the repo root: ``python -m bench.webhook_latency [--n 30] [--database both]``
(it drives the test fakes of ``tests/fakes``, so it needs the checkout).

Everything is the real thing except GitHub: the receiver (``webhooks.app``
under uvicorn), the inbox, the worker (``govbot.service.worker.Worker``), the
GitHub adapter (PyGithub over HTTP) and the findings cache. GitHub is the fake
of ``tests/fakes/github_server.py``, served over loopback HTTP. The receiver,
the worker and the fake share this one process (and its GIL); in production
they are separate processes.

The fake's state and app are used as they are, but by default they are served
by ``serve`` below rather than by ``github_server()``: that one binds a bare
``socket.socket()``, on which asyncio does not set TCP_NODELAY, so each
request after the first on PyGithub's keep-alive connection stalls ~40 ms
(Nagle against delayed ACK), an artifact of the fake rather than govbot's
time. ``--stock-fake`` uses ``github_server()`` unchanged, to show it.

For each delivery: a pull request whose head edits one capability's
description in ``guidelines/next.yaml`` is seeded in the fake, its signed
``pull_request.opened`` delivery is POSTed to the receiver, and the clock runs
from just before the POST (t0) until the fake forge holds the completed check
run ``govbot/check`` for that head sha (t1, polled every ``--poll-ms``).
Deliveries are sent one at a time, each after the previous one is entirely
finished (its comment and vote posted, its results committed): this is the
latency of a single change, not a load test. The first ``--warmup``
deliveries are reported apart and not counted; they fill the findings cache
and the adapter's blob cache, as a running service has them.

The GitHub adapter is built once and reused, as the service's
``forge_factory`` does; ``--forge-per-delivery`` builds a new one for every
delivery instead (every blob is then fetched again).

The time is broken down at milestones, each measured from t0: the receiver's
202 (the delivery is committed to the inbox), the worker picking it up, the
base and head read from the forge, the check computed, and the check run
recorded. Nothing here asserts on time; the exit status is 0 whatever the
figures (1 only when a delivery never gets its report).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, make_url

from govbot.core.events import ReviewRef
from govbot.core.yamlio import parse_bytes
from govbot.forges.base import CheckReport, Forge, OpenedChange, ProposedChange, Published
from govbot.forges.github import GitHubForge
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from govbot.repo.snapshots import read_directory
from govbot.service.proposals import CHECK_NAME
from govbot.service.worker import Worker
from govbot.store import migrate
from govbot.store.db import make_engine
from tests.fakes.github_server import FakeGitHub, FakeRepo, github_server
from webhooks.app import create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github

TARGET_P95_MS = 1000.0
EDITED = "guidelines/next.yaml"
REPO = "governance/guidelines"
BASE = "b" * 40
SECRET = b"bench-secret"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TIMEOUT = 60.0  # seconds a delivery may take before the run is declared broken
MILESTONES = (
    ("ack", "receiver answered 202 (delivery committed to the inbox)"),
    ("picked", "worker picked it up (claimed, parsed)"),
    ("read", "base + head read from the forge (PyGithub)"),
    ("checked", "check computed, posting the check run begins"),
    ("posted", "check run recorded by the forge  = the latency"),
    ("done", "delivery finished (comment, vote, commit; not counted)"),
)


# -- the change ----------------------------------------------------------------

_CAPABILITIES = re.compile(rb"^capabilities:[ \t]*$", re.MULTILINE)
_DESCRIPTION = re.compile(rb"^([ \t]+description:[ \t]*)(.*?)[ \t]*$", re.MULTILINE)


def edit(text: bytes, n: int) -> bytes:
    """``text`` with " (edit n)" appended to the first capability's description."""
    start = _CAPABILITIES.search(text)
    if start is None:
        raise ValueError(f"{EDITED} has no top-level 'capabilities:'")
    line = _DESCRIPTION.search(text, start.end())
    if line is None:
        raise ValueError(f"{EDITED} has no capability description")
    value = line.group(2)
    suffix = b" (edit %d)" % n
    quoted = len(value) > 1 and value[:1] in (b"'", b'"') and value[-1:] == value[:1]
    new = value[:-1] + suffix + value[-1:] if quoted else value + suffix
    return text[: line.start(2)] + new + text[line.end(2) :]


def _description(text: bytes) -> str:
    data = parse_bytes(EDITED, text).data
    first = next(iter(data["capabilities"].values()))
    return str(first["description"])


def head_sha(n: int) -> str:
    return f"{n:040x}"


def seed(repo: FakeRepo, files: dict[str, bytes], n: int) -> str:
    """Pull request ``n``: a head commit editing one description of EDITED; returns its sha."""
    sha = head_sha(n)
    repo.commit(sha, {**files, EDITED: edit(files[EDITED], n)})
    repo.add_pull(n, sha, BASE, [EDITED])
    return sha


def opened(n: int, sha: str) -> bytes:
    return json.dumps(
        {
            "action": "opened",
            "number": n,
            "pull_request": {
                "number": n,
                "title": f"edit a capability's description ({n})",
                "user": {"login": "contributor"},
                "updated_at": "2026-01-01T00:00:00Z",
                "base": {"ref": "main", "sha": BASE},
                "head": {"ref": f"topic-{n}", "sha": sha},
            },
            "repository": {"full_name": REPO},
        }
    ).encode()


# -- observing the real pieces -------------------------------------------------


@dataclass
class Marks:
    """Milestones of the delivery in flight (perf_counter seconds); one delivery at a time."""

    times: dict[str, float] = field(default_factory=dict)

    def first(self, name: str) -> None:
        self.times.setdefault(name, time.perf_counter())

    def last(self, name: str) -> None:
        self.times[name] = time.perf_counter()


class TimedForge:
    """Passes every call to the real adapter; notes when the reads end and the check post starts."""

    def __init__(self, forge: Forge, marks: Marks) -> None:
        self.forge = forge
        self.marks = marks
        self.name = forge.name

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        files = self.forge.read_files(repo, rev)
        if "checked" not in self.marks.times:
            self.marks.last("read")
        return files

    def changed_files(self, review: ReviewRef) -> list[str]:
        return self.forge.changed_files(review)

    def default_branch(self, repo: str) -> str:
        return self.forge.default_branch(repo)

    def resolve(self, repo: str, rev: str) -> str:
        return self.forge.resolve(repo, rev)

    def account_id(self, login: str) -> str | None:
        return self.forge.account_id(login)

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        return self.forge.tag_commit(repo, tag, pushed)

    def post_check(self, report: CheckReport) -> str:
        if report.name == CHECK_NAME:
            self.marks.first("checked")
        return self.forge.post_check(report)

    def upsert_comment(
        self, review: ReviewRef, marker: str, body: str, *, notify: Sequence[str] = ()
    ) -> str:
        return self.forge.upsert_comment(review, marker, body, notify=notify)

    def labels(self, review: ReviewRef) -> frozenset[str]:
        return self.forge.labels(review)

    def edit_labels(self, review: ReviewRef, add: Sequence[str], remove: Sequence[str]) -> None:
        self.forge.edit_labels(review, add, remove)

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str:
        return self.forge.create_tag(repo, tag, sha, message)

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        return self.forge.publish_release(repo, tag, name, body, assets)

    def open_change(self, change: ProposedChange) -> OpenedChange:
        return self.forge.open_change(change)

    def published(self, repo: str, tag: str) -> Published:
        return self.forge.published(repo, tag)


class ObservedWorker(Worker):
    """The real worker; it also says when it has finished a delivery, and how."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.finished: queue.Queue[tuple[float, str]] = queue.Queue()

    def run_once(self) -> str | None:
        status = super().run_once()
        if status is not None:
            self.finished.put((time.perf_counter(), status))
        return status


@contextmanager
def serve(app: Any, what: str) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1 (a free port); yields its URL.

    The socket is made with ``IPPROTO_TCP`` explicitly: asyncio sets TCP_NODELAY
    on the connections only when the socket says it is TCP, and a bare
    ``socket.socket()`` says proto 0. Without it, every request after the first
    on a keep-alive connection waits ~40 ms (Nagle against delayed ACK). uvicorn
    binding ``--host``/``--port`` itself, as in production, gets TCP_NODELAY.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def receiver(engine: Engine) -> Iterator[str]:
    """The real webhook receiver."""
    app = create_app(engine, Settings(github_secret=SECRET, gerrit_secret=SECRET))
    with serve(app, "the webhook receiver") as url:
        yield url


@contextmanager
def fake_github(stock: bool) -> Iterator[FakeGitHub]:
    """The fake forge: ``github_server()`` as it is, or its FakeGitHub served by ``serve``."""
    if stock:
        with github_server() as gh:
            yield gh
        return
    gh = FakeGitHub()
    with serve(gh.app, "the fake GitHub server") as url:
        gh.url = url
        yield gh


@contextmanager
def worker_thread(worker: Worker, idle: float) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"idle": idle}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


# -- one run -------------------------------------------------------------------


@dataclass
class Result:
    label: str
    warmup: list[float] = field(default_factory=list)  # seconds
    latencies: list[float] = field(default_factory=list)  # seconds, t1 - t0
    milestones: dict[str, list[float]] = field(default_factory=dict)  # name -> seconds since t0


def wait_for_check(repo: FakeRepo, gh: FakeGitHub, sha: str, poll: float, deadline: float) -> float:
    """The time the fake forge first holds a completed govbot/check run for ``sha``."""
    while True:
        with gh._lock:
            found = any(
                r["name"] == CHECK_NAME and r["head_sha"] == sha and r["status"] == "completed"
                for r in repo.check_runs
            )
        now = time.perf_counter()
        if found:
            return now
        if now > deadline:
            raise RuntimeError(f"no {CHECK_NAME} check run for {sha} after {TIMEOUT:g} s")
        time.sleep(poll)


def run(label: str, engine: Engine, args: argparse.Namespace) -> Result:
    files = read_directory(bundled.root())
    result = Result(label)
    marks = Marks()
    poll = args.poll_ms / 1000
    with (
        fake_github(args.stock_fake) as gh,
        tempfile.TemporaryDirectory(prefix="govbot-latency-") as tmp,
    ):
        repo = gh.add_repo(REPO)
        repo.commit(BASE, files, branch="main")
        built: list[Forge] = []

        def forge_for(source: str) -> tuple[Forge, bool]:
            marks.first("picked")
            if args.forge_per_delivery or not built:
                built[:] = [GitHubForge(base_url=gh.url, token="bench-token", throttle=False)]
            return TimedForge(built[0], marks), False

        worker = ObservedWorker(engine, forge_for, bundled.schema_set(), DiskCache(Path(tmp)))
        with (
            receiver(engine) as url,
            worker_thread(worker, args.idle_ms / 1000),
            httpx.Client(base_url=url, timeout=TIMEOUT) as client,
        ):
            for i in range(args.warmup + args.n):
                n = i + 1  # the pull request's number
                sha = seed(repo, files, n)
                body = opened(n, sha)
                headers = {
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sign_github(SECRET, body),
                }
                marks.times.clear()
                t0 = time.perf_counter()
                answer = client.post("/webhooks/github", content=body, headers=headers)
                marks.last("ack")
                if answer.status_code != 202 or answer.json().get("status") != "queued":
                    raise RuntimeError(f"the receiver answered {answer.status_code}: {answer.text}")
                deadline = t0 + TIMEOUT
                t1 = wait_for_check(repo, gh, sha, poll, deadline)
                try:
                    done, status = worker.finished.get(
                        timeout=max(0.0, deadline - time.perf_counter())
                    )
                except queue.Empty:
                    raise RuntimeError(f"delivery {n} never finished") from None
                if status != "done":
                    raise RuntimeError(f"delivery {n} ended {status!r}, not done")
                marks.times["posted"], marks.times["done"] = t1, done
                if i < args.warmup:
                    result.warmup.append(t1 - t0)
                    continue
                result.latencies.append(t1 - t0)
                for name, _ in MILESTONES:
                    if name in marks.times:
                        result.milestones.setdefault(name, []).append(marks.times[name] - t0)
    return result


# -- databases -----------------------------------------------------------------


def sqlite_run(args: argparse.Namespace) -> Result:
    with tempfile.TemporaryDirectory(prefix="govbot-latency-db-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'govbot.db'}")
        try:
            migrate.upgrade(engine)
            return run("SQLite (file, WAL)", engine, args)
        finally:
            engine.dispose()


def postgres_run(args: argparse.Namespace) -> Result | None:
    """A fresh schema, dropped afterwards; None (with a note) when PostgreSQL does not answer."""
    url = args.postgres_url
    shown = make_url(url).render_as_string(hide_password=True)
    admin = make_engine(url, connect_args={"connect_timeout": 3})
    schema = f"bench_latency_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as e:
        admin.dispose()
        print(f"PostgreSQL not measured: {shown} is unreachable ({type(e).__name__})")
        print()
        return None
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        migrate.upgrade(engine)
        return run("PostgreSQL", engine, args)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# -- the report ----------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (an observed value, never an interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def verdict(result: Result) -> str:
    return "met" if percentile(result.latencies, 0.95) * 1000 < TARGET_P95_MS else "missed"


def print_result(r: Result) -> None:
    print(r.label)
    if r.warmup:
        shown = ", ".join(f"{s * 1000:.1f}" for s in r.warmup)
        print(f"  warm-up, not counted (ms): {shown}")
    lat = r.latencies
    print(
        f"  n {len(lat)}   p50 {ms(percentile(lat, 0.5))} ms   p95 {ms(percentile(lat, 0.95))} ms"
        f"   max {ms(max(lat))} ms"
    )
    print("  what a delivery's time is made of (ms since the POST was sent):")
    print(f"    {'milestone':<56} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, text in MILESTONES:
        values = r.milestones.get(name)
        if values:
            figures = (
                f"{ms(percentile(values, 0.5))} {ms(percentile(values, 0.95))} {ms(max(values))}"
            )
            print(f"    {text:<56} {figures}")
    print(f"  target: p95 < {TARGET_P95_MS:.0f} ms: {verdict(r)}")
    print()


def print_header(args: argparse.Namespace) -> None:
    files = read_directory(bundled.root())
    size = sum(len(b) for b in files.values()) / 1e6
    forge = "a new one per delivery" if args.forge_per_delivery else "built once, reused"
    fake = "github_server() as is" if args.stock_fake else "FakeGitHub served with TCP_NODELAY"
    print(
        'govbot webhook latency: webhook received -> check run "govbot/check" posted, '
        "one-file guideline change"
    )
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs"
    )
    print(
        f"change: one capability's description in {EDITED}; "
        f"repo: the bundled corpus, {len(files)} files, {size:.2f} MB"
    )
    print(
        f"deliveries: {args.n} measured, one at a time, after {args.warmup} warm-up; "
        f"worker idle poll {args.idle_ms:g} ms; t1 polled every {args.poll_ms:g} ms"
    )
    print("setup: receiver (uvicorn) + worker + fake GitHub in this one process, loopback HTTP")
    print(f"forge: {fake}; GitHub adapter {forge}; findings cache on disk")
    print()


def print_summary(results: list[Result]) -> None:
    print(f"summary {'database':<20} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
    for r in results:
        lat = r.latencies
        figures = f"{ms(percentile(lat, 0.5))} {ms(percentile(lat, 0.95))} {ms(max(lat))}"
        print(
            f"        {r.label:<20} {len(lat):>4} {figures}  p95 < {TARGET_P95_MS:.0f} ms: {verdict(r)}"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.webhook_latency",
        description="Time from webhook received to check run posted, for a one-file change.",
    )
    p.add_argument("--n", type=int, default=30, help="measured deliveries (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="deliveries not counted (default 3)")
    p.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both", help="default both"
    )
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("GOVBOT_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES,
        help="default $GOVBOT_BENCH_POSTGRES_URL or %(default)s; a fresh schema is used and dropped",
    )
    p.add_argument("--idle-ms", type=float, default=10.0, help="worker's idle poll (default 10)")
    p.add_argument("--poll-ms", type=float, default=5.0, help="poll for the check run (default 5)")
    p.add_argument(
        "--stock-fake",
        action="store_true",
        help="serve the fake GitHub with tests' github_server() as is (its sockets lack "
        "TCP_NODELAY: ~40 ms more per keep-alive request)",
    )
    p.add_argument(
        "--forge-per-delivery",
        action="store_true",
        help="build a new GitHub adapter for every delivery (no blob cache across deliveries)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.n < 1 or args.warmup < 0:
        print("--n must be at least 1 and --warmup at least 0", file=sys.stderr)
        return 2
    probe = read_directory(bundled.root())[EDITED]
    if _description(edit(probe, 0)) == _description(probe):
        print(f"the edit of {EDITED} changes no description", file=sys.stderr)
        return 2
    print_header(args)
    results: list[Result] = []
    runs: list[Callable[[argparse.Namespace], Result | None]] = []
    if args.database in ("sqlite", "both"):
        runs.append(sqlite_run)
    if args.database in ("postgres", "both"):
        runs.append(postgres_run)
    try:
        for one in runs:
            result = one(args)
            if result is not None:
                print_result(result)
                results.append(result)
    except RuntimeError as e:
        print(f"broken run: {e}", file=sys.stderr)
        return 1
    if results:
        print_summary(results)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
