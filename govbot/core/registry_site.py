"""The registry's pages on the static site: certified products and their published results.

``products/index.html`` and ``products/index.json`` list every certification
(current first, then past validations, 2017A C6.2); each product has a page
(``products/<vendor>/<product>/index.html``) and, per program, its public
record ``products/<vendor>/<product>/<program>.json``: the description of
the system (C4.5) and its passes only, per test (C4.3, C4.4). Failures and
skips are never published. Pure, like :mod:`govbot.core.site`: values are
escaped, and a key becomes a path only through the product-file pattern.
"""

from __future__ import annotations

import html
import json
from itertools import groupby

from govbot.core.registry import CURRENT, Certified, Registry

_STYLE = (
    "body{font-family:sans-serif;max-width:80em;margin:auto;padding:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .4em;"
    "text-align:left;vertical-align:top}"
)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: list[str]) -> bytes:
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>"
    )
    return "\n".join([head, *body, "</body>\n</html>\n"]).encode()


def _date(value: object) -> str:
    return _e(getattr(value, "isoformat", lambda: "—")()) if value else "—"


def _table(entries: list[Certified], prefix: str) -> list[str]:
    if not entries:
        return ["<p>None.</p>"]
    head = ("Product", "Vendor", "Program", "Guideline", "Release", "Approved", "Expires", "Record")
    rows = [
        "<tr>"
        + "".join(
            f"<td>{c}</td>"
            for c in (
                f'<a href="{prefix}{_e(e.product)}/index.html">{_e(e.name)}</a>',
                _e(e.vendor),
                _e(e.program_name),
                f'<a href="{prefix}../guidelines/{_e(e.guideline)}/index.html">{_e(e.guideline)}</a>',
                _e(e.release or "—"),
                _date(e.approved_on),
                _date(e.expires),
                f'<a href="{prefix}{_e(e.product)}/{_e(e.program)}.json">JSON</a>',
            )
        )
        + "</tr>"
        for e in entries
    ]
    return [
        "<table>",
        "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
    ]


def _product_page(entries: list[Certified]) -> bytes:
    first = entries[0]
    body = [
        f"<h1>{_e(first.name)}</h1>",
        f"<p>{_e(first.vendor)} · {_e(first.kind)} · OpenStack {_e(first.release or '?')}"
        + (f" · regions: {_e(', '.join(first.regions))}" if first.regions else "")
        + "</p>",
        f"<h2>System and configuration</h2>\n<p>{_e(first.description)}</p>",
    ]
    for e in entries:
        state = "current" if e.status == CURRENT else "past validation (guideline superseded)"
        body += [
            f'<h2 id="{_e(e.program)}">{_e(e.program_name)}: {_e(e.guideline)}</h2>',
            f"<p>Approved {_date(e.approved_on)}; expires {_date(e.expires)}; {_e(state)}. "
            f'<a href="{_e(e.program)}.json">Published results (JSON)</a>.</p>',
        ]
        if e.waived:
            body.append(
                "<p>Tests passed by waiver (strict API response checking): "
                + ", ".join(f"<code>{_e(t)}</code>" for t in e.waived)
                + "</p>"
            )
        caps = [f"<li>{_e(c)} ({_e(s)})</li>" for c, s, ok in e.capabilities if ok]
        body += [f"<h3>Capabilities passed ({len(caps)})</h3>", "<ul>", *caps, "</ul>"]
        tests = [f"<li><code>{_e(t)}</code></li>" for t in e.results.published()]
        body += [f"<h3>Tests passed ({len(tests)})</h3>", "<ul>", *tests, "</ul>"]
    return _page(first.name, body)


def pages(reg: Registry) -> dict[str, bytes]:
    """The registry's files, keyed by site-relative path."""
    out: dict[str, bytes] = {}
    current = [e for e in reg.entries if e.status == CURRENT]
    past = [e for e in reg.entries if e.status != CURRENT]
    body = [
        "<h1>Certified products</h1>",
        "<p>Products the Foundation approved, with the guideline each program was certified "
        "against. Each record publishes the passed tests only (2017A C4).</p>",
        "<h2>Current</h2>",
        *_table(current, ""),
        '<h2 id="past">Past validations</h2>',
        "<p>Certified against a guideline no longer among the latest approved (2017A C6.2).</p>",
        *_table(past, ""),
    ]
    out["products/index.html"] = _page("Certified products", body)
    summary = [e.summary() for e in reg.entries]
    out["products/index.json"] = (json.dumps({"products": summary}, indent=2) + "\n").encode()
    for _, group in groupby(sorted(reg.entries, key=lambda e: e.product), key=lambda e: e.product):
        entries = list(group)
        base = f"products/{entries[0].product}"
        out[f"{base}/index.html"] = _product_page(entries)
        for e in entries:
            record = json.dumps(e.published(), indent=2) + "\n"
            out[f"{base}/{e.program}.json"] = record.encode()
    return out
