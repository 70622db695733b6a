"""``govbot bench …``: the benchmarks of the top-level ``bench/`` folder, from a checkout.

Benchmarks are not shipped in the wheel: they load test fakes and build
synthetic repos. An editable install (``pip install -e .``, what ``make``
does) puts the checkout on the path, so ``govbot bench`` finds them there;
``python -m bench …`` from the checkout's root does the same.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from govbot.cli.common import CliError

BENCHMARKS = ("validate", "check", "webhooks", "tally", "reconcile")


def add_arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument("what", choices=BENCHMARKS)
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


def add_commands(sub: Any) -> None:
    b = sub.add_parser("bench", help="measure govbot against a baseline, in one run")
    add_arguments(b)
    b.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        module = importlib.import_module(f"bench.{args.what}")
    except ModuleNotFoundError as e:
        if e.name not in ("bench", f"bench.{args.what}"):
            raise
        raise CliError(
            "the benchmarks live in the checkout's bench/ folder, not in the installed package: "
            "run them from a checkout (pip install -e .), or python -m bench there"
        ) from e
    return int(module.main(args))
