"""Reading a governance repo snapshot from disk into the core's shape (path -> bytes)."""

from __future__ import annotations

import os
from pathlib import Path

GOVERNED_DIRS = ("guidelines", "policies")


class RepoError(Exception):
    """The repo cannot be read at all (missing, not a directory, unreadable)."""


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under guidelines/ and policies/, keyed by its POSIX relative path."""
    if not root.is_dir():
        raise RepoError(f"{root}: not a directory")
    files: dict[str, bytes] = {}
    for top in GOVERNED_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                try:
                    files[rel] = full.read_bytes()
                except OSError as e:
                    raise RepoError(f"{rel}: {e.strerror}") from e
    return files


def find_guideline_file(root: Path, guideline_id: str) -> Path:
    """``2020.06`` -> guidelines/2020.06.yaml; ``dns.2020.06`` -> guidelines/add-ons/dns.2020.06.yaml."""
    for candidate in (
        root / "guidelines" / f"{guideline_id}.yaml",
        root / "guidelines" / "add-ons" / f"{guideline_id}.yaml",
    ):
        if candidate.is_file():
            return candidate
    raise RepoError(f"no guideline {guideline_id!r} under {root / 'guidelines'}")
