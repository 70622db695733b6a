"""govbot validate: schema + integrity findings, severities, formats, exit codes, cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from govbot.cli import main
from govbot.core.findings import Severity
from govbot.core.validate import ValidationPolicy, validate_files
from govbot.repo import bundled
from govbot.repo.cache import DiskCache
from tests.conftest import REPO

GOOD = REPO / "guidelines" / "2020.06.yaml"


def minimal(status: str = "draft", **extra: object) -> dict[str, object]:
    g: dict[str, object] = {
        "id": "next",
        "status": status,
        "scoring": {
            "cutoff_score": 74,
            "criteria": {"atomic": {"name": "Atomic", "description": "d", "weight": 6}},
        },
        "platforms": {"P": {"components": [{"name": "c"}]}},
        "components": {"c": {"capabilities": {"required": ["cap"], "advisory": []}}},
        "capabilities": {
            "cap": {
                "achievements": ["atomic"],
                "admin": False,
                "description": "d",
                "project": "nova",
                "required_since": "2020.06",
                "tests": {
                    "tempest.t1": {"idempotent_id": "id-6c0a0990-43b6-4529-9b61-5fd8daf7c55c"}
                },
            }
        },
    }
    g.update(extra)
    return g


def as_yaml(g: dict[str, object]) -> bytes:
    return json.dumps(g, indent=2).encode()  # JSON is YAML


def findings_for(
    g: dict[str, object], path: str = "guidelines/next.yaml"
) -> list[tuple[str, Severity]]:
    found = validate_files({path: as_yaml(g)}, bundled.schema_set())
    return [(f.rule, f.severity) for f in found]


def test_minimal_guideline_is_clean() -> None:
    assert findings_for(minimal()) == []


def test_bundled_data_has_no_errors_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REPO)]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_unknown_key_suggests_the_intended_one() -> None:
    g = minimal()
    cap = g["capabilities"]["cap"]
    cap["acheivements"] = cap.pop("achievements")
    found = validate_files({"guidelines/next.yaml": as_yaml(g)}, bundled.schema_set())
    unknown = [f for f in found if f.rule == "schema.unknown-key"]
    assert len(unknown) == 1
    assert "did you mean 'achievements'" in unknown[0].message
    assert unknown[0].path == ("capabilities", "cap", "acheivements")
    assert unknown[0].line > 1


def test_wrong_type_is_an_error_in_a_draft_and_a_warning_in_history() -> None:
    g = minimal()
    g["capabilities"]["cap"]["admin"] = "no"
    assert findings_for(g) == [("schema.type", Severity.ERROR)]
    g["status"] = "approved"
    g["id"] = "2020.06"
    assert findings_for(g, "guidelines/2020.06.yaml") == [("schema.type", Severity.WARNING)]


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (
            lambda g: g["components"]["c"]["capabilities"]["required"].append("ghost"),
            "integrity.unknown-capability",
        ),
        (
            lambda g: g["components"]["c"]["capabilities"]["advisory"].append("cap"),
            "integrity.status-conflict",
        ),
        (
            lambda g: g["capabilities"]["cap"]["achievements"].append("fast"),
            "integrity.unknown-criterion",
        ),
        (
            lambda g: g["platforms"]["P"]["components"].append({"name": "nope"}),
            "integrity.unknown-component",
        ),
        (lambda g: g.update(id="2019.06"), "integrity.id-mismatch"),
        (
            lambda g: g["capabilities"]["cap"]["tests"]["tempest.t1"].pop("idempotent_id"),
            "integrity.test-id-missing",
        ),
        (
            lambda g: g["capabilities"]["cap"]["tests"]["tempest.t1"].update(
                flagged={"action": "drop"}
            ),
            "integrity.flag-without-reason",
        ),
        (
            lambda g: g["capabilities"]["cap"]["tests"].update(
                {"tempest.t2": {"idempotent_id": "id-6c0a0990-43b6-4529-9b61-5fd8daf7c55c"}}
            ),
            "integrity.duplicate-idempotent-id",
        ),
        (
            lambda g: g["capabilities"]["cap"]["tests"]["tempest.t1"].update(
                idempotent_id="6c0a0990"
            ),
            "schema.pattern",
        ),
    ],
)
def test_integrity_rules(mutate: object, rule: str) -> None:
    g = json.loads(json.dumps(minimal()))
    mutate(g)
    assert (rule, Severity.ERROR) in findings_for(g)


def test_required_since_later_than_the_guideline() -> None:
    g = minimal(id="2019.06")
    assert ("integrity.required-since-future", Severity.ERROR) in findings_for(
        g, "guidelines/2019.06.yaml"
    )
    # next has no date yet, so nothing to compare with
    assert findings_for(minimal()) == []


def test_a_test_may_appear_in_two_capabilities_with_its_id() -> None:
    g = json.loads(json.dumps(minimal()))
    g["capabilities"]["cap2"] = json.loads(json.dumps(g["capabilities"]["cap"]))
    g["components"]["c"]["capabilities"]["required"].append("cap2")
    assert findings_for(g) == []


def test_removed_capabilities_need_no_definition() -> None:
    g = json.loads(json.dumps(minimal()))
    g["components"]["c"]["capabilities"]["removed"] = ["long-gone"]
    assert findings_for(g) == []


def test_unquoted_numeric_key_is_a_finding_not_a_crash() -> None:
    found = validate_files(
        {"guidelines/next.yaml": b"id: next\nreleases:\n  2020.06: x\n"}, bundled.schema_set()
    )
    assert "schema.key-type" in {f.rule for f in found}


def test_policy_can_switch_a_rule_off_or_change_its_severity() -> None:
    g = json.loads(json.dumps(minimal()))
    g["capabilities"]["cap"]["achievements"].append("fast")
    files = {"guidelines/next.yaml": as_yaml(g)}
    off = ValidationPolicy(rules={"integrity.unknown-criterion": "off"})
    assert validate_files(files, bundled.schema_set(), off) == []
    warn = ValidationPolicy(rules={"integrity.unknown-criterion": "warning"})
    assert [f.severity for f in validate_files(files, bundled.schema_set(), warn)] == [
        Severity.WARNING
    ]


def test_the_repos_own_policy_file_is_used_and_validated() -> None:
    policy = b"validation:\n  frozen_statuses: [draft]\n  bogus: 1\n"
    g = minimal()
    g["capabilities"]["cap"]["admin"] = "no"
    found = validate_files(
        {"guidelines/next.yaml": as_yaml(g), "policies/validation.yaml": policy},
        bundled.schema_set(),
    )
    assert {(f.file, f.rule, f.severity) for f in found} == {
        ("guidelines/next.yaml", "schema.type", Severity.WARNING),  # draft is frozen by this policy
        ("policies/validation.yaml", "schema.unknown-key", Severity.ERROR),
    }


def make_repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for rel, raw in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(raw)
    return tmp_path


def test_cli_exit_codes_and_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g = minimal()
    g["capabilities"]["cap"]["admin"] = "no"
    repo = make_repo(tmp_path, {"guidelines/next.yaml": as_yaml(g)})
    assert main(["validate", str(repo), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    (finding,) = out["findings"]
    assert set(finding) == {"file", "line", "column", "path", "rule", "severity", "message"}
    assert finding["file"] == "guidelines/next.yaml"
    assert finding["path"] == "capabilities.cap.admin"
    assert finding["line"] > 1
    assert finding["severity"] == "error"


def test_cli_github_format_escapes_annotation_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"guidelines/next.yaml": b"id: next\nstatus: [draft\n"})
    assert main(["validate", str(repo), "--format", "github"]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith("::error file=guidelines/next.yaml,line=3,col=1,title=yaml.syntax::")


def test_cli_missing_repo_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "absent")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_every_bad_input_through_the_cli_gives_a_located_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        tmp_path,
        {
            "guidelines/next.yaml": b"id: next\nid: next\n",
            "guidelines/2020.06.yaml": b"id: '2020.06'\n\tstatus: draft\n",
            "guidelines/2019.06.yaml": b"id: '2019.06'\ndescription: \xff\n",
            "guidelines/2019.11.yaml": GOOD.read_bytes().replace(
                b"id: '2020.06'", b"id: '2020.06'", 1
            ),
            "guidelines/add-ons/dns.next.yaml": b"a: &a [1]\nb: [*a, *a]\n---\nc: 1\n",
        },
    )
    assert main(["validate", str(repo), "--format", "json"]) == 1
    found = {
        (f["file"], f["rule"]): f["line"] for f in json.loads(capsys.readouterr().out)["findings"]
    }
    assert found[("guidelines/next.yaml", "yaml.duplicate-key")] == 2
    assert found[("guidelines/2019.06.yaml", "yaml.encoding")] == 2
    assert found[("guidelines/add-ons/dns.next.yaml", "yaml.multiple-documents")] == 3
    assert found[("guidelines/2019.11.yaml", "integrity.id-mismatch")] == 2
    assert any(
        f == "guidelines/2020.06.yaml" and line == 2 for f, _ in found for line in [found[(f, _)]]
    )


def test_cache_reuses_findings_and_notices_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"guidelines/2020.06.yaml": GOOD.read_bytes()})
    cache = DiskCache(tmp_path / "cache")
    files = {"guidelines/2020.06.yaml": (repo / "guidelines/2020.06.yaml").read_bytes()}
    first = validate_files(files, bundled.schema_set(), cache=cache)
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 1
    assert validate_files(files, bundled.schema_set(), cache=cache) == first
    files["guidelines/2020.06.yaml"] += b"extra_key: 1\n"
    changed = validate_files(files, bundled.schema_set(), cache=cache)
    assert len(changed) == len(first) + 1
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2


def test_corrupt_cache_entries_are_recomputed(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    files = {"guidelines/2020.06.yaml": GOOD.read_bytes()}
    first = validate_files(files, bundled.schema_set(), cache=cache)
    for entry in tmp_path.rglob("*.json"):
        entry.write_text("{not json")
    assert validate_files(files, bundled.schema_set(), cache=cache) == first


def test_validate_defaults_to_the_current_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    make_repo(tmp_path, {"guidelines/next.yaml": b"id: next\n"})
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    assert "guidelines/next.yaml" in capsys.readouterr().out
