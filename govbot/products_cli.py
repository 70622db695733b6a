"""``govbot products``: the registry of certified products, from a repo's products tree.

Registered from govbot.cli with ``add_command(sub)``. ``--rev`` reads the
governed branch at a revision (default: the working tree); approval dates
come from its first-parent history when the repo is a Git checkout. Exit
codes: 0 listed (unreadable products are reported on stderr), 2 usage or I/O.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from govbot.certify_cli import CertifyError, parse_day
from govbot.core import registry
from govbot.registry_io import approval_dates, read
from govbot.snapshots import SnapshotError

EXIT_OK, EXIT_USAGE = 0, 2


def add_command(sub: Any) -> None:
    p = sub.add_parser(
        "products", help="the registry of certified products (program, guideline, expiry)"
    )
    p.add_argument(
        "--repo", help="governance repo (default: . if it is one, else the bundled data)"
    )
    p.add_argument(
        "--rev", help="read this revision of the governed branch (default: the working tree)"
    )
    p.add_argument("--at", help="judge current/expired on this day, YYYY-MM-DD (default: today)")
    p.add_argument("--all", action="store_true", help="list expired entries too (past validations)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_products)


def load(repo: Path, rev: str | None, today: Any) -> registry.Registry:
    files = read(repo, rev)
    dates = approval_dates(repo, rev or "HEAD", files)
    return registry.build(files, today, dates)


def cmd_products(args: argparse.Namespace) -> int:
    from govbot.cli import default_repo

    try:
        today = parse_day(args.at)
        reg = load(Path(args.repo) if args.repo else default_repo(), args.rev, today)
    except (CertifyError, SnapshotError) as e:
        print(f"govbot: {e}", file=sys.stderr)
        return EXIT_USAGE
    entries = reg.entries if args.all else reg.current()
    if args.format == "json":
        doc = {
            "at": today.isoformat(),
            "products": [e.summary() for e in entries],
            "unreadable": [{"path": p, "reason": r} for p, r in reg.unreadable],
        }
        print(json.dumps(doc, indent=2))
    else:
        print(text(entries))
    for path, why in reg.unreadable:
        print(f"govbot: {path}: not listed: {why}", file=sys.stderr)
    return EXIT_OK


def text(entries: list[registry.Certified]) -> str:
    head = ("product", "program", "guideline", "release", "approved", "expires", "status")
    rows = [
        (
            e.product,
            e.program,
            e.guideline,
            e.release or "?",
            e.approved_on.isoformat() if e.approved_on else "?",
            e.expires.isoformat() if e.expires else "-",
            e.status if e.qualified else f"{e.status} (accepted with missing tests)",
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *rows]
    ]
    lines.append(f"{len(entries)} certification(s)")
    return "\n".join(lines)
