"""The service's commands: up, serve, worker, migrate, reports, deliveries, requeue, simulate."""

from __future__ import annotations

import argparse
import hashlib
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
from typing import Any

from sqlalchemy import Engine, desc, select

from govbot import bundled
from govbot.cache import DiskCache
from govbot.service.config import forge_factory, local_repo
from govbot.service.worker import Worker
from govbot.store import inbox, migrate
from govbot.store.db import make_engine
from govbot.store.models import Delivery, ReportRow, VoteResultRow

DEV_SECRET_FILE = "dev-webhook-secret"


def _engine() -> Engine:
    engine = make_engine()
    migrate.upgrade(engine)
    return engine


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


def make_worker(engine: Engine) -> Worker:
    lease = timedelta(seconds=float(os.environ.get("GOVBOT_WORKER_LEASE_SECONDS", "300")))
    return Worker(engine, forge_factory(), bundled.schema_set(), DiskCache(), lease=lease)


def cmd_migrate(args: argparse.Namespace) -> int:
    engine = make_engine()
    migrate.upgrade(engine)
    print(f"database {engine.url.render_as_string(hide_password=True)} is at the latest schema")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    engine = _engine()
    worker = make_worker(engine)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    done = worker.run(stop, once=args.once)
    print(f"worker {worker.worker_id}: {done} delivery(ies) processed", file=sys.stderr)
    return 0


def _serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run("webhooks.app:create_app", factory=True, host=host, port=port, log_level="info")


def cmd_serve(args: argparse.Namespace) -> int:
    _engine()
    _serve(args.host, args.port)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """The receiver and a worker in one process: the embedded default for one machine."""
    ensure_dev_secret()
    engine = _engine()
    worker = make_worker(engine)
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
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    engine = _engine()
    table = ReportRow.__table__  # type: ignore[attr-defined]
    query = select(table).order_by(desc(table.c.posted_at)).limit(args.limit)
    if args.review:
        query = query.where(table.c.review_key == args.review)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if args.format == "json":
        print(json.dumps([_row(r) for r in rows], indent=2, default=str))
        return 0
    for r in rows:
        where = "would post" if r.dry_run else "posted"
        print(
            f"{r.posted_at:%Y-%m-%d %H:%M:%S} {where} {r.kind} on {r.review_key} @ {r.head_sha[:12] or '-'}: {r.title}"
        )
        if args.body:
            print("    " + r.body.replace("\n", "\n    "))
    if not rows:
        print("no reports yet", file=sys.stderr)
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    engine = _engine()
    table = Delivery.__table__  # type: ignore[attr-defined]
    query = select(
        table.c.id,
        table.c.source,
        table.c.event,
        table.c.action,
        table.c.status,
        table.c.attempts,
        table.c.last_error,
        table.c.received_at,
    )
    if args.status:
        query = query.where(table.c.status == args.status)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(desc(table.c.id)).limit(args.limit)).all()
    print(
        json.dumps(
            {"counts": inbox.counts(engine), "deliveries": [_row(r) for r in rows]},
            indent=2,
            default=str,
        )
    )
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    n = inbox.requeue(_engine(), args.ids)
    print(f"{n} parked delivery(ies) queued again")
    return 0


def record_stream_event(engine: Engine, event: dict[str, Any]) -> bool:
    """Put one stream event in the inbox; its id is the hash of its canonical JSON."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    delivery_id = hashlib.sha256(body).hexdigest()
    with engine.begin() as conn:
        return inbox.record(conn, "gerrit", delivery_id, str(event.get("type", "")), None, body)


def cmd_gerrit_listen(args: argparse.Namespace) -> int:
    """SSH stream-events into the inbox: the alternative to Gerrit's webhooks plugin."""
    from govbot.forges.gerrit_stream import GerritStreamListener

    host = os.environ.get("GOVBOT_GERRIT_SSH_HOST")
    user = os.environ.get("GOVBOT_GERRIT_SSH_USER")
    if not host or not user:
        print(
            "govbot: set GOVBOT_GERRIT_SSH_HOST and GOVBOT_GERRIT_SSH_USER (and _SSH_PORT, _SSH_KEYFILE)",
            file=sys.stderr,
        )
        return 2
    engine = _engine()
    listener = GerritStreamListener(
        host,
        user,
        int(os.environ.get("GOVBOT_GERRIT_SSH_PORT", "29418")),
        os.environ.get("GOVBOT_GERRIT_SSH_KEYFILE"),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for event in listener.events(stop):
        record_stream_event(engine, event)
    return 0


def make_clock(engine: Engine) -> Any:
    from govbot.service.clock import Clock
    from govbot.snapshots import read_directory

    return Clock(
        engine,
        forge_factory(),
        bundled.schema_set(),
        timeline_files=lambda: read_directory(local_repo()),
    )


def cmd_clock(args: argparse.Namespace) -> int:
    """The scheduler process (Procfile: clock). Several may run: each act happens once."""
    import schedule

    engine = _engine()
    clock = make_clock(engine)
    if args.once:
        for key in clock.tick():
            print(key)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    schedule.every(args.interval).seconds.do(clock.tick)
    clock.tick()
    while not stop.is_set():
        schedule.run_pending()
        stop.wait(1)
    return 0


def cmd_tally(args: argparse.Namespace) -> int:
    from govbot.core.votes import Ballot, render_markdown, tally
    from govbot.service import voting
    from govbot.snapshots import read_snapshot

    if args.votes is None:
        if not args.review:
            print("govbot tally: give a REVIEW key, or --votes FILE --base REV", file=sys.stderr)
            return 2
        engine = _engine()
        with engine.connect() as conn:
            table = VoteResultRow.__table__  # type: ignore[attr-defined]
            row = conn.execute(select(table).where(table.c.review_key == args.review)).first()
        if row is None:
            print(f"govbot tally: no vote on {args.review} yet", file=sys.stderr)
            return 2
        print(row.summary)
        return 0
    from datetime import UTC, datetime

    from govbot.core.yamlio import parse_bytes

    parsed = parse_bytes(args.votes, Path(args.votes).read_bytes())
    if parsed.findings or not isinstance(parsed.data, list):
        print(f"govbot tally: {args.votes}: expected a list of ballots", file=sys.stderr)
        return 2

    def when(text: str | None) -> datetime:
        return datetime.fromisoformat(text).astimezone(UTC) if text else datetime.now(UTC)

    ballots = [
        Ballot(
            b.get("forge", "github"),
            b["account"],
            b.get("kind", "vote"),
            b.get("value"),
            when(b.get("at")),
            b.get("head_sha"),
            b.get("source", "file"),
        )
        for b in parsed.data
    ]
    policies = voting.policies_from(read_snapshot(Path(args.repo), args.base))
    vote_class = (
        next((c for c in policies.voting.classes if c.name == args.vote_class), None)
        or policies.voting.default
    )
    outcome = tally(
        ballots, policies.committee, vote_class.rule, when(args.now), when(args.opened), args.head
    )
    print(f"Vote class **{vote_class.name}**.\n")
    print(render_markdown(outcome, policies.committee))
    return 0 if outcome.state == "passed" else 1


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


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


logging.getLogger("govbot").setLevel(logging.INFO)
