"""``govbot bench check``: the cost of judging a one-file change, against full validation.

A check should cost about what parsing the changed file costs, whatever the
size of the repo: it validates the changed file (base and head, both cached by
content), diffs it, and runs the rules on it and its predecessor. The figures
are taken on the real corpus and on a synthetic repo ``--scale`` times larger,
in one run, next to a full cold validation of the same repo.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

from bench.validate import Files, best_of, govbot_cold, governed_files, synthetic
from govbot.core.check import check
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled
from govbot.repo.cache import DiskCache

EDITED = "guidelines/next.yaml"
ANCHOR = b"description: List supported versions of the Compute API"


def edit(files: Files, n: int) -> Files:
    """A real content change (a capability's description), fresh for every run."""
    head = dict(files)
    head[EDITED] = files[EDITED].replace(ANCHOR, ANCHOR + b" (edit %d)" % n, 1)
    return head


def measure(files: Files, repeat: int, label: str) -> list[tuple[str, float]]:
    schemas = bundled.schema_set()
    counter = itertools.count(1)
    rows = [(f"{label}: full cold validation", best_of(repeat, lambda: govbot_cold(files)))]
    rows.append(
        (
            f"{label}: check, no cache",
            best_of(repeat, lambda: check(files, edit(files, next(counter)), schemas)),
        )
    )
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as tmp:
        cache = DiskCache(Path(tmp))
        check(files, edit(files, 0), schemas, cache)  # the base side is now cached, untimed
        rows.append(
            (
                f"{label}: check, warm cache",
                best_of(repeat, lambda: check(files, edit(files, next(counter)), schemas, cache)),
            )
        )
    raw = edit(files, 0)[EDITED]
    rows.append(
        (f"{label}: parse {EDITED} alone", best_of(repeat, lambda: parse_bytes(EDITED, raw)))
    )
    return rows


def main(args: argparse.Namespace) -> int:
    repo = Path(args.repo) if args.repo else bundled.root()
    files = governed_files(repo)
    if EDITED not in files or ANCHOR not in files[EDITED]:
        print(
            f"govbot bench check: {repo} has no {EDITED} with the capability it edits",
            file=sys.stderr,
        )
        return 2
    result = check(files, edit(files, 0), bundled.schema_set())
    corpus = measure(files, args.repeat, "corpus")
    big = measure(synthetic(files, args.scale), args.repeat, f"synthetic x{args.scale}")
    print(
        f"govbot bench check: best of {args.repeat} run(s), wall time; the change edits one capability of {EDITED}"
    )
    print(
        f"(the check finds {len(result.findings)} finding(s) and {len(result.changes)} change(s))"
    )
    print()
    print(f"{'figure':<46} {'seconds':>9}")
    for name, seconds in [*corpus, *big]:
        print(f"{name:<46} {seconds:>9.4f}")
    print()
    print("ratios")
    for label, rows in (("corpus", corpus), (f"synthetic x{args.scale}", big)):
        full, cold, warm, parse = (s for _, s in rows)
        print(f"  {label}: full validation / check (warm):  {full / warm:7.1f}x")
        print(f"  {label}: check (warm) / parse one file:   {warm / parse:7.1f}x")
        print(f"  {label}: check (no cache) / parse one file: {cold / parse:5.1f}x")
    print(
        f"  synthetic / corpus, check (warm):  {big[2][1] / corpus[2][1]:7.1f}x  (independent of size: ~1)"
    )
    sys.stdout.flush()
    return 0
