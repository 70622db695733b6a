"""The ``govbot`` command line. Exit codes: 0 clean, 1 findings (errors), 2 usage or I/O error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govbot import bundled
from govbot.cache import DiskCache
from govbot.core import mustpass, render, report
from govbot.core.check import check
from govbot.core.documents import parse_document
from govbot.core.findings import FORMATTERS, Severity, at_least, has_errors, sort_findings
from govbot.core.interop import to_interop
from govbot.core.validate import validate_files
from govbot.repo import RepoError, find_guideline_file
from govbot.snapshots import SnapshotError, read_directory, read_snapshot

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def default_repo() -> Path:
    """The current directory when it is a governance repo, else the bundled data."""
    cwd = Path.cwd()
    if (cwd / "guidelines").is_dir() or (cwd / "policies").is_dir():
        return cwd
    return bundled.root()


def _repo(value: str | None) -> Path:
    return Path(value) if value else default_repo()


def load_guideline(repo: Path, guideline_id: str) -> dict[str, Any]:
    path = find_guideline_file(repo, guideline_id)
    parsed = parse_document(str(path), path.read_bytes())
    if parsed.findings or not isinstance(parsed.data, dict):
        detail = FORMATTERS["text"](parsed.findings) if parsed.findings else "not a mapping"
        raise UsageError(f"cannot read guideline {guideline_id}:\n{detail}")
    return parsed.data


def cmd_validate(args: argparse.Namespace) -> int:
    files = read_directory(_repo(args.repo))
    cache = None if args.no_cache else DiskCache()
    findings = validate_files(files, bundled.schema_set(), cache=cache)
    shown = at_least(findings, Severity(args.severity))
    print(FORMATTERS[args.format](shown))
    if len(shown) < len(findings):
        print(
            f"({len(findings) - len(shown)} finding(s) below {args.severity} not shown)",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from govbot import importer

    try:
        converted, problems = importer.convert_tree(Path(args.src))
        if problems:
            print(FORMATTERS[args.format](sort_findings(problems)))
            print("import aborted: nothing was written", file=sys.stderr)
            return EXIT_FINDINGS
        dest = Path(args.dest)
        importer.write_repo(dest, converted)
    except importer.ImportError_ as e:
        raise UsageError(str(e)) from e
    print(f"imported {len(converted)} guideline(s) into {dest}", file=sys.stderr)
    findings = validate_files(read_directory(dest), bundled.schema_set())
    print(FORMATTERS[args.format](findings))
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    doc = to_interop(load_guideline(_repo(args.repo), args.id))
    text = json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    _write(args.output, text)
    return EXIT_OK


def cmd_mustpass(args: argparse.Namespace) -> int:
    g = load_guideline(_repo(args.repo), args.id)
    statuses = [s.strip() for s in args.status.split(",") if s.strip()]
    unknown = sorted(set(statuses) - set(mustpass.STATUSES))
    if unknown:
        raise UsageError(
            f"unknown status {', '.join(unknown)}; choose from {', '.join(mustpass.STATUSES)}"
        )
    try:
        tests = mustpass.test_list(
            g,
            args.target,
            statuses,
            aliases=not args.no_aliases,
            include_flagged=args.include_flagged,
        )
    except mustpass.UnknownTarget as e:
        raise UsageError(str(e)) from e
    if args.format == "json":
        payload = {
            "guideline": args.id,
            "target": args.target,
            "statuses": statuses,
            "tests": tests,
        }
        _write(args.output, json.dumps(payload, indent=2) + "\n")
    else:
        _write(args.output, "".join(t + "\n" for t in tests))
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    g = load_guideline(_repo(args.repo), args.id)
    text = render.to_html(g) if args.format == "html" else render.to_markdown(g)
    _write(args.output, text)
    return EXIT_OK


def _snapshots(args: argparse.Namespace) -> tuple[dict[str, bytes], dict[str, bytes]]:
    repo = Path(args.repo)
    return read_snapshot(repo, args.base), read_snapshot(repo, args.head)


def cmd_diff(args: argparse.Namespace) -> int:
    base, head = _snapshots(args)
    result = check(base, head, bundled.schema_set(), DiskCache())
    print(report.DIFF_FORMATTERS[args.format](result.changes))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    base, head = _snapshots(args)
    result = check(base, head, bundled.schema_set(), None if args.no_cache else DiskCache())
    print(report.check_report(args.format, result.findings, result.changes))
    return EXIT_FINDINGS if result.errors else EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "tally":
        from govbot import bench_tally

        return bench_tally.main(args)
    if args.what == "webhooks":
        from govbot import bench_webhooks

        return bench_webhooks.main(args)
    if args.what == "check":
        from govbot import bench_check

        return bench_check.main(args)
    from govbot import bench

    return bench.main(args)


def _write(output: str | None, text: str) -> None:
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govbot", description="Git-backed governance and trademark workflow bot."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="validate a governance repo (schemas + integrity)")
    v.add_argument(
        "repo", nargs="?", help="repo directory (default: . if it is one, else the bundled data)"
    )
    v.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    v.add_argument("--no-cache", action="store_true", help="ignore the findings cache")
    v.add_argument(
        "--severity",
        choices=[s.value for s in Severity],
        default="notice",
        help="show findings at or above this severity (the exit code still counts every error)",
    )
    v.set_defaults(func=cmd_validate)

    imp = sub.add_parser("import", help="import guidelines from another format")
    imp_sub = imp.add_subparsers(dest="source_format", required=True, metavar="FORMAT")
    ii = imp_sub.add_parser("interop", help="an OpenStack interop-style JSON repo (schema 1.2-2.0)")
    ii.add_argument("src")
    ii.add_argument("dest")
    ii.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    ii.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="export a guideline to another format")
    exp_sub = exp.add_subparsers(dest="target_format", required=True, metavar="FORMAT")
    ei = exp_sub.add_parser("interop", help="interop schema 2.0 JSON")
    ei.add_argument("repo")
    ei.add_argument("id")
    ei.add_argument("-o", "--output")
    ei.set_defaults(func=cmd_export)

    m = sub.add_parser("mustpass", help="the test list a product must pass (RefStack-compatible)")
    m.add_argument("id")
    m.add_argument("--repo")
    m.add_argument(
        "--target", default="platform", help="platform|compute|object|dns|orchestration|<component>"
    )
    m.add_argument(
        "--status", default="required", help="comma-separated: required,advisory,deprecated,removed"
    )
    m.add_argument("--no-aliases", action="store_true")
    m.add_argument("--include-flagged", action="store_true")
    m.add_argument("--format", choices=["list", "json"], default="list")
    m.add_argument("-o", "--output")
    m.set_defaults(func=cmd_mustpass)

    r = sub.add_parser("render", help="a guideline as a readable Markdown or HTML document")
    r.add_argument("id")
    r.add_argument("--repo")
    r.add_argument("--format", choices=["markdown", "html"], default="markdown")
    r.add_argument("-o", "--output")
    r.set_defaults(func=cmd_render)

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

    from govbot.certify_cli import add_command as add_certify
    from govbot.impact_cli import add_command as add_impact
    from govbot.products_cli import add_command as add_products
    from govbot.release_cli import add_command as add_release
    from govbot.service.cli_args import add_commands
    from govbot.site_cli import add_command as add_site
    from govbot.timeline_cli import add_command as add_timeline

    add_commands(sub)
    add_timeline(sub)
    add_site(sub)
    add_release(sub)
    add_certify(sub)
    add_products(sub)
    add_impact(sub)

    b = sub.add_parser("bench", help="measure govbot against a baseline, in one run")
    b.add_argument("what", choices=["validate", "check", "webhooks", "tally"])
    b.add_argument("--repo", help="corpus repo (default: the bundled guidelines)")
    b.add_argument("--scale", type=int, default=10, help="size of the synthetic repo, in corpora")
    b.add_argument("--repeat", type=int, default=3, help="runs per figure (best is reported)")
    b.add_argument("--duration", type=float, default=5.0, help="webhooks: seconds per measured run")
    b.add_argument("--concurrency", type=int, default=32, help="webhooks: keep-alive connections")
    b.add_argument(
        "--database",
        choices=["sqlite", "postgres", "both"],
        help="webhooks: default both if PostgreSQL answers",
    )
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (UsageError, RepoError, SnapshotError) as e:
        print(f"govbot: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"govbot: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `govbot mustpass ... | head`
        return EXIT_OK
