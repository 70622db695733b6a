"""Which guidelines a vendor may certify against on a given day (2017A C6), and until when.

C6.1 limits vendors to the two latest approved guidelines of a program; C6.2
respects past validations, so a certification stays on record after its
guideline is superseded, and it *expires* (for new use) the day its guideline
leaves the latest approved: when the ``valid_latest``-th guideline after it
is approved. Add-ons (``dns.2020.06``) are counted within their own family.

A guideline's approval day is its ``approved_on`` when the release set one
(``govbot release prepare``), else the first day of the month its id names
(2017A D4: guidelines are named after the month of Board approval).
Statuses are read like :class:`govbot.core.check.Side` reads them, from the
top-level line of each file, so this costs no full parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from govbot.core.check import Side
from govbot.core.rules import FROZEN, split_key

_APPROVED_ON = re.compile(
    rb"^approved_on:[ \t]*['\"]?(\d{4}-\d{2}-\d{2})['\"]?[ \t]*(?:#.*)?$", re.M
)


@dataclass(frozen=True, order=True)
class Approved:
    approved_on: date
    key: str


@dataclass(frozen=True)
class Validity:
    """Every approved guideline of a snapshot, by family, oldest first."""

    families: Mapping[str, tuple[Approved, ...]]
    latest: int = 2

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], latest: int = 2) -> Validity:
        side = Side(files)
        families: dict[str, list[Approved]] = {}
        for key, status in side.statuses.items():
            parts = split_key(key)
            if parts is None or parts[1] == "next" or status.get("status") not in FROZEN:
                continue
            families.setdefault(parts[0], []).append(Approved(_approved_on(side, key), key))
        return cls({f: tuple(sorted(v)) for f, v in families.items()}, latest)

    def family_of(self, key: str) -> tuple[Approved, ...]:
        parts = split_key(key)
        return self.families.get(parts[0], ()) if parts else ()

    def approved_on(self, key: str) -> date | None:
        return next((a.approved_on for a in self.family_of(key) if a.key == key), None)

    def valid_at(self, family_member: str, at: date) -> list[str]:
        """C6.1: the guidelines of ``family_member``'s family usable on ``at``, newest first."""
        known = [a for a in self.family_of(family_member) if a.approved_on <= at]
        return [a.key for a in reversed(known[-self.latest :])]

    def expires(self, key: str) -> date | None:
        """The day ``key`` stops being usable for new certifications; None while not known."""
        family = self.family_of(key)
        keys = [a.key for a in family]
        if key not in keys:
            return None
        later = keys.index(key) + self.latest
        return family[later].approved_on if later < len(family) else None


def _approved_on(side: Side, key: str) -> date:
    path = side.paths[key]
    m = _APPROVED_ON.search(side.files[path]) if path.endswith(".yaml") else None
    if m is None and path.endswith(".json"):
        value = (side.data(key) or {}).get("approved_on")
        text = value if isinstance(value, str) else None
    else:
        text = m.group(1).decode() if m else None
    try:
        if text is not None:
            return date.fromisoformat(text)
    except ValueError:
        pass
    parts = split_key(key)
    year, month = (parts[1] if parts else "1970.01").split(".")
    return date(int(year), int(month), 1)
