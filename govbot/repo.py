"""Finding one guideline's file in a governance repo, in either layout."""

from __future__ import annotations

from pathlib import Path


class RepoError(Exception):
    """The repo or the guideline asked for cannot be found."""


def find_guideline_file(root: Path, guideline_id: str) -> Path:
    """``2020.06`` -> guidelines/2020.06.yaml, ``dns.2020.06`` -> guidelines/add-ons/dns.2020.06.yaml.

    An interop-layout repo (``2020.06.json``, ``add-ons/dns.2020.06.json``) works too,
    so vendors can get must-pass lists straight from the JSON repository.
    """
    candidates = [
        root / "guidelines" / f"{guideline_id}.yaml",
        root / "guidelines" / "add-ons" / f"{guideline_id}.yaml",
        root / f"{guideline_id}.json",
        root / "add-ons" / f"{guideline_id}.json",
    ]
    for candidate in candidates:
        if candidate.is_file() and "/" not in guideline_id:
            return candidate
    raise RepoError(f"no guideline {guideline_id!r} under {root}")
