"""Reading the registry's inputs from a repo: the products tree and when each was approved.

The core registry (:mod:`govbot.core.registry`) takes a snapshot and a
``{product path: date}`` map. Here the dates come from Git: a product's
approval date is the date of the newest first-parent commit of the governed
branch that changed its file or one of its results files (an edit that the
Foundation merges is approved again). A directory that is not a Git checkout
has no dates; the registry then judges each entry on the day asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from govbot.core import products
from govbot.repo.snapshots import SnapshotError, first_parent_log, read_directory, read_snapshot


def read(repo: Path, rev: str | None) -> dict[str, bytes]:
    """The snapshot: the working tree of ``repo``, or ``rev`` (a revision or a directory)."""
    return read_snapshot(repo, rev) if rev else read_directory(repo)


def approval_dates(repo: Path, rev: str, files: Mapping[str, bytes]) -> dict[str, date]:
    """Each product file's approval date on ``rev``'s first-parent history (see module doc)."""
    watched: dict[str, str] = {}  # changed path -> product path it dates
    for path in (p for p in files if products.is_product(p)):
        product, _ = products.load(path, files[path])
        watched[path] = path
        for claim in product.claims if product is not None else ():
            watched.setdefault(claim.results, path)
    dates: dict[str, date] = {}
    try:
        log = first_parent_log(repo, rev, "products")
    except SnapshotError:  # no git at all: no dates, as for a plain directory
        return {}
    for when, changed in log:
        for p in changed:
            owner = watched.get(p)
            if owner is not None and owner not in dates:
                dates[owner] = datetime.fromisoformat(when).astimezone(UTC).date()
        if len(dates) == len({*watched.values()}):
            break
    return dates
