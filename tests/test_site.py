"""The static guideline site and its live twin, checked against mustpass and to_interop."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govbot import cli
from govbot.core import mustpass, site
from govbot.core.interop import to_interop
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from govbot.web import build as site_build
from govbot.web.site import GuidelineCache, router

ROOT = bundled.root()
TODAY = date(2026, 1, 15)


def load(rel: str) -> dict[str, Any]:
    data = parse_bytes(rel, (ROOT / rel).read_bytes()).data
    assert isinstance(data, dict)
    return data


def lines(tests: list[str]) -> bytes:
    return ("\n".join(tests) + "\n").encode()


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return read_directory(ROOT)


@pytest.fixture(scope="module")
def built(files: dict[str, bytes]) -> dict[str, bytes]:
    return site_build.build(files, today=TODAY)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router(ROOT))
    return TestClient(app)


# -- static site --------------------------------------------------------------


def test_index_is_newest_first_with_drafts_and_validity_marked(built: dict[str, bytes]) -> None:
    index = built["index.html"].decode()
    platform, addons = index.split('<h2 id="dns">')
    rows = [r.split('"')[0] for r in platform.split('<tr id="')[1:]]
    assert rows[:3] == ["next", "2020.06", "2019.11"] and rows[-1] == "2015.03"
    next_row = platform.split('<tr id="next"')[1].split("</tr>")[0]
    assert '<span class="badge draft">draft</span>' in next_row and "may change" in next_row
    superseded = platform.split('<tr id="2018.02"')[1].split("</tr>")[0]
    assert "badge superseded" in superseded and "by 2018.11" in superseded
    valid = index.split('id="valid"')[1].split("</div>")[0]
    assert "on 2026-01-15" in valid
    assert '<a href="guidelines/2020.06/index.html">2020.06</a> and' in valid
    assert '<a href="guidelines/2019.11/index.html">2019.11</a>' in valid
    assert "dns.2020.06" in valid and "orchestration.2019.11" in valid
    assert '<a href="diff/2019.11..2020.06.html">since 2019.11</a>' in platform
    assert "guidelines/2020.06.json" in platform
    assert "guidelines/2020.06/tests/platform.txt" in platform
    assert "guidelines/dns.next/index.html" in addons
    assert 'id="unreadable"' not in index
    assert 'href="static/style.css"' in index and "http" not in index.split("<main>")[0]


def test_pages_link_to_the_stylesheet_and_have_anchors(built: dict[str, bytes]) -> None:
    page = built["guidelines/2018.02/index.html"].decode()
    assert 'href="../../static/style.css"' in page
    assert "superseded</strong> by" in page and "guidelines/2018.11/index.html" in page
    assert 'class="headerlink"' in page  # every heading has an anchor
    draft = built["guidelines/next/index.html"].decode()
    assert "is a draft</strong>, not an approved guideline" in draft
    assert built["static/style.css"].startswith(b"/*")
    releases = built["releases.html"].decode()
    ussuri = releases.split('<tr id="ussuri">')[1].split("</tr>")[0]
    assert ussuri.index("2020.06") < ussuri.index("2019.11")


def test_diff_pages(built: dict[str, bytes]) -> None:
    page = built["diff/2018.02..2020.06.html"].decode()
    assert "What changed from" in page
    assert 'id="capabilities-removed">Capabilities removed (14)' in page
    assert 'id="capabilities-promoted">Capabilities promoted (5)' in page
    assert 'id="tests-added">Tests added (2)' in page
    # next lists 14 old volume capabilities as removed: that is no change for a product
    nxt = built["diff/2020.06..next.html"].decode()
    assert 'id="capabilities-added">Capabilities added (0)' in nxt
    assert 'id="capabilities-demoted">Capabilities demoted (3)' in nxt
    assert "diff/2020.06..2019.11.html" not in built  # older to newer only
    assert "diff/2020.06..dns.2020.06.html" not in built  # within a family


def test_pages_json_and_lists(built: dict[str, bytes]) -> None:
    g = load("guidelines/2020.06.yaml")
    assert built["guidelines/2020.06/tests/platform.txt"] == lines(
        mustpass.test_list(g, "platform", ["required"])
    )
    for target in ("platform", "compute", "object"):
        for status in mustpass.STATUSES:
            expected = mustpass.test_list(g, target, [status])
            got = built[f"guidelines/2020.06/tests/{target}-{status}.txt"]
            assert got == "".join(f"{t}\n" for t in expected).encode()
    assert json.loads(built["guidelines/2020.06.json"]) == to_interop(g)
    assert built["guidelines/2020.06/index.html"].startswith(b"<!doctype html>")


def test_add_on_lists(built: dict[str, bytes]) -> None:
    g = load("guidelines/add-ons/dns.2020.06.yaml")
    assert built["guidelines/dns.2020.06/tests/dns.txt"] == lines(mustpass.test_list(g, "dns"))
    assert not any(p.startswith("guidelines/dns.2020.06/tests/platform") for p in built)


def test_build_is_deterministic(files: dict[str, bytes], built: dict[str, bytes]) -> None:
    again = site_build.build(dict(reversed(list(files.items()))), today=TODAY)
    assert again == built
    assert list(again) == sorted(again)


HOSTILE = b"""id: "<script>alert(1)</script>"
status: "<b>approved</b>"
releases: ["<i>x</i>"]
platforms:
  OpenStack Powered Platform:
    description: "<img src=x onerror=alert(1)>"
    components: [{name: c}]
components: {c: {capabilities: {required: []}}}
"""


def test_hostile_values_are_escaped() -> None:
    out = site_build.build(
        {
            "guidelines/2099.01.yaml": HOSTILE,
            'guidelines/"><script>x.yaml': b"id: x\nstatus: approved\n",
            "guidelines/...yaml": b"id: x\nstatus: approved\n",
        }
    )
    assert all(not p.startswith(("/", "..")) and "/../" not in p for p in out)
    assert set(out) >= {"index.html", "guidelines/2099.01/index.html"}
    for name in ("index.html", "guidelines/2099.01/index.html"):
        text = out[name].decode()
        assert "<script>alert" not in text and "<script>x" not in text  # the page's own script
        assert "<img" not in text and "<b>approved" not in text  # is the compare form's
    index = out["index.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # the id in the file is shown
    assert "&#34;&gt;&lt;script&gt;x.yaml" in index  # listed, not served
    assert "not a valid guideline id" in index


def test_unreadable_files_are_listed_not_fatal(files: dict[str, bytes]) -> None:
    broken = {
        **files,
        "guidelines/2099.02.yaml": b"id: [unclosed\n",
        "2099.03.json": b"{not json",
        # parses, but components are not mappings: mustpass cannot use it
        "guidelines/2099.04.yaml": b"id: '2099.04'\nstatus: draft\nplatforms:\n"
        b"  OpenStack Powered Platform: {components: [{name: c}]}\ncomponents: {c: [1]}\n",
    }
    out, bad = site_build.build_site(broken)
    assert [u.path for u in bad] == [
        "2099.03.json",
        "guidelines/2099.02.yaml",
        "guidelines/2099.04.yaml",
    ]
    index = out["index.html"].decode()
    assert "<code>guidelines/2099.02.yaml</code>: unreadable" in index
    assert "<code>2099.03.json</code>: unreadable" in index
    assert "cannot be rendered" in index
    assert "guidelines/2020.06/tests/platform.txt" in out
    assert not any(p.startswith("guidelines/2099.0") for p in out)


def test_duplicate_ids_keep_the_first_in_lookup_order(files: dict[str, bytes]) -> None:
    out, bad = site_build.build_site({**files, "add-ons/dns.2020.06.json": b"{}"})
    assert [u.path for u in bad] == ["add-ons/dns.2020.06.json"]
    assert "guidelines/add-ons/dns.2020.06.yaml" in bad[0].reason
    assert out["guidelines/dns.2020.06/tests/dns.txt"]


# -- command line -------------------------------------------------------------


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


def test_cli_writes_and_refuses_non_empty(
    tmp_path: Path, built: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert run_cli("site", "build", str(out), "--repo", str(ROOT)) == 0
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    # the bundled repo has an example product: the CLI adds the registry's pages
    assert {p for p in written if not p.startswith("products/")} == set(built)
    assert "products/example/example-cloud/platform.json" in written
    assert (out / "guidelines/2020.06/tests/platform.txt").read_bytes() == built[
        "guidelines/2020.06/tests/platform.txt"
    ]
    assert "test list(s)" in capsys.readouterr().out

    assert run_cli("site", "build", str(out), "--repo", str(ROOT)) == 2
    assert "not empty" in capsys.readouterr().err
    assert run_cli("site", "build", str(out), "--repo", str(ROOT), "--force") == 0


# -- live router --------------------------------------------------------------


def test_refstack_endpoint_defaults_are_refstacks(client: TestClient) -> None:
    """RefStack's defaults: every status, flagged tests included, aliases, no final newline
    (the whole comparison is tests/test_refstack_api.py)."""
    g = load("guidelines/2020.06.yaml")
    r = client.get("/v1/guidelines/2020.06/tests", params={"target": "platform"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    expected = mustpass.test_list(g, "platform", mustpass.STATUSES, include_flagged=True)
    assert r.text == "\n".join(expected)
    assert client.get("/v1/guidelines/2020.06/tests").text == r.text


def test_refstack_endpoint_options(client: TestClient) -> None:
    g = load("guidelines/2020.06.yaml")
    params = {"target": "compute", "type": "required,advisory", "alias": "false", "flag": "true"}
    r = client.get("/v1/guidelines/2020.06/tests", params=params)
    assert r.status_code == 200
    expected = mustpass.test_list(
        g, "compute", ["required", "advisory"], aliases=False, include_flagged=True
    )
    assert r.text.splitlines() == expected
    assert expected != mustpass.test_list(g, "compute", ["required"])
    dns = load("guidelines/add-ons/dns.2020.06.yaml")
    params = {"target": "dns", "type": "required", "flag": "false"}
    r = client.get("/v1/guidelines/dns.2020.06/tests", params=params)
    assert r.text.splitlines() == mustpass.test_list(dns, "dns")


def test_refstack_endpoint_errors(client: TestClient) -> None:
    r = client.get("/v1/guidelines/1999.01/tests")
    assert r.status_code == 404 and "1999.01" in r.json()["detail"]
    r = client.get("/v1/guidelines/2020.06/tests", params={"target": "nope"})
    assert r.status_code == 400 and r.text == "Invalid target: nope"
    r = client.get("/v1/guidelines/2020.06/tests", params={"type": "required,bogus"})
    assert r.status_code == 400 and "bogus" in r.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/guidelines/..%2F..%2Fpyproject.toml",
        "/guidelines/..%2Fpyproject",
        "/guidelines/%2E%2E",
        "/guidelines/..%2F2020.06.json",
        "/guidelines/.hidden.json",
        "/v1/guidelines/..%2Fguidelines%2F2020.06/tests",
        "/v1/guidelines/add-ons%2Fdns.2020.06/tests",
        "/guidelines/..%5C2020.06",
        "/guidelines/2020.06%00",
    ],
)
def test_traversal_is_rejected(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    assert "[project]" not in r.text and "required" not in r.text


@pytest.mark.parametrize("bad", ["..", ".", "../pyproject", "a/b", ".x", "a..b", "", "x" * 101])
def test_ids_are_checked_before_the_filesystem(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not site.is_safe_id(bad)
    cache = GuidelineCache(ROOT)
    monkeypatch.setattr(cache, "load", lambda rel: pytest.fail(f"read {rel}"))
    assert cache.find(bad) is None


def test_pages_and_json(client: TestClient) -> None:
    g = load("guidelines/2020.06.yaml")
    r = client.get("/guidelines/2020.06.json")
    assert r.status_code == 200 and r.json() == to_interop(g)
    r = client.get("/guidelines/2020.06")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "2020.06" in r.text
    assert client.get("/guidelines/nope").status_code == 404
    index = client.get("/").text
    assert 'href="guidelines/2020.06"' in index
    assert (
        'href="v1/guidelines/2020.06/tests?target=platform&amp;type=required&amp;flag=false"'
        in index
    )
    assert client.get("/diff", params={"from": "2019.11", "to": "2020.06"}).status_code == 200
    assert client.get("/diff", params={"from": "2019.11", "to": "1999.01"}).status_code == 404
    assert "ussuri" in client.get("/releases").text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_live_edits_show_and_symlinks_are_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "guidelines").mkdir(parents=True)
    src = ROOT / "guidelines" / "2020.06.yaml"
    shutil.copy(src, repo / "guidelines" / "2020.06.yaml")
    os.symlink(src, repo / "guidelines" / "2019.11.yaml")
    app = FastAPI()
    app.include_router(router(repo))
    c = TestClient(app)
    assert c.get("/guidelines/2020.06").status_code == 200
    assert c.get("/guidelines/2019.11").status_code == 404
    assert "2019.11" not in c.get("/").text

    path = repo / "guidelines" / "2020.06.yaml"
    path.write_bytes(path.read_bytes().replace(b"status: approved", b"status: superseded"))
    assert "superseded" in c.get("/").text
    path.write_bytes(b"id: [broken\n")
    assert c.get("/guidelines/2020.06").status_code == 500
    assert "unreadable" in c.get("/").text
