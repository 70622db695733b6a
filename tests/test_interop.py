"""Import from and export to the interop JSON form: lossless, all or nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from govbot.cli import main
from govbot.core.interop import to_govbot, to_interop
from govbot.core.yamlio import parse_bytes
from tests.conftest import REPO


def interop_files(root: Path) -> list[Path]:
    return sorted(root.glob("*.json")) + sorted((root / "add-ons").glob("*.json"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, interop: Path) -> Path:
    dest = tmp_path_factory.mktemp("imp") / "repo"
    # the real drafts keep their real defects, so the import reports errors (exit 1)
    assert main(["import", "interop", str(interop), str(dest)]) == 1
    return dest


def test_import_writes_one_yaml_per_guideline_with_schema_header(
    imported: Path, interop: Path
) -> None:
    written = sorted(
        p.relative_to(imported).as_posix() for p in (imported / "guidelines").rglob("*.yaml")
    )
    expected = sorted(
        "guidelines/" + p.relative_to(interop).as_posix().removesuffix(".json") + ".yaml"
        for p in interop_files(interop)
    )
    assert written == expected
    head = (imported / "guidelines/2020.06.yaml").read_text().splitlines()[0]
    assert head == "# yaml-language-server: $schema=../schemas/guideline.schema.json"
    assert (imported / "schemas/guideline.schema.json").is_file()
    assert (imported / "policies/validation.yaml").is_file()


def test_imported_repo_only_has_errors_in_drafts(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["validate", str(imported), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    errors = {f["file"] for f in findings if f["severity"] == "error"}
    # the add-on drafts' ids lack Tempest's id- prefix, which schema 2.0 (the one they
    # declare) never asked for: only next.yaml's own typos are errors
    assert errors == {"guidelines/next.yaml"}
    rules = {(f["file"], f["rule"]) for f in findings}
    # defects of the real files, found and located
    assert ("guidelines/next.yaml", "schema.unknown-key") in rules  # 'acheivements', 'descriptin'
    assert ("guidelines/add-ons/orchestration.2018.02.yaml", "integrity.id-mismatch") in rules
    assert (
        "guidelines/2018.02.yaml",
        "schema.unknown-key",
    ) in rules  # 'required-since' in a 2.0 file
    assert ("guidelines/2016.01.yaml", "schema.pattern") in rules  # 'id-…,smoke'
    # Tempest subclasses listing their parent's tests under its ids are one test each
    assert ("guidelines/2017.01.yaml", "integrity.duplicate-idempotent-id") not in rules


def test_round_trip_is_lossless_for_every_schema_2_file(
    imported: Path, interop: Path, tmp_path: Path
) -> None:
    checked = 0
    for source in interop_files(interop):
        original = json.loads(source.read_text())
        if original.get("metadata", {}).get("schema") != "2.0":
            continue
        out = tmp_path / f"{source.stem}.json"
        assert main(["export", "interop", str(imported), source.stem, "-o", str(out)]) == 0, (
            source.name
        )
        assert json.loads(out.read_text()) == original, source.name
        checked += 1
    assert checked == 18  # 2018.02 to 2020.06 and next, and the 12 add-ons


def test_old_schemas_are_upgraded_without_dropping_tests(interop: Path) -> None:
    for name, schema in [("2015.03.json", "1.2"), ("2015.07.json", "1.5"), ("2016.08.json", "1.6")]:
        raw = json.loads((interop / name).read_text())
        g = to_govbot(raw)
        assert g["interop_schema"] == schema
        assert set(g["capabilities"]) == set(raw["capabilities"])
        for cap, body in raw["capabilities"].items():
            assert set(g["capabilities"][cap]["tests"]) == set(body["tests"]), (name, cap)
        assert set(g["designated_sections"]) == {
            p for s in raw["designated-sections"].values() for p in s
        }
        assert all("description" in c for c in g["scoring"]["criteria"].values())
        assert g["platforms"]["OpenStack Powered Platform"]["components"] == [
            {"name": c} for c in raw["platform"]["required"]
        ]


def test_schema_1_2_flags_and_history_are_kept() -> None:
    raw = {
        "id": "2015.03",
        "schema": "1.2",
        "status": "superseded",
        "platform": {"required": ["compute"]},
        "components": {"compute": {"required": ["c"]}},
        "capabilities": {
            "c": {
                "tests": ["t1", "t2"],
                "flagged": ["t2", "t9"],
                "status": "required",
                "guidelines": ["2015.03"],
                "name": "c",
                "required-since": "2015.03",
            }
        },
        "criteria": {"atomic": {"Description": "d", "name": "Atomic", "weight": 8}},
        "cutoff_score": "74",
    }
    g = to_govbot(raw)
    cap = g["capabilities"]["c"]
    assert cap["tests"] == {"t1": {}, "t2": {"flagged": {"reason": ""}}}
    assert cap["legacy"] == {
        "status": "required",
        "guidelines": ["2015.03"],
        "name": "c",
        "flagged": ["t9"],
    }
    assert cap["required_since"] == "2015.03"
    assert g["scoring"] == {
        "cutoff_score": 74,
        "criteria": {"atomic": {"description": "d", "name": "Atomic", "weight": 8}},
    }


def test_unknown_keys_survive_the_round_trip() -> None:
    doc = {
        "metadata": {
            "id": "next",
            "schema": "2.0",
            "extra": 1,
            "os_trademark_approval": {
                "status": "draft",
                "releases": ["a"],
                "target_approval": "2021.01",
                "x": 2,
            },
        },
        "platforms": {},
        "components": {},
        "capabilities": {"c": {"descriptin": "typo kept"}},
        "surprise": [1, 2],
    }
    g = to_govbot(doc)
    assert g["interop_metadata"] == {"os_trademark_approval": {"x": 2}, "extra": 1}
    assert g["capabilities"]["c"] == {"descriptin": "typo kept"}
    assert to_interop(g) == doc


def test_bundled_guidelines_came_from_the_importer(interop: Path) -> None:
    """The approved bundled files are exactly what the importer makes of ../shared."""
    for name in ("2020.06", "2018.02"):
        bundled = parse_bytes(name, (REPO / "guidelines" / f"{name}.yaml").read_bytes()).data
        assert bundled == to_govbot(json.loads((interop / f"{name}.json").read_text()))


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize(
    ("bad", "rule", "line"),
    [
        ('{"metadata": {"id": "next",\n  "schema": "2.0"\n', "json.syntax", 3),
        (
            '{"metadata": {"id": "next", "schema": "2.0"},\n "components": {},\n "components": {}}',
            "json.duplicate-key",
            3,
        ),
        ("[1, 2]", "json.not-an-object", 1),
    ],
)
def test_import_of_a_broken_tree_writes_nothing(
    tmp_path: Path,
    interop: Path,
    capsys: pytest.CaptureFixture[str],
    bad: str,
    rule: str,
    line: int,
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        interop, src, ignore=shutil.ignore_patterns("doc", "*.rst", "*.txt", "*.cfg", "*.md")
    )
    (src / "next.json").write_text(bad)
    dest = tmp_path / "dest"
    assert main(["import", "interop", str(src), str(dest), "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["file"], finding["rule"], finding["line"]) == ("next.json", rule, line)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]  # no staging directory left behind


def test_import_refuses_a_non_empty_destination(tmp_path: Path, interop: Path) -> None:
    dest = write_tree(tmp_path / "dest", {"keep.txt": "mine"})
    assert main(["import", "interop", str(interop), str(dest)]) == 2
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_import_of_a_tree_without_guidelines_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["import", "interop", str(tmp_path), str(tmp_path / "d")]) == 2


def test_export_of_an_unknown_guideline_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", "interop", str(REPO), "1999.01"]) == 2
    assert "no guideline '1999.01'" in capsys.readouterr().err
