"""``govbot reconcile``: read the forges back for what their webhooks or stream never brought."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from govbot.cli.common import EXIT_OK, CliError, add_format

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "reconcile",
        help="sweep the live forges for events missed while govbot was down (the clock does "
        "this every $GOVBOT_RECONCILE_INTERVAL seconds and at start-up)",
    )
    p.add_argument(
        "--forge", choices=("github", "gerrit"), help="only this forge (default: each live one)"
    )
    p.add_argument(
        "--since",
        type=since,
        help="read from this time instead of the stored watermark, with no ETags (a full "
        "read): ISO 8601 (2026-03-02T09:00Z) or an age (90m, 2h, 3d)",
    )
    p.add_argument(
        "--repo", action="append", help="only this repository (Gerrit: project); repeatable"
    )
    add_format(p)
    p.set_defaults(func=cmd_reconcile)


def since(value: str) -> datetime:
    """An ISO 8601 time (UTC when no zone is given) or an age before now."""
    raw = value.strip()
    if raw[:-1].isdigit() and raw[-1:] in _UNITS:
        return datetime.now(UTC) - timedelta(seconds=int(raw[:-1]) * _UNITS[raw[-1]])
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time or an age: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from govbot.cli.bot import engine
    from govbot.forges.registry import FORGES, forge_factory
    from govbot.service.reconcile import reconcile

    eng = engine()
    forge_for = forge_factory()
    names = [args.forge] if args.forge else list(FORGES)
    sweeps = []
    skipped = []
    for name in names:
        forge, dry_run = forge_for(name)
        if dry_run:
            if args.forge:
                raise CliError(f"{name} is not configured (dry-run): nothing to read back")
            skipped.append(name)
            continue
        sweeps += reconcile(eng, name, forge, scopes=args.repo, since=args.since)
    if args.format == "json":
        print(json.dumps({"sweeps": [s.to_dict() for s in sweeps], "skipped": skipped}))
        return EXIT_OK
    for s in sweeps:
        print(
            f"{s.forge} {s.scope}: {s.found} found, {s.stored} new in the inbox; "
            f"{s.requests} request(s), {s.not_modified} not modified (304), "
            f"{s.redelivered} redelivered; {s.seconds:.2f}s"
        )
    for name in skipped:
        print(f"{name}: not configured (dry-run), skipped")
    return EXIT_OK
