"""Replay benchmark: ``govbot replay`` over a whole history, against reading its blobs.

Run it from the repo root: ``python -m bench.replay [--repo R] [--from REV] [--to REV]``.
Without ``--repo`` it clones ../shared/interop-history/openstack-interop.bundle
(600 commits of openstack/interop, 2014-2020) into a temporary directory.

Two figures, taken in the same run, on the same machine, under the same load:

* **replay**: ``govbot.repo.history.replay`` over the range, everything included:
  listing the commits, reading every commit, tree and blob through one
  ``git cat-file --batch``, parsing, validating and judging each commit
  against its first parent as of its date;
* **baseline**: the bare cost of the data it needs, every governed blob that
  some commit of the range changed, read through one ``git cat-file --batch``
  and parsed (``json.loads`` / ``ryaml.loads``), nothing else. The list of
  those blobs is made before the clock starts.

The ratio replay / baseline says what judging costs over merely reading the
history. The target is an absolute one: the 600 commits in under 60 s on a
2-core machine. Nothing fails on a timing; the exit status is 0 unless the
replay itself broke.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import ryaml

from govbot.repo.history import ObjectReader, governed_blobs, list_commits, replay

BUNDLE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "interop-history"
    / "openstack-interop.bundle"
)
TARGET_SECONDS = 60.0


def changed_blobs(repo: Path, start: str | None, end: str) -> list[tuple[str, str]]:
    """(path, blob id) of every governed blob a commit of the range changed, each once."""
    reader = ObjectReader(repo)
    try:
        seen: dict[str, str] = {}
        trees: dict[str, dict[str, str]] = {}
        for c in list_commits(repo, start, end):
            trees[c.sha] = governed_blobs(reader, c.sha)
            parent = trees.get(c.parents[0]) if c.parents else None
            if parent is None and c.parents:
                parent = governed_blobs(reader, c.parents[0])
            for path, blob in trees[c.sha].items():
                if (parent or {}).get(path) != blob:
                    seen.setdefault(blob, path)
        return [(path, blob) for blob, path in seen.items()]
    finally:
        reader.close()


def baseline(repo: Path, blobs: list[tuple[str, str]]) -> tuple[float, int, int]:
    """Seconds to read and parse every blob once; bytes read; files that did not parse."""
    started = time.perf_counter()
    reader = ObjectReader(repo)
    size = broken = 0
    try:
        for path, blob in blobs:
            raw = reader.blob(blob)
            size += len(raw)
            try:
                json.loads(raw) if path.endswith(".json") else ryaml.loads(raw.decode())
            except Exception:  # a broken file of history costs its parse all the same
                broken += 1
    finally:
        reader.close()
    return time.perf_counter() - started, size, broken


def measure(repo: Path, start: str | None, end: str) -> dict[str, float]:
    blobs = changed_blobs(repo, start, end)
    base_s, size, broken = baseline(repo, blobs)
    started = time.perf_counter()
    verdicts = list(replay(repo, start, end))
    replay_s = time.perf_counter() - started
    blocked = [v for v in verdicts if v.blocked]
    rules = Counter(rule for v in blocked for rule in v.blocking)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpu(s), Python {platform.python_version()}"
    )
    print(f"range: {len(verdicts)} commit(s) of {repo}")
    print(
        f"baseline: git cat-file + parse of {len(blobs)} changed blob(s), {size / 1e6:.1f} MB "
        f"({broken} do not parse): {base_s:.2f} s"
    )
    print(
        f"govbot replay: {replay_s:.2f} s, {1000 * replay_s / max(len(verdicts), 1):.1f} ms/commit "
        f"(target for the 600 commits: < {TARGET_SECONDS:.0f} s)"
    )
    print(f"ratio replay / baseline: {replay_s / base_s:.1f}x" if base_s else "ratio: -")
    print(f"verdicts: {len(blocked)} blocked, {len(verdicts) - len(blocked)} passed")
    for rule, n in rules.most_common():
        print(f"  {rule}: {n}")
    return {
        "replay": replay_s,
        "baseline": base_s,
        "commits": len(verdicts),
        "blocked": len(blocked),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", help=f"a git repository (default: a clone of {BUNDLE.name})")
    p.add_argument("--from", dest="start", help="start after this revision")
    p.add_argument("--to", dest="end", default="HEAD", help="last revision (default: HEAD)")
    args = p.parse_args(argv)
    if args.repo:
        measure(Path(args.repo), args.start, args.end)
        return 0
    if not BUNDLE.is_file():
        print(f"no --repo, and the bundle is not at {BUNDLE}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "interop"
        subprocess.run(["git", "clone", "-q", str(BUNDLE), str(repo)], check=True)
        measure(repo, args.start, args.end)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
