"""The operator's view of the bot: ``deliveries``, ``requeue`` and ``reports``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from govbot.cli.bot import engine
from govbot.cli.common import EXIT_OK, CliError, add_format


def add_commands(sub: Any) -> None:
    p = sub.add_parser("reports", help="what govbot posted, or would have posted in dry-run mode")
    p.add_argument("--review", help="only this review (e.g. github:owner/repo#12)")
    p.add_argument("--limit", type=_count, default=50)
    p.add_argument("--body", action="store_true", help="print each report's body")
    add_format(p)
    p.set_defaults(func=cmd_reports)
    p = sub.add_parser(
        "deliveries", help="the inbox: counts and recent deliveries (e.g. --status parked)"
    )
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--limit", type=_count, default=20)
    add_format(p)
    p.set_defaults(func=cmd_deliveries)
    p = sub.add_parser("requeue", help="queue parked deliveries again (by id, or --parked: all)")
    p.add_argument("ids", nargs="*", type=int)
    p.add_argument("--parked", action="store_true", help="every parked delivery")
    add_format(p)
    p.set_defaults(func=cmd_requeue)


STATUSES = ("queued", "processing", "done", "ignored", "parked")


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {value!r}")
    return int(value)


def cmd_reports(args: argparse.Namespace) -> int:
    from govbot.store import reports

    with engine(existing=True).connect() as conn:
        rows = reports.recent(conn, args.review, args.limit)
    if args.format == "json":
        print(json.dumps({"reports": [asdict(r) for r in rows]}, default=str))
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

    eng = engine(existing=True)
    deliveries = inbox.recent(eng, args.status, args.limit)
    counts = inbox.counts(eng)
    if args.format == "json":
        print(json.dumps({"counts": counts, "deliveries": deliveries}, default=str))
        return EXIT_OK
    print("inbox: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"))
    for d in deliveries:
        line = " ".join(
            str(d.get(k) or "-") for k in ("id", "status", "source", "event", "received_at")
        )
        error = d.get("last_error") or d.get("error")
        print(f"  {line}" + (f"  {error}" if error else ""))
    return EXIT_OK


def cmd_requeue(args: argparse.Namespace) -> int:
    from govbot.store import inbox

    if args.parked == bool(args.ids):
        raise CliError("name the parked deliveries' ids, or --parked for all of them")
    if args.parked:
        n = inbox.requeue_parked(engine(existing=True))
    else:
        n = inbox.requeue(engine(existing=True), args.ids)
        if n == 0:
            raise CliError(f"none of {', '.join(map(str, args.ids))} is a parked delivery")
    if args.format == "json":
        print(json.dumps({"requeued": n}))
    else:
        print(f"{n} parked delivery(ies) queued again")
    return EXIT_OK
