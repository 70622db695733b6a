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

from govbot.cli.common import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.service.clock import Clock
    from govbot.service.worker import Worker

DEV_SECRET_FILE = "dev-webhook-secret"
logging.getLogger("govbot").setLevel(logging.INFO)


def add_commands(sub: Any) -> None:
    p = sub.add_parser("up", help="run the webhook receiver and a worker (the embedded default)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("serve", help="run the webhook receiver only (Procfile: web)")
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="process deliveries from the inbox (Procfile: worker)")
    p.add_argument("--once", action="store_true", help="stop when the inbox is empty")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser(
        "clock",
        help="re-evaluate votes at their deadlines, remind, keep the timeline (Procfile: clock)",
    )
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p.add_argument("--interval", type=int, default=60, help="seconds between ticks")
    p.set_defaults(func=cmd_clock)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    p = sub.add_parser("gerrit-listen", help="read Gerrit's SSH stream-events into the inbox")
    p.set_defaults(func=cmd_gerrit_listen)
    p = sub.add_parser("simulate", help="send signed sample deliveries to a running govbot")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--repo", help="the local repository the sample pull request comes from")
    p.add_argument("--examples", help="also send every payload of a webhook-examples.json file")
    p.set_defaults(func=cmd_simulate)


def engine() -> Engine:
    """The configured database, migrated to the latest schema."""
    from govbot.store import migrate
    from govbot.store.db import make_engine

    eng = make_engine()
    migrate.upgrade(eng)
    return eng


def home() -> Path:
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

    lease = timedelta(seconds=float(os.environ.get("GOVBOT_WORKER_LEASE_SECONDS", "300")))
    return Worker(eng, forge_factory(), bundled.schema_set(), DiskCache(), lease=lease)


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
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    eng = engine()
    print(f"database {eng.url.render_as_string(hide_password=True)} is at the latest schema")
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

    uvicorn.run("webhooks.app:create_app", factory=True, host=host, port=port, log_level="info")


def cmd_serve(args: argparse.Namespace) -> int:
    engine()
    _serve(args.host, args.port)
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    """The receiver and a worker in one process: the embedded default for one machine."""
    from govbot.forges.registry import forge_factory
    from govbot.repo.bundled import local_repo

    ensure_dev_secret()
    worker = make_worker(engine())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="govbot-worker", daemon=True)
    thread.start()
    mode = (
        "dry-run (nothing is posted; see `govbot reports`)"
        if forge_factory()("github")[1]
        else "live"
    )
    print(
        f"govbot up: http://{args.host}:{args.port}/webhooks/github, {mode}, repo {local_repo()}",
        file=sys.stderr,
    )
    try:
        _serve(args.host, args.port)
    finally:
        stop.set()
        thread.join(timeout=10)
    return EXIT_OK


def cmd_clock(args: argparse.Namespace) -> int:
    """The scheduler process (Procfile: clock). Several may run: each act happens once."""
    import schedule

    clock = make_clock(engine())
    if args.once:
        for key in clock.tick():
            print(key)
        return EXIT_OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    schedule.every(args.interval).seconds.do(clock.tick)
    clock.tick()
    while not stop.is_set():
        schedule.run_pending()
        stop.wait(1)
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
    for event in listener.events(stop):
        record_stream_event(eng, event)
    return EXIT_OK


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def sample_deliveries(repo: Path, examples: Path | None) -> list[tuple[str, dict[str, Any]]]:
    """A pull request on the local repository (its last commit), then optional examples."""
    head = _git(repo, "rev-parse", "HEAD")
    base = _git(repo, "rev-parse", "HEAD~1")
    pr = {
        "number": 1,
        "title": _git(repo, "log", "-1", "--format=%s"),
        "state": "open",
        "merged": False,
        "html_url": "https://example.invalid/pull/1",
        "user": {"login": "contributor"},
        "updated_at": "2026-01-01T00:00:00Z",
        "base": {"ref": "main", "sha": base},
        "head": {"ref": "change", "sha": head},
    }
    repository = {
        "full_name": "governance/guidelines",
        "name": "guidelines",
        "owner": {"login": "governance"},
        "default_branch": "main",
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


def cmd_simulate(args: argparse.Namespace) -> int:
    import httpx

    from govbot.repo.bundled import local_repo
    from webhooks.signatures import sign_github

    ensure_dev_secret()
    secret = os.environ["GOVBOT_GITHUB_WEBHOOK_SECRET"].encode()
    examples = Path(args.examples) if args.examples else None
    answers: dict[int, int] = {}
    with httpx.Client(base_url=args.url, timeout=10) as client:
        for event, payload in sample_deliveries(
            Path(args.repo) if args.repo else local_repo(), examples
        ):
            body = json.dumps(payload).encode()
            headers = {
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign_github(secret, body),
                "Content-Type": "application/json",
            }
            status = client.post("/webhooks/github", content=body, headers=headers).status_code
            answers[status] = answers.get(status, 0) + 1
    print(
        f"sent {sum(answers.values())} signed delivery(ies) to {args.url}: "
        + ", ".join(f"{n}x {s}" for s, n in sorted(answers.items()))
    )
    return 0 if all(200 <= s < 300 for s in answers) else 1
