"""``govbot validate``, ``import``, ``export``, ``mustpass``, ``render``: the data commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError, repo_arg, write
from govbot.core import mustpass, render
from govbot.core.documents import parse_document
from govbot.core.findings import (
    FORMATTERS,
    Finding,
    Severity,
    at_least,
    has_errors,
    sort_findings,
)
from govbot.core.interop import to_interop
from govbot.core.validate import validate_files
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from govbot.repo.files import find_guideline, read_regular
from govbot.repo.snapshots import not_read, read_directory


def add_commands(sub: Any) -> None:
    v = sub.add_parser("validate", help="validate a governance repo (schemas + integrity)")
    v.add_argument(
        "repo", nargs="?", help="repo directory (default: . if it is one, else the bundled data)"
    )
    v.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    v.add_argument(
        "--summary",
        action="store_true",
        help="counts by rule and by file instead of every finding (the exit code is the same)",
    )
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
    m.add_argument(
        "--format",
        choices=["text", "json", "list"],
        default="text",
        help="text (= list): one test a line",
    )
    m.add_argument("-o", "--output")
    m.set_defaults(func=cmd_mustpass)

    r = sub.add_parser("render", help="a guideline as a readable Markdown or HTML document")
    r.add_argument("id")
    r.add_argument("--repo")
    r.add_argument("--format", choices=["markdown", "html"], default="markdown")
    r.add_argument("-o", "--output")
    r.set_defaults(func=cmd_render)


def load_guideline(repo: Path, guideline_id: str) -> dict[str, Any]:
    """A guideline of a repo on disk, never read through a symlink."""
    rel = find_guideline(repo, guideline_id)
    parsed = parse_document(rel, read_regular(repo, rel))
    if parsed.findings or not isinstance(parsed.data, dict):
        detail = FORMATTERS["text"](parsed.findings) if parsed.findings else "not a mapping"
        raise CliError(f"cannot read guideline {guideline_id}:\n{detail}")
    return parsed.data


def cmd_validate(args: argparse.Namespace) -> int:
    files = read_directory(repo_arg(args.repo))
    cache = None if args.no_cache else DiskCache()
    findings = sort_findings(
        validate_files(files, bundled.schema_set(), cache=cache) + not_read(files)
    )
    shown = at_least(findings, Severity(args.severity))
    if args.summary:
        print(summary(shown, args.format))
        return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
    print(FORMATTERS[args.format](shown))
    if args.format == "text" and len(shown) > 20:
        print(f"({len(shown)} finding(s); --summary counts them by rule and file)", file=sys.stderr)
    if len(shown) < len(findings):
        print(
            f"({len(findings) - len(shown)} finding(s) below {args.severity} not shown)",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def summary(findings: list[Finding], fmt: str) -> str:
    """Counts by rule and by file, each split by severity, largest first."""
    by_rule: dict[str, Counter[str]] = {}
    by_file: dict[str, Counter[str]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, Counter())[f.severity.value] += 1
        by_file.setdefault(f.file, Counter())[f.severity.value] += 1
    totals = Counter(f.severity.value for f in findings)

    def rows(table: dict[str, Counter[str]]) -> list[tuple[str, Counter[str]]]:
        return sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))

    if fmt == "json":
        return json.dumps(
            {
                "totals": dict(totals),
                "rules": [{"rule": r, **dict(c)} for r, c in rows(by_rule)],
                "files": [{"file": p, **dict(c)} for p, c in rows(by_file)],
            }
        )
    order = [s.value for s in Severity]  # errors first

    def line(name: str, c: Counter[str], width: int) -> str:
        counts = ", ".join(f"{c[s]} {s}" for s in order if c[s])
        return f"  {name.ljust(width)}  {sum(c.values()):>5}  ({counts})"

    out = [
        f"{len(findings)} finding(s): "
        + (", ".join(f"{totals[s]} {s}(s)" for s in order if totals[s]) or "none")
    ]
    for title, table in (("by rule", by_rule), ("by file", by_file)):
        if table:
            width = max(len(k) for k in table)
            out += [title + ":", *(line(k, c, width) for k, c in rows(table))]
    return "\n".join(out)


def cmd_import(args: argparse.Namespace) -> int:
    from govbot.repo import importer

    converted, problems = importer.convert_tree(Path(args.src))
    if problems:
        print(FORMATTERS[args.format](sort_findings(problems)))
        print("import aborted: nothing was written", file=sys.stderr)
        return EXIT_FINDINGS
    dest = Path(args.dest)
    importer.write_repo(dest, converted)
    print(f"imported {len(converted)} guideline(s) into {dest}", file=sys.stderr)
    findings = validate_files(read_directory(dest), bundled.schema_set())
    print(FORMATTERS[args.format](findings))
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    doc = to_interop(load_guideline(repo_arg(args.repo), args.id))
    write(args.output, json.dumps(doc, indent=4, ensure_ascii=False) + "\n")
    return EXIT_OK


def cmd_mustpass(args: argparse.Namespace) -> int:
    g = load_guideline(repo_arg(args.repo), args.id)
    statuses = [s.strip() for s in args.status.split(",") if s.strip()]
    unknown = sorted(set(statuses) - set(mustpass.STATUSES))
    if unknown:
        raise CliError(
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
        raise CliError(str(e)) from e
    if args.format == "json":
        payload = {
            "guideline": args.id,
            "target": args.target,
            "statuses": statuses,
            "tests": tests,
        }
        write(args.output, json.dumps(payload, indent=2) + "\n")
    else:
        write(args.output, "".join(t + "\n" for t in tests))
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    g = load_guideline(repo_arg(args.repo), args.id)
    text = render.to_html(g) if args.format == "html" else render.to_markdown(g)
    write(args.output, text)
    return EXIT_OK
