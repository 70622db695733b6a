"""Each change judged by the process and schema of its time, on the real interop files.

The eras are policies/eras.yaml: the process documents in
../shared/interop/doc/source/process/ (2015A adopted by the Board on
2015-05-17, 2015B on 2015-10-18, 2016A on 2016-01-26, 2017A the working
group's text from 2017-01-23), and the schema versions in
../shared/interop/doc/source/schema/ (1.2 to 2.0).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from govbot.core.check import CheckResult, check
from govbot.core.documents import parse_document
from govbot.core.eras import NO_PROCESS, Eras
from govbot.core.findings import Severity
from govbot.core.layout import guideline_kind
from govbot.repo import bundled
from govbot.repo.snapshots import is_governed

Files = dict[str, bytes]


def load(interop: Path, name: str) -> dict[str, Any]:
    return json.loads((interop / name).read_text())


def dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


def meta(doc: dict[str, Any]) -> dict[str, Any]:
    """Where a document keeps id and status: 2.0's metadata, or the top level of 1.x."""
    found: dict[str, Any] = doc.get("metadata", doc)
    return found


def set_status(doc: dict[str, Any], status: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    m = meta(doc)
    m.get("os_trademark_approval", m)["status"] = status
    return doc


def as_draft(doc: dict[str, Any], ident: str = "next") -> dict[str, Any]:
    doc = set_status(doc, "draft")
    meta(doc)["id"] = ident
    return doc


def run(base: Files, head: Files, when: date | datetime | None = None) -> CheckResult:
    return check(base, head, bundled.schema_set(), when=when)


def errors(result: CheckResult) -> list[str]:
    return [f.rule for f in result.findings if f.severity is Severity.ERROR]


# -- the era table ---------------------------------------------------------------


def test_the_process_in_force_is_chosen_by_date() -> None:
    eras = bundled.eras()
    assert eras.at(date(2015, 4, 1)) is NO_PROCESS  # 2015A was still a draft
    assert [eras.at(date(y, m, d)).id for y, m, d in [(2015, 5, 17), (2015, 10, 17)]] == [
        "2015A"
    ] * 2  # type: ignore[union-attr]
    assert eras.at(date(2015, 10, 18)).id == "2015B"  # type: ignore[union-attr]
    assert eras.at(datetime(2016, 1, 26, tzinfo=UTC)).id == "2016A"  # type: ignore[union-attr]
    assert eras.at(None).id == eras.at(date(2030, 1, 1)).id == "2017A"  # type: ignore[union-attr]
    assert Eras().at(date(2016, 1, 1)) is None  # no table: the rules as written


def test_a_file_is_judged_by_the_schema_version_it_declares() -> None:
    eras = bundled.eras()
    assert [eras.schema(v).version for v in ("1.0", "1.1", "1.2", "1.4", "1.6", "2.0")] == [
        "1.2",
        "1.2",
        "1.2",
        "1.4",
        "1.6",
        "2.0",
    ]
    assert eras.schema(None).version == "govbot"  # govbot's own YAML
    assert eras.schema("1.5").status("superceded") == "superseded"
    assert not eras.schema("1.2").test_ids and eras.schema("1.3").test_ids
    assert eras.schema("1.2").flag_fields == () and "reason" in eras.schema("2.0").flag_fields


def test_an_era_cites_its_own_paragraph_and_drops_the_ones_it_lacks() -> None:
    eras = bundled.eras()
    a15, a17 = eras.at(date(2015, 6, 1)), eras.at(date(2018, 1, 1))
    assert a15 is not None and a17 is not None
    assert a15.cite("2017A.A4.1", "x") == (
        "2015A.A4.1",
        "DefCore uses Board approved DefCore scoring criteria to evaluate capabilities.",
    )
    assert a17.cite("2017A.A4.1", "x")[1].startswith("The Interop Working Group")  # type: ignore[index]
    # C3.4 "Vendors may not request flagging all tests" was dropped by 2016A
    assert a15.cite("govbot.all-tests-flagged", "t", "C3.4")[0] == "2015A.C3.4"  # type: ignore[index]
    assert a17.cite("govbot.all-tests-flagged", "t", "C3.4") == ("govbot.all-tests-flagged", "t")
    assert NO_PROCESS.cite("2017A.A4.5", "x") is None


# -- the process of the change's date -----------------------------------------------


@pytest.fixture(scope="module")
def v16(interop: Path) -> Files:
    """2016.08 (schema 1.6) approved, and next drafted from it."""
    g = set_status(load(interop, "2016.08.json"), "approved")
    return {"2016.08.json": dump(g), "next.json": dump(as_draft(g))}


def drop_required(files: Files, cap: str) -> Files:
    doc = json.loads(files["next.json"])
    doc["components"]["compute"]["required"].remove(cap)
    return {**files, "next.json": dump(doc)}


def test_rules_are_cited_as_the_era_in_force_words_them(v16: Files) -> None:
    head = drop_required(v16, "compute-servers-create")
    in_2016 = run(v16, head, date(2016, 9, 1))
    assert in_2016.era == "2016A" and "2016A.A4.5" in errors(in_2016)
    assert "2017A.A4.5" in errors(run(v16, head, date(2017, 9, 1)))
    # before the Board adopted any process, no process paragraph applies ...
    before = run(v16, head, date(2015, 4, 1))
    assert before.era == "-" and not [r for r in errors(before) if r.endswith("A4.5")]
    # ... but a file that stops parsing is still refused
    broken = {**v16, "next.json": v16["next.json"].replace(b'"draft"', b'"draft",,', 1)}
    assert errors(run(v16, broken, date(2015, 4, 1))) == ["json.syntax"]


# -- the schema's vocabulary ---------------------------------------------------------


def test_superceded_was_the_word_of_the_interop_schemas(interop: Path, v16: Files) -> None:
    """1.5/1.6 and 2.0 spelled it "superceded" until commit 02698b5 (2017-09)."""
    head = {**v16, "2016.08.json": dump(set_status(json.loads(v16["2016.08.json"]), "superceded"))}
    assert errors(run(v16, head)) == []
    respelled = {
        **head,
        "2016.08.json": v16["2016.08.json"].replace(b'"approved"', b'"superseded"', 1),
    }
    assert errors(run(head, respelled)) == []  # superceded -> superseded is no transition
    # govbot's own files use govbot's spelling
    parsed = parse_document("guidelines/2020.06.yaml", b"id: '2020.06'\nstatus: superceded\n")
    from govbot.core.validate import validate_parsed

    rules = {
        f.rule
        for f in validate_parsed(parsed, "guideline.schema.json", bundled.schema_set(), _policy())
    }
    assert "schema.enum" in rules


def _policy() -> Any:
    from govbot.core.validate import ValidationPolicy

    return ValidationPolicy()


def test_schema_1_2_flags_were_bare_names(interop: Path) -> None:
    """1.2: "flagged": [] lists test names, with no reason or action to give."""
    approved = load(interop, "2015.05.json")
    draft = as_draft(approved)
    base = {"2015.05.json": dump(approved), "next.json": dump(draft)}
    cap = draft["capabilities"]["compute-auth"]
    cap["flagged"] = [cap["tests"][0]]
    result = run(base, {**base, "next.json": dump(draft)}, date(2015, 6, 1))
    assert errors(result) == [] and not any("C3.2" in f.rule for f in result.findings)


# -- readability per defect ------------------------------------------------------------


def test_a_duplicate_key_leaves_the_base_readable(v16: Files) -> None:
    """A duplicate key does not hide the head's syntax error (471c96f, ccb7c1e)."""

    def duplicated(raw: bytes) -> bytes:
        return raw.replace(b'"id": "next",', b'"id": "next", "id": "next",', 1)

    dup = duplicated(v16["next.json"])
    base = {**v16, "next.json": dup}
    broken = {**v16, "next.json": dup.replace(b'"draft"', b'"draft",,', 1)}
    result = run(base, broken)
    (finding,) = [f for f in result.findings if f.severity is Severity.ERROR]
    assert finding.rule == "json.syntax" and finding.file == "next.json" and finding.line > 1
    # the duplicate is the base's, so it does not block; the rules still judge the head
    head = {
        **v16,
        "next.json": duplicated(drop_required(v16, "compute-servers-create")["next.json"]),
    }
    result = run(base, head)
    assert [f.severity for f in result.findings if f.rule == "json.duplicate-key"] == [
        Severity.WARNING
    ]
    assert "2017A.A4.5" in errors(result)
    # a new duplicate is this change's
    new_dup = {**v16, "next.json": dup}
    assert "json.duplicate-key" in errors(run(v16, new_dup))


# -- drafts of every era ---------------------------------------------------------------


def test_the_drafts_of_every_era_are_guidelines() -> None:
    """2015A A1.2: "the target year and .next"; 2015B A1.2: "next.json"."""
    for path in ("2015.next.json", "2016.next.json", "next.json", "add-ons/dns.next.json"):
        assert is_governed(path) and guideline_kind(path), path
    for path in ("verticals/nfv.next.json", "2016.nxt.json", "drafts/havanacore.json"):
        assert not is_governed(path), path


def test_a_draft_renamed_by_the_2015b_rule_is_retired_not_broken(v16: Files) -> None:
    """b66a7bf moved 2016.next.json to next.json and left a pointer in the old file."""
    old = dump(as_draft(json.loads(v16["next.json"]), "2016.next"))
    base = {"2016.08.json": v16["2016.08.json"], "2016.next.json": old}
    head = {**base, "next.json": v16["next.json"], "2016.next.json": b"Move Notice\n===========\n"}
    result = run(base, head)
    assert errors(result) == []
    assert [(f.file, f.severity) for f in result.findings if f.rule == "json.syntax"] == [
        ("2016.next.json", Severity.NOTICE)
    ]
    # the same pointer without the guideline moving anywhere is a broken draft
    lost = {**base, "2016.next.json": b"Move Notice\n"}
    assert errors(run(base, lost)) == ["json.syntax"]


# -- approvals and what they do not re-blame ------------------------------------------------


def test_an_approval_does_not_reblame_next_for_old_differences(interop: Path) -> None:
    """Like d70af95 "Approve 2018.02, supersede 2017.01": next untouched, its predecessor moved."""
    files = {
        "2017.01.json": dump(set_status(load(interop, "2017.01.json"), "approved")),
        "2017.09.json": dump(set_status(load(interop, "2017.09.json"), "approved")),
        "2018.02.json": dump(set_status(load(interop, "2018.02.json"), "advisory")),
        "next.json": (interop / "next.json").read_bytes(),
    }
    head = {
        **files,
        "2017.01.json": dump(set_status(load(interop, "2017.01.json"), "superseded")),
        "2018.02.json": dump(set_status(load(interop, "2018.02.json"), "approved")),
    }
    result = run(files, head, date(2018, 2, 26))
    assert errors(result) == []
    assert {c.guideline for c in result.changes} == {"2017.01", "2018.02"}
    assert not [f for f in result.findings if f.file == "next.json"]


def test_tempest_subclasses_share_their_parents_ids(v16: Files) -> None:
    """ServersTestManualDisk re-runs ServersTestJSON's methods under the same ids (8e623b9)."""
    doc = json.loads(v16["next.json"])
    tests = doc["capabilities"]["compute-servers-create"]["tests"]
    name, details = next(iter(tests.items()))
    klass, method = name.rsplit(".", 2)[-2:]
    tests[name.replace(klass, "ServersTestManualDisk")] = dict(details)
    result = run(v16, {**v16, "next.json": dump(doc)})
    assert errors(result) == []
    # another method under the same id is a reused id
    del tests[name.replace(klass, "ServersTestManualDisk")]
    tests[name.replace(method, "test_something_else")] = dict(details)
    assert {"2017A.A2.4", "integrity.duplicate-idempotent-id"} <= set(
        errors(run(v16, {**v16, "next.json": dump(doc)}))
    )
