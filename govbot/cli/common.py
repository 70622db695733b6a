"""What every command shares: exit codes, user errors, where the repo is, writing output.

One scheme for the whole command line: a command returns its exit code, or
raises; :func:`user_message` decides whether an exception is the user's to
fix (printed as one ``govbot: …`` line, exit 2) or a bug (a traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
"""0 clean; 1 findings (errors, a failed vote, a mismatch); 2 usage, input or I/O error."""


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
        e, CliError | RepoError | ReleaseError | ForgeError | TimelineError | ImportError_
    ):
        return str(e)
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}"
    return None


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
