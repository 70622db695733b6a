"""``govbot bench validate``: govbot's validation speed against a plain baseline.

Every figure is measured in the same process, one after the other, so they
share the machine's state (CPU frequency, page cache, other load) and their
ratios mean something even where the absolute seconds do not. Each figure is
the best of ``--repeat`` wall-clock runs: the minimum is the run least
disturbed by noise. Nothing here asserts on time; the numbers are for people.

The baseline is what one would write without govbot: PyYAML's C loader and
the ``jsonschema`` package. It does strictly less than govbot (no integrity
checks, no line numbers), so the speedup is a lower bound.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from govbot.core.validate import classify, validate_files
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from govbot.repo.snapshots import read_directory

Files = dict[str, bytes]
_ID_LINE = re.compile(rb"^id:[ \t]*(['\"]?)([^'\"\r\n]*?)\1[ \t]*$", re.MULTILINE)


def governed_files(repo: Path) -> Files:
    """The files ``govbot validate`` would look at; the rest would skew MB/s."""
    return {p: raw for p, raw in read_directory(repo).items() if classify(p) is not None}


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Minimum wall time of ``repeat`` runs: the least noisy estimate."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def baseline(files: Mapping[str, bytes], sources: Mapping[str, dict[str, Any]]) -> int:
    """PyYAML (C) + jsonschema, validators built once per schema; returns the error count.

    Building the validators is inside the measurement, as schema compilation
    is in govbot's cold figure.
    """
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in sources.values()
    )
    validators = {
        name: jsonschema.Draft202012Validator(s, registry=registry) for name, s in sources.items()
    }
    errors = 0
    for path, raw in sorted(files.items()):
        schema = classify(path)
        if schema is None:
            continue
        data = yaml.load(raw.decode("utf-8"), Loader=yaml.CSafeLoader)
        errors += sum(1 for _ in validators[schema].iter_errors(data))
    return errors


def govbot_cold(files: Mapping[str, bytes]) -> int:
    """A first run in a fresh process: schemas compiled, no findings cache."""
    bundled.schema_set.cache_clear()
    return len(validate_files(files, bundled.schema_set(), cache=None))


def replica_id(ident: str, k: int) -> str:
    """A new id for copy ``k`` that the id pattern accepts and keeps the date.

    ``2020.06`` -> ``r3.2020.06`` (platform files may carry a prefix too) and
    ``dns.2020.06`` -> ``dns-r3.2020.06``. Keeping the date part (and ``next``)
    means date-based checks (required-since) judge each copy like the original,
    so every replica has the same findings as the corpus.
    """
    prefix, dot, rest = ident.partition(".")
    if dot and not prefix[:1].isdigit() and prefix != "next":
        return f"{prefix}-r{k}.{rest}"
    return f"r{k}.{ident}"


def replicate(files: Mapping[str, bytes], k: int) -> Files:
    """Copy ``k`` of every guideline, renamed: its path and its id line rewritten alike.

    A file whose id did not match its name keeps that mismatch (it is real
    data); the policy file is not copied, a repo has one.
    """
    out: Files = {}
    for path, raw in files.items():
        if not path.startswith("guidelines/"):
            continue
        folder, _, name = path.rpartition("/")
        new_path = f"{folder}/{replica_id(name.removesuffix('.yaml'), k)}.yaml"

        def rename(m: re.Match[bytes]) -> bytes:
            new = replica_id(m.group(2).decode("utf-8"), k)
            return b"id: '" + new.encode("utf-8") + b"'"

        out[new_path] = _ID_LINE.sub(rename, raw, count=1)
    return out


def synthetic(files: Mapping[str, bytes], scale: int) -> Files:
    """The corpus plus ``scale - 1`` renamed copies of its guidelines."""
    out = dict(files)
    for k in range(2, scale + 1):
        out.update(replicate(files, k))
    return out


def _mb(files: Mapping[str, bytes]) -> float:
    return sum(len(raw) for raw in files.values()) / 1e6


def main(args: argparse.Namespace) -> int:
    repo = Path(args.repo) if args.repo else bundled.root()
    repeat, scale = max(1, args.repeat), max(1, args.scale)
    files = governed_files(repo)
    sources = bundled.schema_set().sources
    mb = _mb(files)
    rows: list[tuple[str, float, float]] = []

    def figure(name: str, seconds: float, megabytes: float = mb) -> float:
        rows.append((name, seconds, megabytes / seconds if seconds else float("inf")))
        return seconds

    t_base = figure(
        "baseline: PyYAML C + jsonschema", best_of(repeat, lambda: baseline(files, sources))
    )
    t_cold = figure("govbot cold (schemas compiled)", best_of(repeat, lambda: govbot_cold(files)))
    schemas = bundled.schema_set()
    corpus_findings = validate_files(files, schemas)
    per_copy = sum(1 for f in corpus_findings if f.file.startswith("guidelines/"))

    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as tmp:
        cache = DiskCache(Path(tmp))
        validate_files(files, schemas, cache=cache)  # fill the cache, untimed
        t_warm = figure(
            "govbot warm cache",
            best_of(repeat, lambda: validate_files(files, schemas, cache=cache)),
        )

        # The biggest guideline: the worst case for an edit.
        edited = max((p for p in files if p.startswith("guidelines/")), key=lambda p: len(files[p]))
        counter = itertools.count(1)  # a fresh edit each run: always a cache miss

        def one_changed() -> None:
            changed = dict(files)
            changed[edited] = files[edited] + f"# bench edit {next(counter)}\n".encode()
            validate_files(changed, schemas, cache=cache)

        t_one = figure("govbot one file changed", best_of(repeat, one_changed))
        one_raw = files[edited] + b"# bench edit 0\n"
        t_parse = figure(
            "parse that one file alone",
            best_of(repeat, lambda: parse_bytes(edited, one_raw)),
            len(one_raw) / 1e6,
        )

    big = synthetic(files, scale)
    big_mb = _mb(big)
    t_big_base = figure(
        f"synthetic x{scale}: baseline", best_of(repeat, lambda: baseline(big, sources)), big_mb
    )
    t_big_cold = figure(
        f"synthetic x{scale}: govbot cold", best_of(repeat, lambda: govbot_cold(big)), big_mb
    )
    big_findings = govbot_cold(big)

    print(f"govbot bench validate: best of {repeat} run(s), wall time (time.perf_counter)")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs"
    )
    print(f"corpus: {repo} ({len(files)} governed files, {mb:.2f} MB of YAML)")
    print(f"synthetic: x{scale} ({len(big)} files, {big_mb:.2f} MB); edited file: {edited}")
    print("baseline checks schemas only; govbot also runs integrity checks, locates findings")
    print()
    print(f"{'figure':<40} {'seconds':>9} {'MB/s':>9}")
    for name, seconds, rate in rows:
        print(f"{name:<40} {seconds:>9.3f} {rate:>9.1f}")
    print()
    print("ratios")
    print(f"  speedup baseline / govbot cold:        {t_base / t_cold:6.1f}x  (target >= 5x)")
    print(f"  govbot cold / warm cache:              {t_cold / t_warm:6.1f}x")
    print(f"  one file changed / parse one file:     {t_one / t_parse:6.1f}x")
    print(
        f"  synthetic / corpus, baseline:          {t_big_base / t_base:6.1f}x  (linear: ~{scale})"
    )
    print(
        f"  synthetic / corpus, govbot cold:       {t_big_cold / t_cold:6.1f}x  (linear: ~{scale})"
    )
    expected = len(corpus_findings) + (scale - 1) * per_copy
    print(
        f"findings (sanity): corpus {len(corpus_findings)}, synthetic x{scale} {big_findings}, "
        f"expected {expected} (the policy file's findings count once)"
    )
    sys.stdout.flush()
    return 0
