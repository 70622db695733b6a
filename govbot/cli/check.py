"""``govbot check`` and ``govbot diff``: judge a change between two states of a repo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK
from govbot.core import report
from govbot.core.check import check
from govbot.core.findings import has_errors, sort_findings
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from govbot.repo.files import NOT_FOLLOWED
from govbot.repo.snapshots import Snapshot, not_read, read_snapshot


def add_commands(sub: Any) -> None:
    for name, func, formats, text in (
        ("diff", cmd_diff, ["text", "json", "markdown"], "what a change does to the guidelines"),
        (
            "check",
            cmd_check,
            ["text", "json", "github", "markdown"],
            "judge a change: validation, diff and process rules",
        ),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("--repo", default=".", help="git repository (default: .)")
        c.add_argument(
            "--base", required=True, help="base revision, or a directory holding the base state"
        )
        c.add_argument(
            "--head", required=True, help="head revision, or a directory holding the head state"
        )
        c.add_argument("--format", choices=formats, default="text")
        if name == "check":
            c.add_argument("--no-cache", action="store_true", help="ignore the findings cache")
        c.set_defaults(func=func)


def _snapshots(args: argparse.Namespace) -> tuple[Snapshot, Snapshot]:
    repo = Path(args.repo)
    return read_snapshot(repo, args.base), read_snapshot(repo, args.head)


def cmd_diff(args: argparse.Namespace) -> int:
    base, head = _snapshots(args)
    result = check(base, head, bundled.schema_set(), DiskCache())
    print(report.DIFF_FORMATTERS[args.format](result.changes))
    for side, files in (("base", base), ("head", head)):
        for path, what in sorted(files.skipped.items()):
            print(
                f"govbot: {side}: {path} is {what}: {NOT_FOLLOWED}; not compared", file=sys.stderr
            )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """A skipped path (a symlink, a submodule) is an error the change introduces, a warning
    when the base had it already: govbot cannot judge what it does not read."""
    base, head = _snapshots(args)
    result = check(base, head, bundled.schema_set(), None if args.no_cache else DiskCache())
    findings = sort_findings(result.findings + not_read(head, inherited=base))
    print(report.check_report(args.format, findings, result.changes))
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
