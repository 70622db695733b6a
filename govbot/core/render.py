"""Human-readable guideline documents (Markdown, and HTML through ``markdown``).

The page follows the one OpenStack interop generated from its JSON
(``tools/jsonToRst.py``): header, platforms, capabilities per component and
status with their tests, designated sections, test repositories, scoring.
Reviewers and vendors read these pages, so they must show exactly what the
data says, including imperfect data: every lookup tolerates missing keys,
wrong types and legacy spellings, and every piece of data is escaped so that
it can neither break a table nor inject HTML into the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import markdown

from govbot.core.mustpass import is_flagged

STATUS_ORDER = ("required", "advisory", "deprecated", "removed", "informational")
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]|])")
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+")
_STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .4em;"
    "text-align:left;vertical-align:top}code{font-size:.9em}"
)


def _d(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else an empty one: data may be malformed."""
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one: data may be malformed."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    """Prose as one Markdown line that renders literally and is HTML-safe.

    Markdown passes raw HTML through, so ``<``, ``>`` and ``&`` become
    entities; inline markup characters (including the table pipe) are
    backslash-escaped. Block markers need no escape: the layout never starts
    a line with data (it follows a label, a heading mark or a cell border).
    """
    s = html.escape(" ".join(str(value).split()), quote=False)
    return _INLINE_SPECIALS.sub(r"\\\1", s)


def _code(value: Any) -> str:
    """An identifier as a code span: shown verbatim, escaped by Markdown itself."""
    s = " ".join(str(value).split())
    if not s:
        return ""
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _url(value: Any) -> str:
    """A link only for plain http(s) URLs, so data cannot smuggle in other schemes."""
    s = str(value or "").strip()
    return f"<{s}>" if _SAFE_URL.fullmatch(s) else _text(s)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """A pipe table from already-escaped cells."""
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _statuses(table: dict[str, Any]) -> list[str]:
    """Known statuses in their conventional order, then any others as found."""
    return [s for s in STATUS_ORDER if s in table] + [s for s in table if s not in STATUS_ORDER]


def _title(g: dict[str, Any]) -> str:
    """The document title, naming add-on guidelines as such."""
    kind = "Add-on Guideline" if "add_ons" in g else "Guideline"
    return f"OpenStack Interoperability {kind} {g.get('id', '?')}"


def _header(g: dict[str, Any]) -> list[str]:
    """Title and the approval facts; absent facts are left out, status never is."""
    plain = (("target_approval", "Target approval"), ("replaces", "Replaces"))
    fields = [("Status", _text(g.get("status") or "unknown"))]
    fields += [(label, _text(g.get(k) or "")) for k, label in plain]
    fields.append(("Releases", ", ".join(_text(r) for r in _l(g.get("releases")))))
    fields.append(("Interop schema", _text(g.get("interop_schema") or "")))
    fields += [(k.capitalize(), _url(g.get(k))) for k in ("source", "reference")]
    rows = [(k, v) for k, v in fields if v]
    return [f"# {_text(_title(g))}", "", *_table(("Field", "Value"), rows)]


def _programs(g: dict[str, Any]) -> list[str]:
    """Platforms (or add-on programs) and the components each one requires."""
    key, heading = ("add_ons", "Add-on programs") if "add_ons" in g else ("platforms", "Platforms")
    out: list[str] = []
    for name, prog in _d(g.get(key)).items():
        prog = _d(prog)
        out += [f"### {_text(name)}", ""]
        if prog.get("description"):
            out += [f"Description: {_text(prog['description'])}", ""]
        comps = ", ".join(_code(_d(c).get("name", "")) for c in _l(prog.get("components")))
        out += [f"Components: {comps or 'none'}", ""]
        needs = [_code(_d(c).get("name", "")) for c in _l(prog.get("required_platform_components"))]
        if needs:
            out += [f"Required platform components: {', '.join(needs)}", ""]
    return [f"## {heading}", "", *out] if out else []


def _flag(details: dict[str, Any]) -> str:
    """A flag's date, reason and action, for the same tests mustpass leaves out."""
    if not is_flagged(details):
        return ""
    flag = _d(details.get("flagged"))
    parts = ["**Flagged**" + (f" ({_text(flag['date'])})" if flag.get("date") else "")]
    parts += [
        f"{label}: {_text(flag[k])}"
        for k, label in (("reason", "Reason"), ("action", "Action"))
        if flag.get(k)
    ]
    return "<br>".join(parts)


def _test_row(name: str, details: Any) -> list[str]:
    details = _d(details)
    aliases = ", ".join(_code(a) for a in _l(details.get("aliases")))
    notes = [n for n in (_flag(details), f"Aliases: {aliases}" if aliases else "") if n]
    return [_code(name), _code(details.get("idempotent_id", "")), "<br>".join(notes)]


def _capability(name: str, cap: Any, criteria: dict[str, Any]) -> list[str]:
    """One capability: its facts, achieved criteria, and tests with flags and aliases."""
    out = [f"#### {_text(name)}", ""]
    if not isinstance(cap, dict):
        return [*out, "*Not defined in this guideline.*", ""]
    if cap.get("description"):
        out += [f"Description: {_text(cap['description'])}", ""]
    labels = (("project", "Project"), ("required_since", "Required since"))
    facts = [f"{label}: {_text(cap[k])}" for k, label in labels if cap.get(k) not in (None, "")]
    if "admin" in cap:
        facts.append(f"Admin credentials: {_yes_no(cap['admin'])}")
    line = " · ".join(facts)
    achieved = _l(cap.get("achievements"))  # shown as written: validate reports typos
    names = [_text(_d(criteria.get(str(a))).get("name", a)) for a in achieved]
    out += [line, ""] if line else []
    out += [f"Achievements: {', '.join(names)}", ""] if names else []
    tests = _d(cap.get("tests"))
    rows = [_test_row(t, d) for t, d in tests.items()]
    return out + (_table(("Test", "Idempotent ID", "Notes"), rows) if rows else ["No tests.", ""])


def _components(g: dict[str, Any]) -> list[str]:
    """Per component and status, the capabilities it lists, in data order."""
    caps, criteria = _d(g.get("capabilities")), _d(_d(g.get("scoring")).get("criteria"))
    out: list[str] = []
    for comp, body in _d(g.get("components")).items():
        body = _d(body)
        out += [f"## Component {_code(comp)}", ""]
        table = _d(body.get("capabilities"))
        for status in _statuses(table):
            names = _l(table[status])
            out += [f"### {_text(str(status).capitalize())} capabilities", ""]
            out += [] if names else ["None.", ""]
            for name in names:
                out += _capability(str(name), caps.get(str(name)), criteria)
        sections = _d(body.get("designated_sections"))
        if sections:
            rows = [
                (_text(s), ", ".join(_text(p) for p in _l(sections[s])))
                for s in _statuses(sections)
            ]
            out += ["### Designated sections by status", "", *_table(("Status", "Projects"), rows)]
    return out


def _cells(entry: Any, *keys: str) -> list[str]:
    """Escaped text of the given keys of a mapping, blank where missing."""
    return [_text(_d(entry).get(k, "")) for k in keys]


def _yes_no(value: Any) -> str:
    """Booleans read as yes/no; anything else is shown as written, so typos stay visible."""
    if value is None:
        return "unknown"
    return ("yes" if value else "no") if isinstance(value, bool) else _text(value)


def _designated(g: dict[str, Any]) -> list[str]:
    """Per project and status: guidance, comment and the sections in or out."""
    out: list[str] = []
    for project, statuses in _d(g.get("designated_sections")).items():
        out += [f"### {_text(project)}", ""]
        statuses = _d(statuses)
        for status in _statuses(statuses):
            entry = _d(statuses[status])
            out += [f"#### {_text(str(status).capitalize())}", ""]
            for key in ("guidance", "comment"):
                if entry.get(key):
                    out += [f"{key.capitalize()}: {_text(entry[key])}", ""]
            rows = [
                [
                    _text(name),
                    _yes_no(_d(s).get("designated")),
                    *_cells(s, "description", "comment"),
                ]
                for name, s in _d(entry.get("sections")).items()
            ]
            out += _table(("Section", "Designated", "Description", "Comment"), rows) if rows else []
    return ["## Designated sections", "", *out] if out else []


def _repositories(g: dict[str, Any]) -> list[str]:
    """Where the tests come from, pinned to the reference vendors must run."""
    rows = [
        [
            _text(n),
            _url(_d(r).get("repository")),
            _code(_d(r).get("reference", "")),
            _cells(r, "description")[0],
        ]
        for n, r in _d(g.get("test_repositories")).items()
    ]
    head = ("Name", "Repository", "Reference", "Description")
    return ["## Test repositories", "", *_table(head, rows)] if rows else []


def _scoring(g: dict[str, Any]) -> list[str]:
    """Criteria and weights, and the cutoff a capability's score must reach."""
    scoring = _d(g.get("scoring"))
    out = []
    if "cutoff_score" in scoring:
        out = [f"Cutoff score: {_text(scoring['cutoff_score'])}", ""]
    rows = [
        [_code(k), *_cells(c, "name", "weight", "description")]
        for k, c in _d(scoring.get("criteria")).items()
    ]
    out += _table(("Criterion", "Name", "Weight", "Description"), rows) if rows else []
    return ["## Scoring", "", *out] if out else []


def to_markdown(g: dict[str, Any]) -> str:
    """The guideline as a Markdown document; never fails on incomplete data."""
    g = _d(g)
    parts = [_header, _programs, _components, _designated, _repositories, _scoring]
    lines = [line for part in parts for line in part(g)]
    return "\n".join(lines).rstrip() + "\n"


def to_html(g: dict[str, Any]) -> str:
    """A standalone HTML5 page: the Markdown rendering plus a minimal shell."""
    body = markdown.markdown(to_markdown(g), extensions=["tables"])
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(_title(_d(g)))}</title>\n<style>{_STYLE}</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
