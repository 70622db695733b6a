"""The ``govbot`` command line: one module per command group, one error scheme (cli.common).

Each group module has ``add_commands(sub)``; the service's commands import
the database and web stacks only when they run, so ``govbot validate`` stays
fast. ``main`` does what every command shares: the data directory, logging,
the JSON envelope of ``--format json``, friendly errors, a quiet broken pipe.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Sequence

from govbot import __version__
from govbot.cli import (
    bench,
    bot,
    certify,
    check,
    committee,
    config,
    decisions,
    inbox,
    reconcile,
    release,
    reviews,
    site,
    timeline,
    validate,
    votes,
)
from govbot.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    command_name,
    data_dir,
    envelope,
    settings,
    user_message,
)

GROUPS = (
    validate,
    check,
    timeline,
    votes,
    committee,
    reviews,
    decisions,
    certify,
    site,
    release,
    bot,
    inbox,
    reconcile,
    config,
    bench,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govbot", description="Git-backed governance and trademark workflow bot."
    )
    p.add_argument("--version", action="version", version=f"govbot {__version__}")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the database and the generated webhook secret live "
        "(default: $GOVBOT_HOME, else .govbot/ at the repository root)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return p


def _run(args: argparse.Namespace) -> int:
    return int(args.func(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    before = os.environ.get("GOVBOT_HOME")
    try:
        return _main(args)
    finally:  # called in-process (tests, scripts): leave the environment as it was
        if before is None:
            os.environ.pop("GOVBOT_HOME", None)
        else:
            os.environ["GOVBOT_HOME"] = before


def _main(args: argparse.Namespace) -> int:
    as_json = getattr(args, "format", None) == "json"
    try:
        # Every process (and the server and workers it starts) finds the same state,
        # wherever it was started from.
        os.environ["GOVBOT_HOME"] = str(data_dir(args.data_dir))
        settings.cache_clear()
        from govbot.cli import logs

        s = settings()
        logs.configure(s.log_format, s.log_level)
        if not as_json:
            return _run(args)
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = _run(args)
        text = captured.getvalue().strip()
        payload = json.loads(text) if text else None
        print(json.dumps(envelope(command_name(args), code, payload), indent=2, default=str))
        return code
    except BrokenPipeError:  # `govbot mustpass ... | head`: the reader has what it wanted
        # Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        message = user_message(e)
        if message is None:
            raise
        if as_json:
            doc = envelope(command_name(args), EXIT_USAGE, {"error": {"message": message}})
            print(json.dumps(doc, indent=2))
        print(f"govbot: {message}", file=sys.stderr)
        return EXIT_USAGE
