"""Rendering real guidelines, imperfect data and hostile text to Markdown and HTML."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.core import render
from govbot.core.yamlio import parse_bytes

GUIDELINES = Path(__file__).resolve().parents[1] / "guidelines"
FLAG_REASON = "Resize capabilities use an insecure mechanism that may be disabled by vendors."


def load(name: str) -> dict[str, Any]:
    path = GUIDELINES / name
    data = parse_bytes(str(path), path.read_bytes()).data
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def g2020() -> dict[str, Any]:
    return load("2020.06.yaml")


class _Tables(HTMLParser):
    """Counts cells per table row, to prove escaped data keeps the columns intact."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[int] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1


def parse_html(text: str) -> _Tables:
    p = _Tables()
    p.feed(text)
    return p


def section(md: str, heading: str) -> str:
    """The Markdown from a heading to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = md.index(heading + "\n")
    nxt = re.search(rf"^#{{1,{len(level)}}} ", md[start + len(heading) :], re.M)
    return md[start : start + len(heading) + (nxt.start() if nxt else len(md))]


def test_2020_06_markdown_has_the_guideline_facts(g2020: dict[str, Any]) -> None:
    md = render.to_markdown(g2020)
    assert md.startswith("# OpenStack Interoperability Guideline 2020.06\n")
    assert "| Status | approved |" in md
    assert "| Replaces | 2019.11 |" in md
    assert "stein, train, ussuri, victoria" in md
    assert "Cutoff score: 74" in md
    assert "| `tools` | Used by Tools | 6 |" in md
    assert "### OpenStack Powered Compute" in md


def test_2020_06_capabilities_are_listed_under_component_and_status(g2020: dict[str, Any]) -> None:
    md = render.to_markdown(g2020)
    compute = section(md, "## Component `os_powered_compute`")
    required = section(compute, "### Required capabilities")
    assert "#### compute-servers-create\n" in required
    assert "`id-6c0a0990-43b6-4529-9b61-5fd8daf7c55c`" in section(
        required, "#### compute-list-api-versions"
    )
    assert "compute-servers-create" not in section(md, "## Component `os_powered_storage`")
    assert "### Advisory capabilities\n\nNone." in compute


def test_flagged_tests_show_reason_action_and_aliases(g2020: dict[str, Any]) -> None:
    md = render.to_markdown(g2020)
    resize = section(md, "#### compute-servers-resize")
    assert "**Flagged** (2015-05-07)" in resize
    assert "Reason: " + FLAG_REASON in resize
    assert "Action: Fix resize upstream in Nova and remove flag." in resize
    assert "Aliases: `tempest.api.compute.servers.test_create_server.ServersTestManualDisk" in md


def test_designated_sections_and_repositories(g2020: dict[str, Any]) -> None:
    md = render.to_markdown(g2020)
    nova = section(md, "### nova")
    assert "Guidance: By default, designated except scheduler" in nova
    assert "| scheduler driver | no | (Host and cell) |" in nova
    assert "| required | cinder, glance, keystone, nova, neutron |" in md
    assert "| tempest | <https://opendev.org/openstack/tempest/> |" in md


def test_2020_06_html_is_a_full_document(g2020: dict[str, Any]) -> None:
    page = render.to_html(g2020)
    assert page.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in page
    assert "<title>OpenStack Interoperability Guideline 2020.06</title>" in page
    assert page.rstrip().endswith("</html>")
    assert "<h1>OpenStack Interoperability Guideline 2020.06</h1>" in page
    assert "<code>id-6c0a0990-43b6-4529-9b61-5fd8daf7c55c</code>" in page
    assert FLAG_REASON in page
    assert "<table>" in page
    tables = parse_html(page)
    assert "script" not in tables.tags


def test_next_renders_with_criterion_names() -> None:
    g = load("next.yaml")
    md = render.to_markdown(g)
    assert md.startswith("# OpenStack Interoperability Guideline next\n")
    assert "| Status | draft |" in md
    slo = section(md, "#### objectstore-slo-support")
    assert "Achievements: Widely Deployed" in slo
    assert "<h1>" in render.to_html(g)


def test_add_on_renders_its_program_and_required_platform() -> None:
    md = render.to_markdown(load("add-ons/dns.2020.06.yaml"))
    assert md.startswith("# OpenStack Interoperability Add-on Guideline dns.2020.06\n")
    programs = section(md, "## Add-on programs")
    assert "### DNS" in programs
    assert "Required platform components: `os_powered_compute`" in programs
    assert "#### dns-zone-crud" in section(md, "## Component `os_powered_dns`")
    assert "Cutoff score: 60" in md


def test_legacy_guideline_shows_bare_flags_and_missing_ids() -> None:
    md = render.to_markdown(load("2015.03.yaml"))
    assert "| Status | superseded |" in md
    assert "### Removed capabilities" in md
    assert "test_change_server_password` |  | **Flagged** |" in md


def test_hostile_text_is_escaped(g2020: dict[str, Any]) -> None:
    g = copy.deepcopy(g2020)
    g["scoring"]["criteria"]["atomic"]["description"] = "a | b <script>alert(1)</script> & c"
    g["capabilities"]["compute-list-api-versions"]["description"] = "<img src=x onerror=alert(1)>"
    g["platforms"]["OpenStack Powered Compute"]["description"] = "# not a heading"
    md = render.to_markdown(g)
    assert r"a \| b &lt;script&gt;alert(1)&lt;/script&gt; &amp; c" in md
    page = render.to_html(g)
    assert "<script>" not in page and "<img" not in page
    assert "a | b &lt;script&gt;alert(1)&lt;/script&gt; &amp; c" in page
    tables = parse_html(page)
    assert "script" not in tables.tags and "img" not in tables.tags
    scoring = parse_html(page[page.index("<h2>Scoring</h2>") :])
    assert set(scoring.rows) == {4}


def test_hostile_identifiers_and_urls() -> None:
    g = {
        "id": "x|<b>",
        "source": "javascript:alert(1)",
        "capabilities": {"c": {"tests": {"t|`x`<i>": {"idempotent_id": "id-|"}}}},
        "components": {"comp": {"capabilities": {"required": ["c"]}}},
    }
    page = render.to_html(g)
    assert "<title>OpenStack Interoperability Guideline x|&lt;b&gt;</title>" in page
    assert "<b>" not in page and "<i>" not in page
    assert 'href="javascript' not in page
    assert "<code>t|`x`&lt;i&gt;</code>" in page
    rows = parse_html(page[page.index("<h4>") :]).rows
    assert set(rows) == {3}


@pytest.mark.parametrize(
    "g",
    [
        {"id": "next"},
        {},
        {
            "id": "broken",
            "releases": "not a list",
            "scoring": None,
            "platforms": {"P": None, "Q": {"components": [None, "x", {"name": "c"}]}},
            "components": {"c": {"capabilities": {"required": ["gone", None], "advisory": None}}},
            "capabilities": {"ok": {"tests": None}, "bad": "text"},
            "designated_sections": {"nova": {"required": {"sections": {"s": None}}}, "x": []},
            "test_repositories": {"r": None},
        },
    ],
)
def test_incomplete_data_never_crashes(g: dict[str, Any]) -> None:
    md = render.to_markdown(g)
    assert md.startswith("# OpenStack Interoperability Guideline ")
    assert render.to_html(g).startswith("<!doctype html>")


def test_missing_capability_is_reported_in_place() -> None:
    g = {"id": "next", "components": {"c": {"capabilities": {"required": ["gone"]}}}}
    md = render.to_markdown(g)
    assert "#### gone\n\n*Not defined in this guideline.*" in md


def test_cli_render_html_to_file(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    assert cli.main(["render", "2020.06", "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<title>OpenStack Interoperability Guideline 2020.06</title>" in page
    assert "compute-servers-create" in page


def test_minimal_guideline_has_only_a_title_and_an_unknown_status() -> None:
    md = render.to_markdown({"id": "next"})
    assert md.splitlines() == [
        "# OpenStack Interoperability Guideline next",
        "",
        "| Field | Value |",
        "|---|---|",
        "| Status | unknown |",
    ]
