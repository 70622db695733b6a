"""The registry's public records on the static site: certified products and their results.

``products/index.json`` lists every certification (current first, then past
validations, 2017A C6.2); per program, ``products/<vendor>/<product>/<program>.json``
is its public record: the description of the system (C4.5) and its passes
only, per test (C4.3, C4.4). Failures and skips are never published. The
pages that show them (``products/index.html`` and one per product) are the
site's templates (govbot.web.pages). Pure: a key becomes a path only through
the product-file pattern.
"""

from __future__ import annotations

import json
from itertools import groupby

from govbot.core.registry import CURRENT, Certified, Registry


def by_product(reg: Registry) -> list[list[Certified]]:
    """The registry's entries grouped by product, in product order."""
    ordered = sorted(reg.entries, key=lambda e: e.product)
    return [list(group) for _, group in groupby(ordered, key=lambda e: e.product)]


def current_and_past(reg: Registry) -> tuple[list[Certified], list[Certified]]:
    return (
        [e for e in reg.entries if e.status == CURRENT],
        [e for e in reg.entries if e.status != CURRENT],
    )


def records(reg: Registry) -> dict[str, bytes]:
    """The registry's JSON files, keyed by site-relative path."""
    summary = [e.summary() for e in reg.entries]
    out = {"products/index.json": (json.dumps({"products": summary}, indent=2) + "\n").encode()}
    for entries in by_product(reg):
        for e in entries:
            record = json.dumps(e.published(), indent=2) + "\n"
            out[f"products/{e.product}/{e.program}.json"] = record.encode()
    return out
