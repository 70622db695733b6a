"""``govbot mustpass`` against RefStack's ``/v1/guidelines/<id>/tests`` endpoint.

The oracle below is an independent re-implementation of RefStack's
``Guidelines.get_target_capabilities`` and ``Guidelines.get_test_list``
(refstack/api/guidelines.py). It reads the *raw* interop JSON and never
imports govbot, so it checks both the converter and the test-list logic.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.core import mustpass
from govbot.core.interop import to_govbot, to_interop
from govbot.core.yamlio import parse_bytes

REPO_ROOT = Path(__file__).resolve().parents[1]
GUIDELINES = REPO_ROOT / "guidelines"
INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop"

# -- RefStack oracle (works on raw interop JSON) ------------------------------

REFSTACK_PLATFORMS = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
    "dns": "OpenStack with DNS",
    "orchestration": "OpenStack with Orchestration",
}
REFSTACK_ADD_ONS = ("dns", "orchestration")


def _v2_schema(doc: dict[str, Any]) -> str | None:
    if "metadata" in doc and doc["metadata"]["schema"] >= "2.0":
        return doc["metadata"]["schema"]
    return None


def refstack_target_capabilities(
    doc: dict[str, Any], types: set[str] | None, target: str
) -> set[str]:
    components = doc["components"]
    schema = _v2_schema(doc)
    if schema is not None:
        if target in REFSTACK_ADD_ONS:
            targets: Any = ["os_powered_" + target]
        else:
            platform = REFSTACK_PLATFORMS[target]
            comps = doc["platforms"][platform]["components"] if platform in doc["platforms"] else []
            targets = [c["name"] for c in comps]
    else:
        schema = doc["schema"]
        targets = {target} if target != "platform" else set(doc["platform"]["required"])
    caps: set[str] = set()
    for component in targets:
        complist = components[component]
        if schema >= "2.0":
            complist = complist["capabilities"]
        for status, names in complist.items():
            if types is None or status in types:
                caps.update(names)
    return caps


def refstack_test_list(
    doc: dict[str, Any], capabilities: set[str], alias: bool, show_flagged: bool
) -> list[str]:
    schema = _v2_schema(doc) or doc["schema"]
    out: list[str] = []
    for cap, details in doc["capabilities"].items():
        if cap not in capabilities:
            continue
        if schema == "1.2":
            out.extend(t for t in details["tests"] if show_flagged or t not in details["flagged"])
            continue
        for test, td in details["tests"].items():
            if td.get("flagged") and not show_flagged:
                continue
            ident = td.get("idempotent_id", "")
            out.append(f"{test}[{ident}]")
            if alias and td.get("aliases"):
                out.extend(f"{a}[{ident}]" for a in td["aliases"])
    out.sort()
    return out


def refstack_endpoint(
    doc: dict[str, Any], target: str, types: set[str], alias: bool, flag: bool
) -> list[str]:
    """GET /v1/guidelines/<id>/tests?target=..&type=..&alias=..&flag=.."""
    return refstack_test_list(doc, refstack_target_capabilities(doc, types, target), alias, flag)


# -- cases ---------------------------------------------------------------------

STATUS_SETS = (
    ("required",),
    ("advisory",),
    ("required", "advisory", "deprecated", "removed"),
)
FLAG_COMBOS = tuple(itertools.product((True, False), repeat=2))  # (aliases, include_flagged)


def _targets(doc: dict[str, Any], rel: Path) -> list[str]:
    if rel.parts[0] == "add-ons":
        return [rel.name.split(".", 1)[0]]
    if _v2_schema(doc):
        return ["platform", "compute", "object"]
    return ["platform", *[t for t in ("compute", "object") if t in doc["components"]]]


def _cases() -> list[Any]:
    if not INTEROP.is_dir():
        reason = f"interop reference data not found at {INTEROP}"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason), id="no-interop")]
    files = sorted([*INTEROP.glob("*.json"), *INTEROP.glob("add-ons/*.json")])
    cases = []
    for path in files:
        rel = path.relative_to(INTEROP)
        doc = json.loads(path.read_text(encoding="utf-8"))
        for target in _targets(doc, rel):
            cases.append(pytest.param(rel, target, id=f"{rel.with_suffix('')}-{target}"))
    return cases


def _prefix_ids(doc: dict[str, Any]) -> dict[str, Any]:
    """The bundled drafts' fix: idempotent ids as test runners print them (``id-<uuid>``)."""
    doc = copy.deepcopy(doc)
    for cap in doc["capabilities"].values():
        for details in cap["tests"].values():
            ident = details.get("idempotent_id")
            if ident and not ident.startswith("id-"):
                details["idempotent_id"] = "id-" + ident
    return doc


BUNDLED_EDITS = {
    Path("add-ons/dns.next.json"): _prefix_ids,
    Path("add-ons/orchestration.next.json"): _prefix_ids,
}
"""Deliberate edits of the bundled YAML relative to ../shared/interop (commit f7d8e3b,
"Fix the defects govbot validate finds in the bundled drafts"). The bundled YAML is
compared with RefStack's answer on the raw JSON *with the same edit applied*; the
to_govbot(raw JSON) comparison stays unedited."""


def _first_difference(got: list[str], want: list[str]) -> str:
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            return f"first difference at line {i}: govbot {g!r} != refstack {w!r}"
    i = min(len(got), len(want))
    extra = got[i:] or want[i:]
    who = "govbot" if len(got) > len(want) else "refstack"
    return f"{who} has {len(extra)} extra line(s), first: {extra[0]!r}"


@pytest.mark.parametrize(("rel", "target"), _cases())
def test_matches_refstack(rel: Path, target: str) -> None:
    raw = json.loads((INTEROP / rel).read_text(encoding="utf-8"))
    bundled_path = GUIDELINES / rel.with_suffix(".yaml")
    assert bundled_path.is_file(), f"no bundled YAML for {rel} at {bundled_path}"
    bundled = parse_bytes(str(bundled_path), bundled_path.read_bytes()).data
    edit = BUNDLED_EDITS.get(rel)
    sources = {
        "bundled YAML": (bundled, edit(raw) if edit else raw),
        "to_govbot(raw JSON)": (to_govbot(raw), raw),
    }

    problems = []
    for statuses in STATUS_SETS:
        for aliases, flagged in FLAG_COMBOS:
            for label, (g, reference) in sources.items():
                want = refstack_endpoint(reference, target, set(statuses), aliases, flagged)
                got = mustpass.test_list(
                    g, target, statuses, aliases=aliases, include_flagged=flagged
                )
                if got != want:
                    problems.append(
                        f"{label} status={','.join(statuses)} aliases={aliases} "
                        f"include_flagged={flagged} ({len(got)} vs {len(want)} lines): "
                        + _first_difference(got, want)
                    )
    assert not problems, f"{rel} target={target}:\n" + "\n".join(problems)


def test_cases_cover_real_tests() -> None:
    """Guard against a vacuous oracle: the real data yields non-empty lists."""
    if not INTEROP.is_dir():
        pytest.skip(f"interop reference data not found at {INTEROP}")
    raw = json.loads((INTEROP / "2020.06.json").read_text(encoding="utf-8"))
    assert len(refstack_endpoint(raw, "platform", {"required"}, True, False)) > 100
    dns = json.loads((INTEROP / "add-ons" / "dns.2020.06.json").read_text(encoding="utf-8"))
    assert refstack_endpoint(dns, "dns", {"required"}, True, False)


# -- CLI -----------------------------------------------------------------------

LINE_WITH_ID = re.compile(r"^\S+\[id-[0-9a-f-]+\]$")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the CLI from the repo root, so it reads the bundled guidelines/."""
    monkeypatch.chdir(REPO_ROOT)


def _bundled(name: str) -> dict[str, Any]:
    path = GUIDELINES / f"{name}.yaml"
    return parse_bytes(str(path), path.read_bytes()).data


@pytest.mark.usefixtures("in_repo")
def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mustpass", "2020.06", "--target", "compute"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert out.endswith("\n")
    assert lines
    assert lines == sorted(lines)
    bad = [line for line in lines if not LINE_WITH_ID.match(line)]
    assert not bad, f"lines without an idempotent id: {bad[:3]}"
    assert lines == mustpass.test_list(_bundled("2020.06"), "compute", ["required"])


@pytest.mark.usefixtures("in_repo")
def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mustpass", "2020.06", "--target", "compute", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert isinstance(payload, dict)
    assert isinstance(payload["tests"], list)
    assert payload["tests"] == mustpass.test_list(_bundled("2020.06"), "compute", ["required"])


@pytest.mark.usefixtures("in_repo")
def test_cli_unknown_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mustpass", "2020.06", "--target", "nonsense"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nonsense" in captured.err
    for known in ("platform", "compute", "object"):
        assert known in captured.err


@pytest.mark.usefixtures("in_repo")
def test_cli_unknown_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mustpass", "2020.06", "--status", "required,bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bogus" in captured.err


@pytest.mark.usefixtures("in_repo")
def test_cli_schema_1_2_bare_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mustpass", "2015.03"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert lines == sorted(lines)
    assert not [line for line in lines if "[" in line or "]" in line]


# -- hand-made guideline ---------------------------------------------------------

HANDMADE: dict[str, Any] = {
    "id": "handmade",
    "platforms": {
        "OpenStack Powered Platform": {"components": [{"name": "os_powered_compute"}]},
        "OpenStack Powered Compute": {"components": [{"name": "os_powered_compute"}]},
    },
    "components": {
        "os_powered_compute": {
            "capabilities": {
                "required": ["cap-a", "cap-b"],
                "advisory": ["cap-c"],
                "deprecated": [],
                "removed": [],
            }
        }
    },
    "capabilities": {
        "cap-a": {
            "tests": {
                "t.shared": {"idempotent_id": "id-shared"},
                "t.flagged": {"idempotent_id": "id-flag", "flagged": {"reason": "bug"}},
                "t.main": {"idempotent_id": "id-main", "aliases": ["t.alias1", "t.alias2"]},
            }
        },
        "cap-b": {"tests": {"t.shared": {"idempotent_id": "id-shared"}}},
        "cap-c": {"tests": {"t.advisory": {"idempotent_id": "id-adv"}}},
    },
}


def test_handmade_flagged() -> None:
    default = mustpass.test_list(HANDMADE, "compute", ["required"])
    assert "t.flagged[id-flag]" not in default
    with_flagged = mustpass.test_list(HANDMADE, "compute", ["required"], include_flagged=True)
    assert "t.flagged[id-flag]" in with_flagged
    assert sorted([*default, "t.flagged[id-flag]"]) == with_flagged


def test_handmade_aliases_share_id() -> None:
    got = mustpass.test_list(HANDMADE, "platform", ["required"])
    assert "t.alias1[id-main]" in got
    assert "t.alias2[id-main]" in got
    plain = mustpass.test_list(HANDMADE, "platform", ["required"], aliases=False)
    assert not [t for t in plain if "alias" in t]
    assert "t.main[id-main]" in plain


def test_handmade_duplicate_across_capabilities() -> None:
    got = mustpass.test_list(HANDMADE, "compute", ["required"])
    assert got.count("t.shared[id-shared]") == 2
    assert got == [
        "t.alias1[id-main]",
        "t.alias2[id-main]",
        "t.main[id-main]",
        "t.shared[id-shared]",
        "t.shared[id-shared]",
    ]
    assert mustpass.test_list(HANDMADE, "compute", ["advisory"]) == ["t.advisory[id-adv]"]


def test_handmade_matches_refstack() -> None:
    raw = to_interop(HANDMADE)
    for statuses in STATUS_SETS:
        for aliases, flagged in FLAG_COMBOS:
            for target in ("platform", "compute"):
                want = refstack_endpoint(raw, target, set(statuses), aliases, flagged)
                got = mustpass.test_list(
                    HANDMADE, target, statuses, aliases=aliases, include_flagged=flagged
                )
                assert got == want, (target, statuses, aliases, flagged)


@pytest.mark.parametrize(
    "details",
    [
        {"idempotent_id": "id-1", "flagged": {}},  # an empty flag flags nothing, as in RefStack
        {"flagged": None},  # a missing id is printed as an empty one: t[]
        {"idempotent_id": None},  # and a null one as RefStack's format() printed it
    ],
)
def test_edge_cases_match_refstack(details: dict[str, Any]) -> None:
    g = json.loads(json.dumps(HANDMADE))
    g["capabilities"]["cap-c"]["tests"] = {"t": details}
    raw = to_interop(g)
    for flagged in (False, True):
        want = refstack_endpoint(raw, "compute", {"advisory"}, True, flagged)
        assert mustpass.test_list(g, "compute", ["advisory"], include_flagged=flagged) == want
