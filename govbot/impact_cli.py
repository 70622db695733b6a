"""``govbot impact``: which certified products a guideline change would decertify, and C5 usage.

Registered from govbot.cli with ``add_command(sub)``. The registry is the
*base* revision's (what is certified now, with its approval dates), scored
against the base and head versions of every guideline the change touches.
Exit codes: 0 no certified product would stop qualifying, 1 some would,
2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from govbot.certify_cli import CertifyError, parse_day
from govbot.core import impact, registry
from govbot.registry_io import approval_dates
from govbot.snapshots import SnapshotError, read_snapshot

EXIT_OK, EXIT_DECERTIFIES, EXIT_USAGE = 0, 1, 2


def add_command(sub: Any) -> None:
    p = sub.add_parser(
        "impact", help="certified products a guideline change would decertify, and C5 usage"
    )
    p.add_argument("--repo", default=".", help="git repository (default: .)")
    p.add_argument(
        "--base", required=True, help="base revision, or a directory holding the base state"
    )
    p.add_argument(
        "--head", required=True, help="head revision, or a directory holding the head state"
    )
    p.add_argument("--at", help="which certifications are current, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=sorted(impact.FORMATS), default="text")
    p.set_defaults(func=cmd_impact)


def cmd_impact(args: argparse.Namespace) -> int:
    repo = Path(args.repo)
    try:
        today = parse_day(args.at)
        base, head = read_snapshot(repo, args.base), read_snapshot(repo, args.head)
        dates = approval_dates(repo, args.base, base) if not Path(args.base).is_dir() else {}
    except (CertifyError, SnapshotError) as e:
        print(f"govbot: {e}", file=sys.stderr)
        return EXIT_USAGE
    certified = registry.build(base, today, dates)
    report = impact.impact(base, head, certified.entries)
    print(impact.FORMATS[args.format](report), end="")
    return EXIT_DECERTIFIES if report.stop else EXIT_OK
