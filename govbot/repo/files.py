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

NOT_FOLLOWED = "govbot never follows links in a repository (one could point outside it)"


class RepoError(Exception):
    """The repo, or the file asked for, cannot be read; the message is for the user."""


class MissingFile(RepoError):
    """The file asked for does not exist (as opposed to existing but not being readable)."""


def link_in(root: Path, rel: str) -> str | None:
    """The first component of ``rel`` (as a repo-relative path) that is a symlink, if any."""
    path, parts = root, [p for p in rel.split("/") if p]
    for i, part in enumerate(parts):
        path = path / part
        try:
            if stat.S_ISLNK(path.lstat().st_mode):
                return "/".join(parts[: i + 1])
        except OSError:
            return None
    return None


def why_unreadable(root: Path, rel: str) -> str:
    """Why ``root/rel`` is not a regular file reached through no symlink, in words for the user."""
    link = link_in(root, rel)
    if link == rel.strip("/"):
        return f"a symbolic link: {NOT_FOLLOWED}"
    if link is not None:
        return f"behind a symbolic link ({link}): {NOT_FOLLOWED}"
    try:
        mode = root.joinpath(*rel.split("/")).lstat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return e.strerror or str(e)
    return "not a regular file" if not stat.S_ISREG(mode) else "not readable"


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
    """The bytes of ``root/rel``; MissingFile if there is none, RepoError if it is not a
    regular file or is (or is behind) a symlink: the message says which."""
    try:
        fd, _ = open_regular(root, rel)
    except OSError as e:
        why = why_unreadable(root, rel)
        if why == "not readable":
            why = e.strerror or str(e)
        raise (MissingFile if why == "no such file" else RepoError)(f"{rel}: {why}") from e
    with os.fdopen(fd, "rb") as f:
        return f.read()


def find_guideline(root: Path, guideline_id: str) -> str:
    """The repo-relative path of guideline ``guideline_id``, in either layout.

    ``2020.06`` -> guidelines/2020.06.yaml, ``dns.2020.06`` ->
    guidelines/add-ons/dns.2020.06.yaml; an interop-layout repo (``2020.06.json``,
    ``add-ons/dns.2020.06.json``) works too, so vendors can get must-pass lists
    straight from the JSON repository.
    """
    refused = []
    for rel in guideline_candidates(guideline_id):
        try:
            fd, _ = open_regular(root, rel)
        except OSError:
            if (why := why_unreadable(root, rel)) != "no such file":
                refused.append(f"{rel} is {why}")
            continue
        os.close(fd)
        return rel
    raise RepoError(
        f"no guideline {guideline_id!r} under {root}" + "".join(f"; {r}" for r in refused)
    )
