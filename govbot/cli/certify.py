"""The trademark half: ``govbot certify`` (a vendor's pre-check), ``govbot products`` (the
registry of certified products) and ``govbot impact`` (who a guideline change decertifies).

Exit codes: certify 0 the product qualifies, 1 it does not (or its results are
damaged); impact 0 no certified product would stop qualifying, 1 some would;
2 a usage or I/O error for all three.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError, repo_arg
from govbot.core import certify_report, impact, registry
from govbot.core.certify import verify
from govbot.core.findings import Severity
from govbot.core.results import FORMATS, parse_results
from govbot.core.submission import Guidelines, load_policy, verify_product
from govbot.repo import bundled
from govbot.repo.registry import approval_dates, read
from govbot.repo.snapshots import read_directory, read_snapshot

EXIT_NOT_QUALIFIED = EXIT_DECERTIFIES = EXIT_FINDINGS


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "certify",
        help="pre-check test results (or a product file) against a guideline's must-pass list",
    )
    p.add_argument(
        "results",
        nargs="?",
        metavar="RESULTS",
        help="subunit v2 stream, RefStack JSON or test list",
    )
    p.add_argument("--guideline", help="guideline id (2020.06, dns.2020.06)")
    p.add_argument("--target", default="platform", help="platform|compute|object|dns|orchestration")
    p.add_argument("--product", help="a product file (products/<vendor>/<product>.yaml) in --repo")
    p.add_argument("--release", help="the product's OpenStack release (2017A D1.4)")
    p.add_argument("--at", help="judge on this day, YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--results-format", choices=["auto", *FORMATS], default="auto")
    p.add_argument("--format", choices=sorted(certify_report.FORMATS), default="text")
    p.add_argument(
        "--repo", help="governance repo (default: . if it is one, else the bundled data)"
    )
    p.set_defaults(func=cmd_certify)

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


class CertifyError(CliError):
    """A usage or I/O problem of the certification commands (exit 2)."""


def parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CertifyError(f"--at {value!r} is not a date; write YYYY-MM-DD") from e


def cmd_certify(args: argparse.Namespace) -> int:
    at = parse_day(args.at)
    files = read_directory(repo_arg(args.repo))
    if args.product:
        return _product(args, files, at)
    return _results(args, files, at)


def _results(args: argparse.Namespace, files: dict[str, bytes], at: date) -> int:
    if not args.results or not args.guideline:
        raise CertifyError("give RESULTS and --guideline (or --product FILE)")
    policy = load_policy(files)
    guidelines = Guidelines(files, policy.valid_latest)
    req = guidelines.requirements(args.guideline, args.target)
    if isinstance(req, str):
        raise CertifyError(req)
    read_results = parse_results(args.results, Path(args.results).read_bytes(), args.results_format)
    render = certify_report.FORMATS[args.format]
    if read_results.results is None:
        print(render([], read_results.findings), end="")
        return EXIT_NOT_QUALIFIED
    verdict = verify(
        read_results.results,
        req,
        guidelines.validity,
        at,
        release=args.release,
        policy=policy,
        extra=read_results.findings,
    )
    print(render([verdict]), end="")
    return EXIT_OK if verdict.qualifies else EXIT_NOT_QUALIFIED


def _product(args: argparse.Namespace, files: dict[str, bytes], at: date) -> int:
    if args.results or args.guideline:
        raise CertifyError("--product reads the results and guidelines from the product file")
    path = Path(args.product).as_posix().removeprefix("./")
    if path not in files:
        raise CertifyError(
            f"{path}: not a product file of the repo (products/<vendor>/<product>.yaml)"
        )
    from govbot.core.validate import validate_files

    checked = verify_product(files, path, at)
    # the product file's own defects (schema, integrity, links) come first
    own = validate_files({path: files[path]}, bundled.schema_set(), whole=False)
    findings = [*own, *checked.findings]
    print(certify_report.FORMATS[args.format](checked.verdicts, findings), end="")
    blocked = any(f.severity is Severity.ERROR for f in findings)
    return EXIT_OK if checked.qualifies and not blocked else EXIT_NOT_QUALIFIED


def load_registry(repo: Path, rev: str | None, today: date) -> registry.Registry:
    files = read(repo, rev)
    return registry.build(files, today, approval_dates(repo, rev or "HEAD", files))


def cmd_products(args: argparse.Namespace) -> int:
    today = parse_day(args.at)
    reg = load_registry(repo_arg(args.repo), args.rev, today)
    entries = reg.entries if args.all else reg.current()
    if args.format == "json":
        doc = {
            "at": today.isoformat(),
            "products": [e.summary() for e in entries],
            "unreadable": [{"path": p, "reason": r} for p, r in reg.unreadable],
        }
        print(json.dumps(doc, indent=2))
    else:
        print(products_text(entries))
    for path, why in reg.unreadable:
        print(f"govbot: {path}: not listed: {why}", file=sys.stderr)
    return EXIT_OK


def products_text(entries: list[registry.Certified]) -> str:
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


def cmd_impact(args: argparse.Namespace) -> int:
    repo = Path(args.repo)
    today = parse_day(args.at)
    base, head = read_snapshot(repo, args.base), read_snapshot(repo, args.head)
    dates = approval_dates(repo, args.base, base) if not Path(args.base).is_dir() else {}
    certified = registry.build(base, today, dates)
    report = impact.impact(base, head, certified.entries)
    print(impact.FORMATS[args.format](report), end="")
    return EXIT_DECERTIFIES if report.stop else EXIT_OK
