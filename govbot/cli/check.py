"""``govbot check`` and ``govbot diff``: judge a change between two states of a repo."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK
from govbot.core import report
from govbot.core.check import check
from govbot.core.findings import has_errors, sort_findings
from govbot.core.replay import FORMATS as REPLAY_FORMATS
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from govbot.repo.files import NOT_FOLLOWED
from govbot.repo.snapshots import Snapshot, commit_time, not_read, read_snapshot


def add_commands(sub: Any) -> None:
    """``diff``, ``check``, and over whole histories ``replay``; ``rules`` lists what they apply."""
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
            c.add_argument(
                "--at",
                type=_instant,
                help="judge by the process in force then (ISO date; default: the head's commit date)",
            )
        c.set_defaults(func=func)

    r = sub.add_parser(
        "replay",
        help="judge a range of history commit by commit: how govbot would have ruled on the past",
    )
    r.add_argument("--repo", default=".", help="git repository (default: .)")
    r.add_argument(
        "--from", dest="start", help="start after this revision (default: the first commit)"
    )
    r.add_argument(
        "--to", dest="end", default="HEAD", help="last revision to judge (default: HEAD)"
    )
    r.add_argument("--format", choices=REPLAY_FORMATS, default="text")
    r.add_argument(
        "--progress", action="store_true", help="text: print each verdict as it comes, on stderr"
    )
    r.set_defaults(func=cmd_replay)

    rules = sub.add_parser(
        "rules", help="the process rules a check applies: paragraph, eras, severity"
    )
    rules.add_argument(
        "--format", choices=["text", "json", "markdown"], default="markdown", help="text = markdown"
    )
    rules.set_defaults(func=cmd_rules)


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
    when = args.at or commit_time(Path(args.repo), args.head)  # the process of the change's time
    cache = None if args.no_cache else DiskCache()
    result = check(base, head, bundled.schema_set(), cache, when=when)
    findings = sort_findings(result.findings + not_read(head, inherited=base))
    print(report.check_report(args.format, findings, result.changes, result.era, result.scores))
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from govbot.core.replay import Summary, report, verdict_line
    from govbot.repo.history import replay

    started = time.perf_counter()
    verdicts, summary = [], Summary()
    for v in replay(Path(args.repo), args.start, args.end):
        verdicts.append(v)
        summary.add(v)
        if args.format == "text" and args.progress:
            print(verdict_line(v), file=sys.stderr)
    summary.seconds = time.perf_counter() - started
    print(report(args.format, verdicts, summary))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from govbot.core.ruledoc import rule_rows, rules_markdown

    eras = bundled.eras()
    if args.format == "json":
        print(json.dumps([r.__dict__ for r in rule_rows(eras)], indent=2))
    else:
        print(rules_markdown(eras), end="")
    return EXIT_OK


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
