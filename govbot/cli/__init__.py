"""The ``govbot`` command line: one module per command group, one error scheme (cli.common).

Each group module has ``add_commands(sub)``; the service's commands import
the database and web stacks only when they run, so ``govbot validate`` stays
fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from govbot import __version__
from govbot.cli import (
    bench,
    bot,
    certify,
    check,
    decisions,
    inbox,
    release,
    site,
    timeline,
    validate,
    votes,
)
from govbot.cli.common import EXIT_OK, EXIT_USAGE, user_message

GROUPS = (validate, check, timeline, votes, decisions, certify, site, release, bot, inbox, bench)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govbot", description="Git-backed governance and trademark workflow bot."
    )
    p.add_argument("--version", action="version", version=f"govbot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `govbot mustpass ... | head`: the reader has what it wanted
        # Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        message = user_message(e)
        if message is None:
            raise
        print(f"govbot: {message}", file=sys.stderr)
        return EXIT_USAGE
