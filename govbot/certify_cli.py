"""``govbot certify``: a vendor's local pre-check of results against a guideline.

Two forms:

* ``govbot certify RESULTS --guideline 2020.06 --target platform`` judges one
  results file (subunit v2, RefStack JSON or a list of passed tests);
* ``govbot certify --product products/acme/cloud.yaml`` judges a whole
  submission, every program it claims, as the bot will on the pull request.

Registered from govbot.cli with ``add_command(sub)``. Exit codes: 0 the
product qualifies, 1 it does not (or its results are damaged), 2 usage or
I/O error (unknown guideline or target, unreadable file).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from govbot import bundled
from govbot.core import certify_report
from govbot.core.certify import verify
from govbot.core.findings import Severity
from govbot.core.results import FORMATS, parse_results
from govbot.core.submission import Guidelines, load_policy, verify_product
from govbot.snapshots import SnapshotError, read_directory

EXIT_OK, EXIT_NOT_QUALIFIED, EXIT_USAGE = 0, 1, 2


def add_command(sub: Any) -> None:
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


class CertifyError(Exception):
    """A usage or I/O problem; the message is for the user (exit 2)."""


def parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CertifyError(f"--at {value!r} is not a date; write YYYY-MM-DD") from e


def cmd_certify(args: argparse.Namespace) -> int:
    from govbot.cli import default_repo

    try:
        at = parse_day(args.at)
        repo = Path(args.repo) if args.repo else default_repo()
        files = read_directory(repo)
        if args.product:
            return _product(args, files, at)
        return _results(args, files, at)
    except (CertifyError, SnapshotError) as e:
        print(f"govbot: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"govbot: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE


def _results(args: argparse.Namespace, files: dict[str, bytes], at: date) -> int:
    if not args.results or not args.guideline:
        raise CertifyError("give RESULTS and --guideline (or --product FILE)")
    policy = load_policy(files)
    guidelines = Guidelines(files, policy.valid_latest)
    req = guidelines.requirements(args.guideline, args.target)
    if isinstance(req, str):
        raise CertifyError(req)
    path = Path(args.results)
    read = parse_results(args.results, path.read_bytes(), args.results_format)
    render = certify_report.FORMATS[args.format]
    if read.results is None:
        print(render([], read.findings), end="")
        return EXIT_NOT_QUALIFIED
    verdict = verify(
        read.results,
        req,
        guidelines.validity,
        at,
        release=args.release,
        policy=policy,
        extra=read.findings,
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
