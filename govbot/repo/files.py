"""Reading files of a governance repo on disk without ever leaving it.

A repo is untrusted input: a proposed change can replace a directory or a
file with a symlink to ``/etc`` or to another checkout. Every read of a
working tree goes through here, so the rule "never follow a symlink out of a
repository" is written once: directories are walked component by component
with ``lstat``, and files are opened with ``O_NOFOLLOW`` (a symlink swapped in
after the listing is refused, not followed).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from govbot.core.layout import guideline_candidates


class RepoError(Exception):
    """The repo, or the file asked for, cannot be read; the message is for the user."""


def real_dir(root: Path, rel_dir: str) -> bool:
    """Whether ``rel_dir`` is a directory under ``root`` reached through no symlink."""
    path = root
    for part in [p for p in rel_dir.split("/") if p]:
        path = path / part
        try:
            if not stat.S_ISDIR(path.lstat().st_mode):
                return False
        except OSError:
            return False
    return True


def open_regular(root: Path, rel: str) -> tuple[int, os.stat_result]:
    """A descriptor on ``root/rel`` and its stat; OSError unless it is a regular file
    reached through no symlink. The caller owns (and closes) the descriptor."""
    if not real_dir(root, rel.rpartition("/")[0]):
        raise FileNotFoundError(errno.ENOENT, "no such directory (or it is a symlink)", rel)
    fd = os.open(root.joinpath(*rel.split("/")), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, "not a regular file", rel)
    return fd, st


def read_regular(root: Path, rel: str) -> bytes:
    """The bytes of ``root/rel``; RepoError if it is missing, not a regular file, or behind a
    symlink."""
    try:
        fd, _ = open_regular(root, rel)
    except OSError as e:
        raise RepoError(f"{rel}: {e.strerror}") from e
    with os.fdopen(fd, "rb") as f:
        return f.read()


def find_guideline(root: Path, guideline_id: str) -> str:
    """The repo-relative path of guideline ``guideline_id``, in either layout.

    ``2020.06`` -> guidelines/2020.06.yaml, ``dns.2020.06`` ->
    guidelines/add-ons/dns.2020.06.yaml; an interop-layout repo (``2020.06.json``,
    ``add-ons/dns.2020.06.json``) works too, so vendors can get must-pass lists
    straight from the JSON repository.
    """
    for rel in guideline_candidates(guideline_id):
        try:
            fd, _ = open_regular(root, rel)
        except OSError:
            continue
        os.close(fd)
        return rel
    raise RepoError(f"no guideline {guideline_id!r} under {root}")
