"""What every command shares: exit codes, user errors, settings, the data directory, output.

One scheme for the whole command line: a command returns its exit code, or
raises; :func:`user_message` decides whether an exception is the user's to
fix (printed as one ``govbot: …`` line, exit 2) or a bug (a traceback).
With ``--format json`` every command prints one JSON document, the
:func:`envelope` (errors too), so a script reads every command the same way.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from govbot import __version__
from govbot.core.settings import Settings, SettingsError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
"""0 clean; 1 findings (errors, a failed vote, a mismatch); 2 usage, input or I/O error."""
DATA_DIR_NAME = ".govbot"
NESTED = ("source_format", "target_format", "site_action", "release_action", "committee_action")
"""The dests of second-level subcommands, for a command's full name."""


class CliError(Exception):
    """Bad input or an unusable repo; the message is for the user (exit 2)."""


def user_message(e: BaseException) -> str | None:
    """The one-line message of an error the user can fix, None for a bug.

    The domain's error types are imported here, on the error path only, so
    that a fast command does not pay for loading modules it never used.
    """
    from govbot.core.release import ReleaseError
    from govbot.core.timeline import TimelineError
    from govbot.forges.base import ForgeError
    from govbot.repo.files import RepoError
    from govbot.repo.importer import ImportError_

    if isinstance(
        e,
        CliError
        | RepoError
        | ReleaseError
        | ForgeError
        | TimelineError
        | ImportError_
        | SettingsError,
    ):
        return str(e)
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}"
    return None


@cache
def settings() -> Settings:
    """The environment, read once per process."""
    return Settings.from_environ(os.environ)


def _git_toplevel(start: Path) -> Path | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None


def data_dir(option: str | None = None, environ: Any = os.environ) -> Path:
    """Where the database and the generated secret live, as an absolute path.

    ``--data-dir``, else ``GOVBOT_HOME``, else ``.govbot/`` at the root of the
    repository govbot serves: ``GOVBOT_REPO_PATH``, or the checkout govbot runs
    from (``make run``'s), or the Git repository around the current directory.
    So ``govbot simulate`` or ``govbot reports`` run from any directory find
    the state (and the secret) ``govbot up`` made, instead of making new ones.
    """
    if option:
        return Path(option).expanduser().resolve()
    if environ.get("GOVBOT_HOME"):
        return Path(environ["GOVBOT_HOME"]).expanduser().resolve()
    from govbot.repo import bundled

    if environ.get("GOVBOT_REPO_PATH"):
        return Path(environ["GOVBOT_REPO_PATH"]).expanduser().resolve() / DATA_DIR_NAME
    checkout = bundled.root()
    if (checkout / ".git").exists() or (checkout / "pyproject.toml").is_file():
        return checkout.resolve() / DATA_DIR_NAME
    top = _git_toplevel(Path.cwd())
    if top is not None:
        return top / DATA_DIR_NAME
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "govbot"


def default_repo() -> Path:
    """The current directory when it is a governance repo, else the bundled data."""
    from govbot.repo import bundled

    cwd = Path.cwd()
    if (cwd / "guidelines").is_dir() or (cwd / "policies").is_dir():
        return cwd
    return bundled.root()


def repo_arg(value: str | None) -> Path:
    return Path(value) if value else default_repo()


def write(output: str | None, text: str) -> None:
    """To the file named by ``-o``, or to standard output."""
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# -- one contract for every command -------------------------------------------------


def add_format(p: argparse.ArgumentParser, *more: str, default: str = "text") -> None:
    """``--format text|json`` (and the command's own extra formats)."""
    p.add_argument(
        "--format",
        choices=["text", "json", *more],
        default=default,
        help="text for people, json for programs (one envelope: see the README)",
    )


def command_name(args: argparse.Namespace) -> str:
    parts = [str(getattr(args, "command", "") or "")]
    parts += [str(getattr(args, d)) for d in NESTED if getattr(args, d, None)]
    return " ".join(p for p in parts if p)


def envelope(command: str, exit_code: int, payload: Any) -> dict[str, Any]:
    """Every JSON document the command line prints: who made it, what, the exit code,
    then the command's own keys (a list is given under ``items``), or ``error``."""
    doc: dict[str, Any] = {"govbot": __version__, "command": command, "exit_code": exit_code}
    if isinstance(payload, dict):
        doc.update(payload)
    elif payload is not None:
        doc["items"] = payload
    return doc


def instant(value: str) -> datetime:
    """An ISO 8601 time from the command line (UTC when it names no zone), or ``now``,
    ``today``, ``yesterday``, ``tomorrow``; anything else is a usage error (exit 2)."""
    words = {"now": 0, "today": 0, "yesterday": -1, "tomorrow": 1}
    lowered = value.strip().lower()
    if lowered in words:
        now = datetime.now(UTC)
        if lowered != "now":
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return now + timedelta(days=words[lowered])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or time: {value!r} (write 2026-03-01, 2026-03-01T12:00Z, now, "
            "yesterday or tomorrow)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
