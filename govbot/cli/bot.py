"""The bot's processes: ``up``, ``serve``, ``worker``, ``clock``, ``migrate``, ``gerrit-listen``,
and ``simulate`` (signed sample deliveries for a running bot).

The database and web stacks (SQLAlchemy, Alembic, FastAPI) take most of a
second to import, so they are imported inside the commands, never at the top.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govbot.cli.common import EXIT_OK, EXIT_USAGE, CliError, add_format, settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.service.clock import Clock
    from govbot.service.worker import Worker

DEV_SECRET_FILE = "dev-webhook-secret"
log = logging.getLogger("govbot.up")


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "up", help="run the webhook receiver, a worker and the clock (the embedded default)"
    )
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, help="default: $PORT, else 8000")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("serve", help="run the webhook receiver only (Procfile: web)")
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, help="default: $PORT, else 8000")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="process deliveries from the inbox (Procfile: worker)")
    p.add_argument("--once", action="store_true", help="stop when the inbox is empty")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser(
        "clock",
        help="re-evaluate votes at their deadlines, remind, keep the timeline (Procfile: clock)",
    )
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p.add_argument(
        "--interval",
        type=_positive,
        help="seconds between ticks (default: $GOVBOT_CLOCK_INTERVAL, 60)",
    )
    add_format(p)
    p.set_defaults(func=cmd_clock)
    p = sub.add_parser("migrate", help="bring the database schema up to date")
    add_format(p)
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("gerrit-listen", help="read Gerrit's SSH stream-events into the inbox")
    p.set_defaults(func=cmd_gerrit_listen)
    p = sub.add_parser("simulate", help="send signed sample deliveries to a running govbot")
    p.add_argument(
        "--url",
        help="the running bot (default: http://127.0.0.1:$PORT, the port `govbot up` takes)",
    )
    p.add_argument("--repo", help="the local repository the sample pull request comes from")
    p.add_argument("--examples", help="also send every payload of a webhook-examples.json file")
    add_format(p)
    p.set_defaults(func=cmd_simulate)


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {value!r}")
    return number


def engine(existing: bool = False) -> Engine:
    """The configured database, migrated to the latest schema.

    ``existing``: a command that only reads (``reports``, ``reviews``…) refuses
    to create an empty SQLite database, which would answer "nothing yet" about
    a bot whose state is elsewhere; it says where it looked instead.
    """
    from govbot.store import migrate
    from govbot.store.db import database_url, make_engine

    url = database_url()
    if existing and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise CliError(
                f"no database at {path}: start the bot first (`make run`, or `govbot up`), or "
                "point at its data with --data-dir DIR (or GOVBOT_HOME, DATABASE_URL)"
            )
    eng = make_engine(url)
    migrate.upgrade(eng)
    return eng


def home() -> Path:
    """The data directory (``main`` has resolved it into GOVBOT_HOME, absolute)."""
    return Path(os.environ.get("GOVBOT_HOME", ".govbot"))


def ensure_dev_secret() -> None:
    """With no secret configured, make one for this machine (kept in GOVBOT_HOME).

    The receiver fails closed without a secret; a generated one lets the local
    demo run with nothing configured, and ``govbot simulate`` reads the same file.
    """
    if os.environ.get("GOVBOT_GITHUB_WEBHOOK_SECRET"):
        return
    path = home() / DEV_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    value = path.read_text().strip()
    os.environ["GOVBOT_GITHUB_WEBHOOK_SECRET"] = value
    os.environ.setdefault("GOVBOT_GERRIT_WEBHOOK_SECRET", value)


def make_worker(eng: Engine) -> Worker:
    from govbot.forges.registry import forge_factory
    from govbot.repo import bundled
    from govbot.repo.cache import DiskCache
    from govbot.service.worker import Worker

    config = settings()
    lease = timedelta(seconds=config.worker_lease_seconds)
    return Worker(eng, forge_factory(), bundled.schema_set(), DiskCache(), lease=lease,
                  max_attempts=config.worker_max_attempts)  # fmt: skip


def make_clock(eng: Engine) -> Clock:
    from govbot.forges.registry import forge_factory
    from govbot.repo import bundled
    from govbot.repo.bundled import local_repo
    from govbot.repo.snapshots import read_directory
    from govbot.service.clock import Clock

    return Clock(
        eng,
        forge_factory(),
        bundled.schema_set(),
        timeline_files=lambda: read_directory(local_repo()),
        reconcile_interval=settings().reconcile_interval,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    eng = engine()
    url = eng.url.render_as_string(hide_password=True)
    if args.format == "json":
        print(json.dumps({"database": url, "schema": "latest"}))
    else:
        print(f"database {url} is at the latest schema")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    worker = make_worker(engine())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    done = worker.run(stop, once=args.once)
    print(f"worker {worker.worker_id}: {done} delivery(ies) processed", file=sys.stderr)
    return EXIT_OK


def _serve(host: str, port: int) -> None:
    import uvicorn

    from govbot.cli.logs import uvicorn_config

    uvicorn.run(
        "govbot.cli.web:web_app",
        factory=True,
        host=host,
        port=port,
        log_config=uvicorn_config(),
        log_level=settings().log_level.lower(),
    )


def _port(args: argparse.Namespace) -> int:
    return int(args.port) if args.port else settings().port


def cmd_serve(args: argparse.Namespace) -> int:
    engine()
    _serve(args.host, _port(args))
    return EXIT_OK


def run_clock(clock: Clock, stop: threading.Event, interval: float) -> None:
    """Tick every ``interval`` seconds until ``stop``; a failed tick is logged, never fatal."""
    while not stop.is_set():
        try:
            clock.tick()
        except Exception:
            log.exception("clock tick failed; trying again in %s s", interval)
        stop.wait(interval)


def cmd_up(args: argparse.Namespace) -> int:
    """The receiver, a worker and the clock in one process: the embedded default."""
    from govbot.forges.registry import forge_factory
    from govbot.repo.bundled import local_repo

    ensure_dev_secret()
    port = _port(args)
    eng = engine()
    worker, clock = make_worker(eng), make_clock(eng)
    stop = threading.Event()
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name="govbot-worker", daemon=True),
        threading.Thread(
            target=run_clock,
            args=(clock, stop, settings().clock_interval),
            name="govbot-clock",
            daemon=True,
        ),
    ]
    for t in threads:
        t.start()
    mode = (
        "dry-run (nothing is posted; see `govbot reports`)"
        if forge_factory()("github")[1]
        else "live"
    )
    base = f"http://{args.host}:{port}"
    print(
        f"govbot up: receiver, worker and clock; {mode}\n"
        f"  webhooks   {base}/webhooks/github  {base}/webhooks/gerrit\n"
        f"  dashboard  {base}/reviews\n"
        f"  site       {base}/   API docs {base}/docs   metrics {base}/metrics\n"
        f"  repo       {local_repo()}\n"
        f"  data       {home()} ({eng.url.render_as_string(hide_password=True)})\n"
        f"  stop with Ctrl-C",
        file=sys.stderr,
    )
    try:
        _serve(args.host, port)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    return EXIT_OK


def cmd_clock(args: argparse.Namespace) -> int:
    """The scheduler process (Procfile: clock). Several may run: each act happens once."""
    clock = make_clock(engine())
    if args.once:
        keys = clock.tick()
        if args.format == "json":
            print(json.dumps({"acted": keys}))
        else:
            for key in keys:
                print(key)
        return EXIT_OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    run_clock(clock, stop, args.interval or settings().clock_interval)
    return EXIT_OK


def cmd_gerrit_listen(args: argparse.Namespace) -> int:
    """SSH stream-events into the inbox: the alternative to Gerrit's webhooks plugin."""
    from govbot.forges.gerrit_stream import GerritStreamListener
    from govbot.service.ingest import record_stream_event

    host = os.environ.get("GOVBOT_GERRIT_SSH_HOST")
    user = os.environ.get("GOVBOT_GERRIT_SSH_USER")
    if not host or not user:
        print(
            "govbot: set GOVBOT_GERRIT_SSH_HOST and GOVBOT_GERRIT_SSH_USER (and _SSH_PORT, _SSH_KEYFILE)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    eng = engine()
    listener = GerritStreamListener(
        host,
        user,
        int(os.environ.get("GOVBOT_GERRIT_SSH_PORT", "29418")),
        os.environ.get("GOVBOT_GERRIT_SSH_KEYFILE"),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for event in listener.events(stop, on_gap=lambda why: _reconcile_gerrit(eng, why)):
        record_stream_event(eng, event)
    return EXIT_OK


def _reconcile_gerrit(eng: Engine, why: str) -> None:
    """The stream lost events (a reconnect, ``dropped-output``): read Gerrit back at once."""
    from govbot.forges.base import ForgeError
    from govbot.forges.registry import forge_factory
    from govbot.service.reconcile import reconcile

    forge, dry_run = forge_factory()("gerrit")
    if dry_run:
        log.warning("gerrit stream: %s, and no Gerrit REST configured to reconcile", why)
        return
    try:
        sweeps = reconcile(eng, "gerrit", forge)
    except ForgeError as e:
        log.warning("gerrit stream: %s; reconciliation failed (the clock retries): %s", why, e)
        return
    log.info("gerrit stream: %s; reconciled, %d event(s) found", why, sum(s.stored for s in sweeps))


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def sample_deliveries(repo: Path, examples: Path | None) -> list[tuple[str, dict[str, Any]]]:
    """A pull request on the local repository (its last commit), then optional examples."""
    head = _git(repo, "rev-parse", "HEAD")
    base = _git(repo, "rev-parse", "HEAD~1")
    # The branch checked out stands for the governed one: its policies judge the vote.
    branch = _git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    branch = "main" if branch == "HEAD" else branch
    pr = {
        "number": 1,
        "title": _git(repo, "log", "-1", "--format=%s"),
        "state": "open",
        "merged": False,
        "html_url": "https://example.invalid/pull/1",
        "user": {"login": "contributor"},
        "updated_at": "2026-01-01T00:00:00Z",
        "base": {"ref": branch, "sha": base},
        "head": {"ref": "change", "sha": head},
    }
    repository = {
        "full_name": "governance/guidelines",
        "name": "guidelines",
        "owner": {"login": "governance"},
        "default_branch": branch,
    }
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "pull_request",
            {"action": "opened", "number": 1, "pull_request": pr, "repository": repository},
        )
    ]
    if examples is not None:
        # {event: [payload, ...]}, the layout of @octokit/webhooks' examples
        for event, payloads in json.loads(examples.read_text()).items():
            out.extend((event, payload) for payload in payloads)
    return out


HINTS = {
    401: "the receiver refused the signature: it runs with another secret. Run `govbot simulate` "
    "with the same data directory as `govbot up` (--data-dir, or GOVBOT_HOME), or the same "
    "GOVBOT_GITHUB_WEBHOOK_SECRET",
    404: "nothing answers /webhooks/github there: is it govbot?",
}


def cmd_simulate(args: argparse.Namespace) -> int:
    import httpx

    from govbot.repo.bundled import local_repo
    from webhooks.signatures import sign_github

    ensure_dev_secret()
    args.url = args.url or f"http://127.0.0.1:{settings().port}"
    secret = os.environ["GOVBOT_GITHUB_WEBHOOK_SECRET"].encode()
    examples = Path(args.examples) if args.examples else None
    repo = Path(args.repo) if args.repo else local_repo()
    try:
        deliveries = sample_deliveries(repo, examples)
    except subprocess.CalledProcessError as e:
        raise CliError(
            f"{repo}: cannot read the last two commits for the sample pull request "
            f"({(e.stderr or '').strip() or 'git failed'}); give --repo a Git clone"
        ) from e
    answers: dict[int, int] = {}
    try:
        with httpx.Client(base_url=args.url, timeout=10) as client:
            for event, payload in deliveries:
                body = json.dumps(payload).encode()
                headers = {
                    "X-GitHub-Event": event,
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sign_github(secret, body),
                    "Content-Type": "application/json",
                }
                status = client.post("/webhooks/github", content=body, headers=headers).status_code
                answers[status] = answers.get(status, 0) + 1
    except httpx.TransportError as e:
        raise CliError(
            f"nothing answers at {args.url} ({type(e).__name__}): start the bot first "
            "(`make run`, or `govbot up`), or give --url"
        ) from e
    ok = all(200 <= s < 300 for s in answers)
    if args.format == "json":
        print(json.dumps({"url": args.url, "answers": {str(s): n for s, n in answers.items()}}))
    else:
        print(
            f"sent {sum(answers.values())} signed delivery(ies) to {args.url}: "
            + ", ".join(f"{n}x {s}" for s, n in sorted(answers.items()))
        )
    for status in sorted(answers):
        if status in HINTS:
            print(f"govbot: {status}: {HINTS[status]}", file=sys.stderr)
    return 0 if ok else 1
