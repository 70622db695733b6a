"""The service's command-line arguments, kept apart so ``govbot validate`` stays fast.

The service's commands need the database and web stacks (SQLModel, Alembic,
FastAPI), which take most of a second to import; they are only imported
when one of these commands actually runs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from govbot.service import commands

        return int(getattr(commands, name)(args))

    return run


def add_commands(sub: Any) -> None:
    p = sub.add_parser("up", help="run the webhook receiver and a worker (the embedded default)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.set_defaults(func=_lazy("cmd_up"))
    p = sub.add_parser("serve", help="run the webhook receiver only (Procfile: web)")
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.set_defaults(func=_lazy("cmd_serve"))
    p = sub.add_parser("worker", help="process deliveries from the inbox (Procfile: worker)")
    p.add_argument("--once", action="store_true", help="stop when the inbox is empty")
    p.set_defaults(func=_lazy("cmd_worker"))
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=_lazy("cmd_migrate")
    )
    p = sub.add_parser("reports", help="what govbot posted, or would have posted in dry-run mode")
    p.add_argument("--review", help="only this review (e.g. github:owner/repo#12)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--body", action="store_true", help="print each report's body")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=_lazy("cmd_reports"))
    p = sub.add_parser(
        "deliveries", help="the inbox: counts and recent deliveries (e.g. --status parked)"
    )
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=_lazy("cmd_deliveries"))
    p = sub.add_parser("requeue", help="queue parked deliveries again")
    p.add_argument("ids", nargs="+", type=int)
    p.set_defaults(func=_lazy("cmd_requeue"))
    p = sub.add_parser("simulate", help="send signed sample deliveries to a running govbot")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--repo", help="the local repository the sample pull request comes from")
    p.add_argument("--examples", help="also send every payload of a webhook-examples.json file")
    p.set_defaults(func=_lazy("cmd_simulate"))
    p = sub.add_parser("gerrit-listen", help="read Gerrit's SSH stream-events into the inbox")
    p.set_defaults(func=_lazy("cmd_gerrit_listen"))
    p = sub.add_parser(
        "clock",
        help="re-evaluate votes at their deadlines, remind, keep the timeline (Procfile: clock)",
    )
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p.add_argument("--interval", type=int, default=60, help="seconds between ticks")
    p.set_defaults(func=_lazy("cmd_clock"))
    p = sub.add_parser(
        "tally", help="a review's vote table (from the database), or a what-if from a votes file"
    )
    p.add_argument("review", nargs="?", help="a review key, e.g. github:owner/repo#12")
    p.add_argument(
        "--votes", help="YAML/JSON list of ballots {account, forge, kind, value, at, head_sha}"
    )
    p.add_argument(
        "--base", default="HEAD", help="the revision (or directory) whose policies apply"
    )
    p.add_argument("--repo", default=".")
    p.add_argument(
        "--class", dest="vote_class", help="the vote class (default: the policy's default)"
    )
    p.add_argument("--opened", help="when the review opened (ISO 8601; default now)")
    p.add_argument("--now", help="evaluate at this time (ISO 8601; default now)")
    p.add_argument("--head", help="the current head revision (stale votes)")
    p.set_defaults(func=_lazy("cmd_tally"))
