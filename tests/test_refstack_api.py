"""RefStack's guideline API, compared with an independent reading of RefStack's own code.

The reference is RefStack's ``refstack/api/controllers/guidelines.py`` and
``refstack/api/guidelines.py`` (openstack-archive/refstack). Quoted:

    TestsController.get(version):
        if pecan.request.GET.get(const.TYPE):
            types = pecan.request.GET.get(const.TYPE).split(',')
        else:
            types = None
        if pecan.request.GET.get('alias'):
            alias = api_utils.str_to_bool(pecan.request.GET.get('alias'))
        else:
            alias = True
        if pecan.request.GET.get('flag'):
            flag = api_utils.str_to_bool(pecan.request.GET.get('flag'))
        else:
            flag = True
        target = pecan.request.GET.get('target', 'platform')
        ...
        return '\\n'.join(test_list)

    str_to_bool(param): return param.lower() in ("true", "yes", "1")

    get_target_capabilities(guideline_json, types=None, target='platform'):
        if ('metadata' in guideline_json and guideline_json['metadata']['schema'] >= '2.0'):
            platformsMap = {'platform': 'OpenStack Powered Platform',
                            'compute': 'OpenStack Powered Compute',
                            'object': 'OpenStack Powered Storage', ...}
            if target == 'dns' or target == 'orchestration':
                targets = ['os_powered_' + target]
            else:
                comps = guideline_json['platforms'][platformsMap[target]]['components']
                targets = (obj['name'] for obj in comps)
        else:
            targets = set()
            if target != 'platform': targets.add(target)
            else: targets.update(guideline_json['platform']['required'])
        for component in targets:
            complist = components[component]   (['capabilities'] from 2.0)
            for status, capabilities in complist.items():
                if types is None or status in types: target_caps.update(capabilities)

    get_test_list(guideline_json, capabilities=[], alias=True, show_flagged=True):
        schema 1.2: each test, unless flagged (cap_details['flagged']) and not show_flagged
        else: '{}[{}]'.format(test, test_details.get('idempotent_id', '')) unless flagged
              and not show_flagged; then each alias with the same id (only if added)
        test_list.sort()

The reading below is written from that text alone, over the JSON files
RefStack served: the real interop files in ../shared for approved and
superseded guidelines, and for the drafts (whose bundled copies had their
defects fixed) the JSON govbot serves at ``/v1/guidelines/<file>.json``.
Every guideline x target x type x alias x flag is compared with govbot's
``/v1/guidelines/<id>/tests``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govbot.repo import bundled
from govbot.web.site import router
from tests.conftest import INTEROP

ROOT = bundled.root()
TARGETS = ("platform", "compute", "object", "dns", "orchestration")
TYPES: tuple[str | None, ...] = (
    None,
    "required",
    "advisory",
    "deprecated,removed",
    "required,advisory",
)
BOOLS: tuple[str | None, ...] = (None, "false", "Yes")
"""Absent, false, and true spelt as RefStack accepted it; every spelling is checked below."""


class Invalid(Exception):
    """RefStack's KeyError: 'Invalid target: ' + target."""


def refstack_bool(value: str | None) -> bool:
    return True if not value else value.lower() in ("true", "yes", "1")


def refstack_tests(
    doc: dict[str, Any], target: str, types: list[str] | None, alias: bool, flag: bool
) -> list[str]:
    components = doc["components"]
    new = "metadata" in doc and doc["metadata"]["schema"] >= "2.0"
    schema = doc["metadata"]["schema"] if new else doc["schema"]
    try:
        if new:
            names = {
                "platform": "OpenStack Powered Platform",
                "compute": "OpenStack Powered Compute",
                "object": "OpenStack Powered Storage",
                "dns": "OpenStack with DNS",
                "orchestration": "OpenStack with Orchestration",
            }
            if target in ("dns", "orchestration"):
                wanted = ["os_powered_" + target]
            else:
                wanted = [c["name"] for c in doc["platforms"][names[target]]["components"]]
        else:
            wanted = [target] if target != "platform" else list(doc["platform"]["required"])
        caps: set[str] = set()
        for component in wanted:
            table = components[component]
            if schema >= "2.0":
                table = table["capabilities"]
            for status, listed in table.items():
                if types is None or status in types:
                    caps.update(listed)
    except KeyError as e:
        raise Invalid(target) from e
    out: list[str] = []
    for cap, details in doc["capabilities"].items():
        if cap not in caps:
            continue
        if schema == "1.2":
            out += [t for t in details["tests"] if flag or t not in details["flagged"]]
            continue
        for test, t in details["tests"].items():
            if t.get("flagged") and not flag:
                continue
            out.append(f"{test}[{t.get('idempotent_id', '')}]")
            if alias:
                out += [f"{a}[{t.get('idempotent_id', '')}]" for a in t.get("aliases") or []]
    return sorted(out)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(router(ROOT))
    with TestClient(app) as c:  # one event loop portal for every request
        yield c


def served_files(client: TestClient) -> list[str]:
    listing = client.get("/v1/guidelines").json()
    return [e["file"] for entries in listing.values() for e in entries]


def reference(client: TestClient, file: str) -> dict[str, Any]:
    """What RefStack read: the real interop file for a released guideline; for a draft
    (its bundled copy had its defects fixed), the JSON govbot serves."""
    addon = file.split(".", 1)[0] in ("dns", "orchestration")
    original = (INTEROP / "add-ons" / file) if addon else (INTEROP / file)
    if "next" not in file and original.is_file():
        return json.loads(original.read_text())
    return client.get(f"/v1/guidelines/{file}").json()


def test_the_listing_has_refstacks_shape(client: TestClient) -> None:
    listing = client.get("/v1/guidelines").json()
    assert list(listing) == ["dns", "orchestration", "powered"]  # add-ons first, then powered
    assert {"name": "2020.06.json", "file": "2020.06.json"} in listing["powered"]
    assert {"name": "2020.06.json", "file": "dns.2020.06.json"} in listing["dns"]
    assert [e["name"] for e in listing["powered"]] == sorted(e["name"] for e in listing["powered"])
    assert listing["powered"][-1]["name"] == "next.json"


def test_a_file_is_served_with_or_without_json(client: TestClient) -> None:
    a = client.get("/v1/guidelines/2020.06.json")
    b = client.get("/v1/guidelines/2020.06")
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    if INTEROP.is_dir():  # a 2.0 file round-trips: what RefStack proxied, byte for byte in JSON
        assert a.json() == json.loads((INTEROP / "2020.06.json").read_text())
    assert client.get("/v1/guidelines/1999.01.json").status_code == 404


def test_a_bare_request_is_refstacks_390_lines(client: TestClient) -> None:
    """The issue's measurement: RefStack gave 390 lines for 2020.06, all statuses, flagged
    included, no trailing newline."""
    text = client.get("/v1/guidelines/2020.06/tests").text
    assert not text.endswith("\n")
    assert len(text.split("\n")) == 390


def test_every_combination_matches_refstack(client: TestClient) -> None:
    if not INTEROP.is_dir():
        pytest.skip(f"the interop reference data is not at {INTEROP}")
    compared = 0
    for file in served_files(client):
        doc = reference(client, file)
        version = file.removesuffix(".json")
        components = set(doc["components"]) if "metadata" not in doc else set()
        for target in sorted(set(TARGETS) | components):
            for types, alias, flag in itertools.product(TYPES, BOOLS, BOOLS):
                params = {"target": target}
                if types is not None:
                    params["type"] = types
                if alias is not None:
                    params["alias"] = alias
                if flag is not None:
                    params["flag"] = flag
                r = client.get(f"/v1/guidelines/{version}/tests", params=params)
                try:
                    expected = refstack_tests(
                        doc,
                        target,
                        types.split(",") if types else None,
                        refstack_bool(alias),
                        refstack_bool(flag),
                    )
                except Invalid:
                    assert r.status_code == 400 and r.text == f"Invalid target: {target}", (
                        file,
                        params,
                    )
                    break  # invalid whatever the other parameters
                assert r.status_code == 200, (file, params, r.text)
                assert r.text == "\n".join(expected), (file, params)
                compared += 1
    print(f"{compared} guideline x target x type x alias x flag combinations match RefStack")
    assert compared > 1000


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        *[(None, True), ("", True), ("true", True), ("TRUE", True), ("yes", True), ("1", True)],
        *[("false", False), ("0", False), ("no", False), ("maybe", False)],
    ],
)
def test_alias_and_flag_read_as_refstack_read_them(
    client: TestClient, raw: str | None, value: bool
) -> None:
    assert refstack_bool(raw) is value
    params = {"target": "compute", "type": "required"} | ({} if raw is None else {"flag": raw})
    flagged = client.get("/v1/guidelines/2016.08/tests", params=params).text
    unflagged = client.get(
        "/v1/guidelines/2016.08/tests", params={**params, "flag": "true" if value else "false"}
    ).text
    assert flagged == unflagged


def test_an_unknown_type_is_named(client: TestClient) -> None:
    r = client.get("/v1/guidelines/2020.06/tests", params={"type": "required,bogus"})
    assert r.status_code == 400 and "bogus" in r.json()["detail"]


def test_ids_never_reach_the_filesystem(client: TestClient) -> None:
    for bad in ("..%2Fpyproject", "%2E%2E", "add-ons%2Fdns.2020.06"):
        assert client.get(f"/v1/guidelines/{bad}").status_code == 404
        assert client.get(f"/v1/guidelines/{bad}/tests").status_code == 404
