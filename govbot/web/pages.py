"""The site's pages, from Jinja2 templates: one set for the static build and the live app.

Every value comes from data someone else wrote (ids, descriptions, test
names, titles of pull requests), so the environment autoescapes: a template
that forgets ``|e`` is still safe, and the only unescaped HTML is the
guideline body :mod:`govbot.core.render` builds (it escapes as it writes).
Links are given as functions of a :class:`Links`, because the same page is
``guidelines/2020.06/index.html`` in the static site and
``/guidelines/2020.06`` live; ``base`` is the way back to the site's root
from the page being rendered, so every link is relative and the static site
works from any directory or host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import markdown
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from govbot import __version__
from govbot.core import guideline_diff, mustpass, registry_site, render, site
from govbot.core.registry import Registry

ENV = Environment(
    loader=PackageLoader("govbot.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
STYLESHEET = "static/style.css"


def static_file(name: str) -> bytes:
    """A file of govbot/web/static (the stylesheet, the dashboard's script)."""
    return resources.files("govbot.web").joinpath("static", name).read_bytes()


@dataclass(frozen=True)
class Links:
    """Site-relative targets of every link (no leading slash: pages prefix ``base``)."""

    home: str
    page: Callable[[str], str]
    json: Callable[[str], str]
    tests: Callable[[str, str, str | None], str]
    diff: Callable[[str, str], str]
    releases: str
    compare: str
    style: str = STYLESHEET
    live: bool = False  # the dashboard and the API docs exist only live
    extra_nav: tuple[tuple[str, str, str], ...] = field(default=())


STATIC_LINKS = Links(
    home="index.html",
    page=lambda i: f"guidelines/{quote(i)}/index.html",
    json=lambda i: f"guidelines/{quote(i)}.json",
    tests=lambda i, t, s: f"guidelines/{quote(i)}/tests/{quote(site.list_name(t, s))}",
    diff=lambda a, b: f"diff/{quote(a)}..{quote(b)}.html",
    releases="releases.html",
    compare="diff/index.html",
)
LIVE_LINKS = Links(
    home="",
    page=lambda i: f"guidelines/{quote(i)}",
    json=lambda i: f"v1/guidelines/{quote(i)}.json",
    tests=lambda i, t, s: (
        f"v1/guidelines/{quote(i)}/tests?"
        + urlencode({"target": t, "type": s or "required", "flag": "false"})
    ),
    diff=lambda a, b: "diff?" + urlencode({"from": a, "to": b}),
    releases="releases",
    compare="diff",
    style=STYLESHEET,
    live=True,
    extra_nav=(("reviews", "Dashboard", "reviews"), ("docs", "API", "docs")),
)


def _nav(links: Links, products: bool) -> list[tuple[str, str, str]]:
    nav = [("index", "Guidelines", links.home), ("releases", "By release", links.releases)]
    nav.append(("diff", "Compare", links.compare))
    if products:
        nav.append(("products", "Certified products", "products/index.html"))
    return nav + list(links.extra_nav)


def page(
    template: str, links: Links, base: str, here: str, products: bool = False, **context: Any
) -> str:
    """One page: the layout (navigation, stylesheet) around a template's content."""
    return ENV.get_template(template).render(
        links=links,
        base=base,
        here=here,
        nav=_nav(links, products),
        version=__version__,
        **context,
    )


# -- the pages ---------------------------------------------------------------------


def _label(fam: str) -> str:
    return "OpenStack Powered" if fam == "" else f"Add-on: {fam}"


def index(
    guidelines: Sequence[site.Guideline],
    unreadable: Iterable[site.Unreadable],
    links: Links,
    today: date,
    products: bool = False,
    latest: int = 2,
) -> str:
    valid = site.valid_for_certification(guidelines, today, latest)
    ordered = site.newest_first(guidelines)
    families: dict[str, list[site.Guideline]] = {}
    for g in ordered:
        families.setdefault(site.family(g), []).append(g)
    return page(
        "index.html",
        links,
        "",
        "index",
        products,
        title="Interoperability guidelines",
        today=today.isoformat(),
        families=[(fam, _label(fam), members) for fam, members in families.items()],
        valid=[(_label(fam), ids) for fam, ids in sorted(valid.items())],
        valid_ids={i for ids in valid.values() for i in ids},
        targets={g.id: site.targets(g) for g in ordered},
        statuses=mustpass.STATUSES,
        predecessor={g.id: site.predecessor(ordered, g) for g in ordered},
        superseded_by={g.id: site.superseded_by(ordered, g) for g in ordered},
        releases=list(reversed(site.releases_index(ordered).items())),
        ids=[g.id for g in ordered],
        unreadable=list(unreadable),
    )


def _body(g: site.Guideline) -> Markup:
    """The guideline document (core.render's Markdown, which escapes the data it writes),
    with an anchor on every heading."""
    html = markdown.markdown(
        render.to_markdown(g.data),
        extensions=["tables", "toc"],
        extension_configs={"toc": {"anchorlink": False, "permalink": "#"}},
    )
    return Markup(html)  # built from Markdown whose every value core.render escaped


def guideline(
    g: site.Guideline,
    guidelines: Sequence[site.Guideline],
    links: Links,
    today: date,
    base: str,
    products: bool = False,
    latest: int = 2,
) -> str:
    valid = {
        i for ids in site.valid_for_certification(guidelines, today, latest).values() for i in ids
    }
    return page(
        "guideline.html",
        links,
        base,
        "index",
        products,
        title=f"Guideline {g.id}",
        g=g,
        today=today.isoformat(),
        valid=g.id in valid,
        superseded_by=site.superseded_by(guidelines, g),
        predecessor=site.predecessor(guidelines, g),
        targets=site.targets(g),
        statuses=mustpass.STATUSES,
        body=_body(g),
    )


def diff(
    before: site.Guideline | None,
    after: site.Guideline | None,
    guidelines: Sequence[site.Guideline],
    links: Links,
    base: str,
    products: bool = False,
    problem: str | None = None,
) -> str:
    result = (
        guideline_diff.compare(before.data, after.data)
        if before is not None and after is not None
        else None
    )
    return page(
        "diff.html",
        links,
        base,
        "diff",
        products,
        title=f"Compare {before.id if before else '…'} and {after.id if after else '…'}",
        before=before,
        after=after,
        d=result,
        ids=[g.id for g in site.newest_first(guidelines)],
        problem=problem,
    )


def products(reg: Registry, links: Links) -> dict[str, bytes]:
    """The registry's pages: the index of certifications and one page per product."""
    current, past = registry_site.current_and_past(reg)
    index = page(
        "products.html",
        links,
        "../",
        "products",
        True,
        title="Certified products",
        current=current,
        past=past,
    )
    out = {"products/index.html": index.encode()}
    for entries in registry_site.by_product(reg):
        html = page(
            "product.html",
            links,
            "../../../",
            "products",
            True,
            title=entries[0].name,
            entries=entries,
        )
        out[f"products/{entries[0].product}/index.html"] = html.encode()
    return out


def releases(guidelines: Sequence[site.Guideline], links: Links, products: bool = False) -> str:
    return page(
        "releases.html",
        links,
        "",
        "releases",
        products,
        title="Guidelines by OpenStack release",
        releases=list(reversed(site.releases_index(guidelines).items())),
    )
