"""The operator's view of the bot: ``deliveries``, ``requeue`` and ``reports``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from govbot.cli.bot import engine
from govbot.cli.common import EXIT_OK


def add_commands(sub: Any) -> None:
    p = sub.add_parser("reports", help="what govbot posted, or would have posted in dry-run mode")
    p.add_argument("--review", help="only this review (e.g. github:owner/repo#12)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--body", action="store_true", help="print each report's body")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_reports)
    p = sub.add_parser(
        "deliveries", help="the inbox: counts and recent deliveries (e.g. --status parked)"
    )
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_deliveries)
    p = sub.add_parser("requeue", help="queue parked deliveries again")
    p.add_argument("ids", nargs="+", type=int)
    p.set_defaults(func=cmd_requeue)


def cmd_reports(args: argparse.Namespace) -> int:
    from govbot.store import reports

    with engine().connect() as conn:
        rows = reports.recent(conn, args.review, args.limit)
    if args.format == "json":
        print(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return EXIT_OK
    for r in rows:
        where = "would post" if r.dry_run else "posted"
        print(
            f"{r.posted_at:%Y-%m-%d %H:%M:%S} {where} {r.kind} on {r.review_key} @ {r.head_sha[:12] or '-'}: {r.title}"
        )
        if args.body:
            print("    " + r.body.replace("\n", "\n    "))
    if not rows:
        print("no reports yet", file=sys.stderr)
    return EXIT_OK


def cmd_deliveries(args: argparse.Namespace) -> int:
    from govbot.store import inbox

    eng = engine()
    deliveries = inbox.recent(eng, args.status, args.limit)
    print(
        json.dumps({"counts": inbox.counts(eng), "deliveries": deliveries}, indent=2, default=str)
    )
    return EXIT_OK


def cmd_requeue(args: argparse.Namespace) -> int:
    from govbot.store import inbox

    n = inbox.requeue(engine(), args.ids)
    print(f"{n} parked delivery(ies) queued again")
    return EXIT_OK
