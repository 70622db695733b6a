"""The static site (``govbot site build``): every page from the templates, plus the data files.

``{relative path: bytes}`` out, from a snapshot in: the command line writes
it, tests compare bytes. Pages are the live app's (same templates, static
links); test lists and JSON come from :mod:`govbot.core.site`. Diff pages
are written for every pair of guidelines of one family (older to newer); the
live app answers any pair. One broken file never stops the site: it is
listed as unreadable on the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from itertools import combinations

from govbot.core import registry_site, site
from govbot.core.registry import Registry
from govbot.web import pages
from govbot.web.pages import STATIC_LINKS


def build_from(
    guidelines: Iterable[site.Guideline],
    unreadable: Iterable[site.Unreadable],
    registry: Registry | None = None,
    today: date | None = None,
    latest: int = 2,
) -> tuple[dict[str, bytes], list[site.Unreadable]]:
    """The site, and every file it lists as unreadable (with those that cannot be rendered)."""
    today = today or date.today()
    products = registry is not None
    out: dict[str, bytes] = {}
    shown: list[site.Guideline] = []
    bad = list(unreadable)
    for g in guidelines:
        try:
            files = site.guideline_files(g)
        except Exception as e:  # malformed data of any shape; the rest of the site stands
            bad.append(site.Unreadable(g.path, f"cannot be rendered: {type(e).__name__}: {e}"))
            continue
        out.update(files)
        shown.append(g)
    for g in shown:
        html = pages.guideline(g, shown, STATIC_LINKS, today, "../../", products, latest)
        out[f"guidelines/{g.id}/index.html"] = html.encode()
    for older, newer in pairs(shown):
        html = pages.diff(older, newer, shown, STATIC_LINKS, "../", products)
        out[STATIC_LINKS.diff(older.id, newer.id)] = html.encode()
    out["diff/index.html"] = pages.diff(None, None, shown, STATIC_LINKS, "../", products).encode()
    out["releases.html"] = pages.releases(shown, STATIC_LINKS, products).encode()
    out[pages.STYLESHEET] = pages.static_file("style.css")
    if registry is not None:  # the certified products, when the repo has any
        out.update(registry_site.records(registry))
        out.update(pages.products(registry, STATIC_LINKS))
        bad.extend(site.Unreadable(path, why) for path, why in registry.unreadable)
    bad.sort(key=lambda u: u.path)
    out["index.html"] = pages.index(shown, bad, STATIC_LINKS, today, products, latest).encode()
    return dict(sorted(out.items())), bad


def pairs(guidelines: Iterable[site.Guideline]) -> list[tuple[site.Guideline, site.Guideline]]:
    """Every (older, newer) pair of guidelines of one family."""
    by_family: dict[str, list[site.Guideline]] = {}
    for g in reversed(site.newest_first(guidelines)):  # oldest first
        by_family.setdefault(site.family(g), []).append(g)
    return [pair for members in by_family.values() for pair in combinations(members, 2)]


def build_site(
    files: Mapping[str, bytes],
    registry: Registry | None = None,
    today: date | None = None,
) -> tuple[dict[str, bytes], list[site.Unreadable]]:
    """The site of a repo snapshot (with its registry, if given), and what it could not show."""
    from govbot.core.submission import load_policy

    loaded = [item for p, raw in files.items() if (item := site.load_file(p, raw)) is not None]
    latest = load_policy(files).valid_latest
    return build_from(*site.catalog(loaded), registry, today, latest)


def build(files: Mapping[str, bytes], today: date | None = None) -> dict[str, bytes]:
    """The whole static site of a repo snapshot, keyed by relative path."""
    return build_site(files, today=today)[0]
