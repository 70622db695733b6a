"""``govbot site build OUT``: write the static guideline site (see govbot.core.site).

The output directory must
be new or empty unless ``--force``: writing into a directory that holds other
files would mix an old site with the new one, or overwrite something that was
never a site. Exit codes: 0 written (unreadable guidelines are reported, not
fatal), 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from govbot.cli.certify import parse_day
from govbot.cli.common import EXIT_OK, CliError, add_format, repo_arg
from govbot.core import products, registry
from govbot.repo.files import NOT_FOLLOWED
from govbot.repo.registry import approval_dates
from govbot.repo.snapshots import read_directory


def add_commands(sub: Any) -> None:
    p = sub.add_parser("site", help="a static website of the guidelines and their test lists")
    site_sub = p.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    b = site_sub.add_parser("build", help="write the site into a new or empty directory")
    b.add_argument("out", metavar="OUT", help="output directory")
    b.add_argument(
        "--repo", help="governance repo (default: . if it is one, else the bundled data)"
    )
    b.add_argument("--force", action="store_true", help="write into OUT even if it is not empty")
    b.add_argument(
        "--at", help="certified products: judge current/expired on YYYY-MM-DD (default: today)"
    )
    add_format(b)
    b.set_defaults(func=cmd_build)


def write_site(out: Path, files: dict[str, bytes], force: bool = False) -> None:
    """Write files under out, refusing a non-empty out without force."""
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise CliError(f"{out}: not empty (use --force to write into it anyway)")
    root = out.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if not target.is_relative_to(root):  # the core never does this; never trust it to
            raise CliError(f"refusing to write {rel!r} outside {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def cmd_build(args: argparse.Namespace) -> int:
    repo = repo_arg(args.repo)
    snapshot = read_directory(repo)
    certified = None
    if any(products.is_product(p) for p in snapshot):  # approved = on this branch
        dates = approval_dates(repo, "HEAD", snapshot)
        certified = registry.build(snapshot, parse_day(args.at), dates)
    from govbot.web.build import build_site

    files, unreadable = build_site(snapshot, certified, parse_day(args.at))
    write_site(Path(args.out), files, args.force)
    pages = sum(1 for p in files if p.endswith(".html"))
    lists = sum(1 for p in files if p.endswith(".txt"))
    documents = sum(1 for p in files if p.endswith(".json"))
    if args.format == "json":
        doc = {"directory": args.out, "pages": pages, "test_lists": lists, "json": documents}
        print(json.dumps({**doc, "unreadable": [u.path for u in unreadable]}))
    else:
        print(
            f"wrote {pages} page(s), {lists} test list(s) and {documents} JSON document(s) "
            f"to {args.out}"
        )
    for u in unreadable:
        print(f"govbot: {u.path}: unreadable, listed on the index: {u.reason}", file=sys.stderr)
    for path, what in sorted(snapshot.skipped.items()):
        print(f"govbot: {path}: {what}, skipped: {NOT_FOLLOWED}", file=sys.stderr)
    return EXIT_OK
