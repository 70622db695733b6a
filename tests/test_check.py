"""govbot check and diff: each process rule, violated and respected, on the real guidelines."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govbot.cli import main
from govbot.core.check import CheckResult, check
from govbot.core.findings import Severity
from govbot.core.yamlio import dump, parse_bytes
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from tests.conftest import REPO

Files = dict[str, bytes]
Edit = Callable[[dict[str, Any]], None]

NEXT = "guidelines/next.yaml"
APPROVED = "guidelines/2020.06.yaml"
DNS_NEXT = "guidelines/add-ons/dns.next.yaml"


@pytest.fixture(scope="module")
def real() -> Files:
    return read_directory(REPO)


def edited(files: Files, path: str, edit: Edit) -> Files:
    data = copy.deepcopy(parse_bytes(path, files[path]).data)
    edit(data)
    out = dict(files)
    out[path] = dump(data).encode()
    return out


def run(base: Files, head: Files) -> CheckResult:
    return check(base, head, bundled.schema_set())


def rules_of(result: CheckResult, severity: Severity | None = None) -> list[str]:
    """The rules of what the change introduces (inherited findings are reported, and apart)."""
    return [
        f.rule
        for f in result.findings
        if not f.inherited and (severity is None or f.severity is severity)
    ]


def compute(g: dict[str, Any]) -> dict[str, list[str]]:
    return g["components"]["os_powered_compute"]["capabilities"]


def test_no_change_no_finding(real: Files) -> None:
    result = run(real, real)
    assert result.findings == [] and result.changes == []


# -- 2017A.A4.5 / A4.6: capabilities ------------------------------------------


def test_removing_a_required_capability_without_deprecation_fails(real: Files) -> None:
    head = edited(real, NEXT, lambda g: compute(g)["required"].remove("compute-servers-lock"))
    result = run(real, head)
    (finding,) = [f for f in result.findings if f.rule == "2017A.A4.5" and not f.inherited]
    assert finding.severity is Severity.ERROR
    assert finding.file == NEXT
    assert "'compute-servers-lock'" in finding.message and "2020.06" in finding.message
    assert "deprecated" in finding.message  # how to fix it
    assert "Capabilities will not be removed without being deprecated" in finding.message
    line = head[NEXT].decode().splitlines()[finding.line - 1]
    assert line.strip() == "required:"
    assert any(
        c.kind == "capability.status" and "compute-servers-lock" in c.subject
        for c in result.changes
    )


def test_deprecating_then_removing_is_legal(real: Files) -> None:
    def deprecate(g: dict[str, Any]) -> None:
        compute(g)["required"].remove("compute-servers-lock")
        compute(g)["deprecated"].append("compute-servers-lock")

    head = edited(real, NEXT, deprecate)
    assert "2017A.A4.5" not in rules_of(run(real, head))
    # with 2020.06 deprecating it, next may remove it
    base = edited(real, APPROVED, deprecate)
    head = edited(base, NEXT, lambda g: compute(g)["required"].remove("compute-servers-lock"))
    assert rules_of(run(base, head), Severity.ERROR) == []


NEW_TEST = "tempest.api.compute.servers.test_brand_new.BrandNewTest.test_brand_new"


def test_a_new_capability_must_be_advisory_first(real: Files) -> None:
    def add(status: str) -> Edit:
        def edit(g: dict[str, Any]) -> None:
            cap = copy.deepcopy(g["capabilities"]["compute-servers-lock"])
            cap["tests"] = {NEW_TEST: {"idempotent_id": "id-00000000-0000-4000-8000-00000000000a"}}
            g["capabilities"]["compute-servers-brand-new"] = cap
            compute(g)[status].append("compute-servers-brand-new")

        return edit

    result = run(real, edited(real, NEXT, add("required")))
    assert [f.severity for f in result.findings if f.rule == "2017A.A4.6"] == [Severity.ERROR]
    assert "2017A.A4.6" not in rules_of(run(real, edited(real, NEXT, add("advisory"))))
    # advisory in 2020.06, required in next: the intended path
    base = edited(real, APPROVED, add("advisory"))
    assert "2017A.A4.6" not in rules_of(run(base, edited(base, NEXT, add("required"))))


def test_regrouping_tests_into_new_capabilities_is_not_adding_or_removing(real: Files) -> None:
    """2017A A2.3 "Groupings may change between iterations"; A2.4 ids are "durable across
    [...] changes in grouping": 2015.07 split 2015.05's capabilities, tests carried over."""
    lock = "compute-servers-lock"

    def split(g: dict[str, Any]) -> None:
        body = g["capabilities"].pop(lock)
        for i, (test, details) in enumerate(sorted(body["tests"].items())):
            part = copy.deepcopy(body)
            part["tests"] = {test: details}
            g["capabilities"][f"{lock}-part{i}"] = part
            compute(g)["required"].append(f"{lock}-part{i}")
        compute(g)["required"].remove(lock)

    result = run(real, edited(real, NEXT, split))
    assert {"2017A.A4.5", "2017A.A4.6"}.isdisjoint(rules_of(result))

    # the same capability dropped with its tests is a removal
    def drop(g: dict[str, Any]) -> None:
        g["capabilities"].pop(lock)
        compute(g)["required"].remove(lock)

    assert "2017A.A4.5" in rules_of(run(real, edited(real, NEXT, drop)), Severity.ERROR)


# -- 2017A.A3.1 / A3.2: designated sections ------------------------------------------


def test_designated_sections_follow_the_same_path(real: Files) -> None:
    def drop_nova(g: dict[str, Any]) -> None:
        g["designated_sections"]["nova"].pop("required")

    assert "2017A.A3.1" in rules_of(run(real, edited(real, NEXT, drop_nova)), Severity.ERROR)

    def deprecate_nova(g: dict[str, Any]) -> None:
        g["designated_sections"]["nova"]["deprecated"] = g["designated_sections"]["nova"][
            "required"
        ]

    base = edited(real, APPROVED, deprecate_nova)
    assert "2017A.A3.1" not in rules_of(run(base, edited(base, NEXT, drop_nova)))

    def add(status: str) -> Edit:
        return lambda g: g["designated_sections"].update(
            {"zaqar": {status: {"guidance": "all of it", "sections": {}}}}
        )

    assert "2017A.A3.2" in rules_of(run(real, edited(real, NEXT, add("required"))), Severity.ERROR)
    assert "2017A.A3.2" not in rules_of(run(real, edited(real, NEXT, add("advisory"))))


# -- 2017A.A1.1: a new guideline starts from the last approved one ------------------


def test_a_new_next_should_replace_the_newest_approved_guideline(real: Files) -> None:
    base = {p: raw for p, raw in real.items() if p != NEXT}
    stale = edited(real, NEXT, lambda g: g.update(replaces="2018.02"))
    assert [f.severity for f in run(base, stale).findings if f.rule == "2017A.A1.1"] == [
        Severity.WARNING
    ]
    fresh = edited(real, NEXT, lambda g: g.update(replaces="2020.06"))
    assert "2017A.A1.1" not in rules_of(run(base, fresh))


# -- immutability and status -----------------------------------------------------------


def test_an_approved_guideline_keeps_its_requirements_but_can_be_superseded(real: Files) -> None:
    """Vendors were certified against it: what it requires never changes (2017A D2)."""

    def deprecate(g: dict[str, Any]) -> None:
        compute(g)["required"].remove(lock_cap())
        compute(g)["deprecated"].append(lock_cap())

    demoted = run(real, edited(real, APPROVED, deprecate))
    (finding,) = [f for f in demoted.findings if f.rule == "govbot.immutable"]
    assert finding.file == APPROVED and finding.severity is Severity.ERROR
    assert "capability statuses" in finding.message
    superseded = edited(real, APPROVED, lambda g: g.update(status="superseded"))
    assert rules_of(run(real, superseded), Severity.ERROR) == []
    deleted = {p: raw for p, raw in real.items() if p != APPROVED}
    assert "govbot.immutable" in rules_of(run(real, deleted))


def lock_cap() -> str:
    return "compute-servers-lock"


def test_approved_guidelines_get_flags_aliases_and_corrections_not_tests(real: Files) -> None:
    """2017A D2.1 "can add flagged tests before and after Guideline approval"; D2.2 "cannot add
    additional Tests to Capability mappings after approval"; schema 1.4: "If this is an approved
    guideline, then the new name goes in this list" (aliases)."""

    def flag(g: dict[str, Any]) -> None:
        lock_tests(g)[LOCK_TEST]["flagged"] = {"reason": "D408 bug 1", "action": "fix tempest"}

    flagged = run(real, edited(real, APPROVED, flag))
    assert rules_of(flagged, Severity.ERROR) == []
    assert [f.rule for f in flagged.findings if f.severity is Severity.NOTICE] == ["2017A.D2.1"]

    def alias(g: dict[str, Any]) -> None:
        lock_tests(g)[LOCK_TEST]["aliases"] = ["tempest.api.compute.servers.Renamed.test_lock"]

    def describe(g: dict[str, Any]) -> None:
        g["capabilities"][lock_cap()]["description"] = "Lock and unlock a server"

    for edit in (alias, describe):
        assert rules_of(run(real, edited(real, APPROVED, edit)), Severity.ERROR) == []

    def add_test(g: dict[str, Any]) -> None:
        lock_tests(g)[NEW_TEST] = {"idempotent_id": "id-00000000-0000-4000-8000-00000000000b"}

    (added,) = [
        f
        for f in run(real, edited(real, APPROVED, add_test)).findings
        if f.severity is Severity.ERROR
    ]
    assert added.rule == "2017A.D2.2" and NEW_TEST in added.message

    def rename(g: dict[str, Any]) -> None:  # a renamed test is the same test (same id)
        lock_tests(g)[LOCK_TEST.replace("ServerActionsTestJSON", "ServerActionsTest")] = lock_tests(
            g
        ).pop(LOCK_TEST)

    assert rules_of(run(real, edited(real, APPROVED, rename)), Severity.ERROR) == []

    def drop(g: dict[str, Any]) -> None:
        del lock_tests(g)[LOCK_TEST]

    dropped = run(real, edited(real, APPROVED, drop))
    assert rules_of(dropped, Severity.ERROR) == []
    assert "govbot.removed-not-flagged" in rules_of(dropped, Severity.WARNING)


def test_status_moves_only_forward(real: Files) -> None:
    """Cited as 2017A C6.3, "Guideline status progresses as follows", in the eras that have it."""
    assert "2017A.C6.3" in rules_of(
        run(real, edited(real, NEXT, lambda g: g.update(status="superseded"))), Severity.ERROR
    )
    assert "2017A.C6.3" not in rules_of(
        run(real, edited(real, NEXT, lambda g: g.update(status="review")))
    )
    back = edited(real, "guidelines/2018.02.yaml", lambda g: g.update(status="approved"))
    assert "2017A.C6.3" in rules_of(run(real, back))


# -- scoring: A4.2, A4.3, A4.4, A4.1 ------------------------------------------------------


def reweight(g: dict[str, Any]) -> None:
    g["scoring"]["criteria"]["atomic"]["weight"] = 7


def test_criteria_changes_need_board_approval_and_freeze_once_published(real: Files) -> None:
    draft = run(real, edited(real, NEXT, reweight))
    assert [f.severity for f in draft.findings if f.rule == "2017A.A4.2"] == [Severity.WARNING]
    assert "2017A.A4.3" not in rules_of(draft)
    in_review = edited(real, NEXT, lambda g: g.update(status="review"))
    assert "2017A.A4.3" in rules_of(
        run(in_review, edited(in_review, NEXT, reweight)), Severity.ERROR
    )


def test_required_capabilities_meet_the_cutoff(real: Files) -> None:
    def weak(g: dict[str, Any]) -> None:
        g["capabilities"]["compute-servers-lock"]["achievements"] = ["atomic"]

    result = run(real, edited(real, NEXT, weak))
    (finding,) = [f for f in result.findings if f.rule == "2017A.A4.4" and not f.inherited]
    assert "scores 6, below the cut-off 74" in finding.message
    assert "2017A.A4.4" not in rules_of(run(real, edited(real, NEXT, lambda g: None)))


def test_advisory_capabilities_that_meet_the_cutoff_are_candidates(real: Files) -> None:
    def promote_candidate(g: dict[str, Any]) -> None:
        g["capabilities"]["compute-servers-extra"] = copy.deepcopy(
            g["capabilities"]["compute-servers-lock"]
        )
        compute(g)["advisory"].append("compute-servers-extra")

    result = run(real, edited(real, NEXT, promote_candidate))
    assert [f.severity for f in result.findings if f.rule == "govbot.cutoff-candidate"] == [
        Severity.NOTICE
    ]


# -- tests: A2.4 and flags --------------------------------------------------------------------


LOCK_TEST = (
    "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_lock_unlock_server"
)


def lock_tests(g: dict[str, Any]) -> dict[str, Any]:
    return g["capabilities"]["compute-servers-lock"]["tests"]


def test_idempotent_ids_are_durable(real: Files) -> None:
    assert LOCK_TEST in lock_tests(parse_bytes(NEXT, real[NEXT]).data)

    def change_id(g: dict[str, Any]) -> None:
        lock_tests(g)[LOCK_TEST]["idempotent_id"] = "id-00000000-0000-4000-8000-000000000000"

    assert "2017A.A2.4" in rules_of(run(real, edited(real, NEXT, change_id)), Severity.ERROR)

    def reuse_id(g: dict[str, Any]) -> None:
        lock_tests(g)["tempest.api.compute.NewTest.test_new"] = {
            "idempotent_id": lock_tests(g)[LOCK_TEST]["idempotent_id"]
        }

    assert "2017A.A2.4" in rules_of(run(real, edited(real, NEXT, reuse_id)))

    def new_test(g: dict[str, Any]) -> None:
        lock_tests(g)["tempest.api.compute.NewTest.test_new"] = {
            "idempotent_id": "id-00000000-0000-4000-8000-000000000001"
        }

    assert rules_of(run(real, edited(real, NEXT, new_test)), Severity.ERROR) == []


def test_flags_carry_reason_and_action(real: Files) -> None:
    def flag(**detail: str) -> Edit:
        return lambda g: lock_tests(g)[LOCK_TEST].update(flagged=detail)

    bare = run(real, edited(real, NEXT, flag(reason="bug 1234")))
    (finding,) = [f for f in bare.findings if f.rule == "2017A.C3.2"]
    assert "no action" in finding.message
    full = run(real, edited(real, NEXT, flag(reason="bug 1234", action="will be fixed in tempest")))
    assert "2017A.C3.2" not in rules_of(full)
    # the lock capability has a single test: flagging it leaves it untested
    assert "govbot.all-tests-flagged" in rules_of(full, Severity.WARNING)
    assert any(c.kind == "test.flag" for c in full.changes)


# -- add-ons ---------------------------------------------------------------------------------


def test_add_ons_are_judged_against_their_own_predecessor(real: Files) -> None:
    def dns(g: dict[str, Any]) -> dict[str, list[str]]:
        return g["components"]["os_powered_dns"]["capabilities"]

    # the real dns.next demotes both capabilities of dns.2020.06 to advisory
    # (a violation it inherits, so not this change's); a change dropping one is judged
    result = run(real, edited(real, DNS_NEXT, lambda g: dns(g)["advisory"].remove("dns-zone-crud")))
    (finding,) = [f for f in result.findings if f.rule == "2017A.A4.5" and not f.inherited]
    assert finding.file == DNS_NEXT
    assert (
        "'dns-zone-crud' was required in dns.2020.06 and is absent in dns.next" in finding.message
    )


# -- policy comes from the base ------------------------------------------------------------------


def test_a_change_cannot_switch_off_the_rules_that_judge_it(real: Files) -> None:
    head = edited(real, NEXT, lambda g: compute(g)["required"].remove("compute-servers-lock"))
    head["policies/rules.yaml"] = real["policies/rules.yaml"].replace(
        b"2017A.A4.5: {severity: error}", b"2017A.A4.5: {severity: off}"
    )
    assert "2017A.A4.5" in rules_of(run(real, head), Severity.ERROR)
    # ...while the same policy on the base branch does switch it off
    base = dict(real)
    base["policies/rules.yaml"] = head["policies/rules.yaml"]
    assert "2017A.A4.5" not in rules_of(run(base, head))


def test_a_broken_policy_in_the_head_is_reported_not_used(real: Files) -> None:
    head = dict(real)
    head["policies/rules.yaml"] = b"rules: [not, a, mapping\n"
    result = run(real, head)
    assert [(f.file, f.rule) for f in result.findings] == [("policies/rules.yaml", "yaml.syntax")]


# -- robustness on real history ---------------------------------------------------------------------


def test_invalid_head_file_is_reported_not_crashed(real: Files) -> None:
    head = dict(real)
    head[NEXT] = real[NEXT] + b"capabilities: {\n"
    result = run(real, head)
    assert [(f.file, f.severity) for f in result.findings] == [(NEXT, Severity.ERROR)]
    # the change that fixes it has no baseline for the rules, so inherited
    # warnings reappear, but it introduces no error
    assert rules_of(run(head, real), Severity.ERROR) == []


@pytest.fixture(scope="module")
def interop_files(interop: Path) -> Files:
    return {
        p.relative_to(interop).as_posix(): p.read_bytes()
        for p in [*interop.glob("*.json"), *interop.glob("add-ons/*.json")]
    }


def test_a_release_renames_next_without_tripping_the_rules(interop_files: Files) -> None:
    """Like the interop commit "Approve 2020.06, supersede 2018.02"."""

    def as_draft_next(raw: bytes) -> bytes:
        doc = json.loads(raw)
        doc["metadata"]["id"] = "next"
        doc["metadata"]["os_trademark_approval"]["status"] = "draft"
        return json.dumps(doc, indent=2).encode()

    base = {p: raw for p, raw in interop_files.items() if p != "2020.06.json"}
    base["next.json"] = as_draft_next(interop_files["2020.06.json"])
    doc = json.loads(base["2018.02.json"])
    doc["metadata"]["os_trademark_approval"]["status"] = "approved"
    base["2018.02.json"] = json.dumps(doc, indent=2).encode()
    result = run(base, interop_files)
    rules = rules_of(result, Severity.ERROR)
    assert "govbot.immutable" not in rules and "govbot.status-transition" not in rules
    assert {c.guideline for c in result.changes} >= {"2020.06", "2018.02", "next"}


def test_schema_version_change_between_base_and_head(interop_files: Files) -> None:
    base = {
        "next.json": interop_files["2017.09.json"],
        "2017.01.json": interop_files["2017.01.json"],
    }
    head = {
        "next.json": interop_files["2018.02.json"],
        "2017.01.json": interop_files["2017.01.json"],
    }
    result = run(base, head)
    assert result.changes  # a structural diff across schema 1.6 -> 2.0
    assert all(f.file == "next.json" for f in result.findings)


# -- the CLI on a real git repository -------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def git_repo(tmp_path: Path, real: Files) -> Path:
    repo = tmp_path / "repo"
    for rel, raw in real.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def commit_edit(repo: Path, path: str, edit: Edit) -> None:
    files = edited(read_directory(repo), path, edit)
    (repo / path).write_bytes(files[path])
    git(repo, "commit", "-q", "-am", "edit")


def test_cli_check_on_git_revisions(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_edit(git_repo, NEXT, lambda g: compute(g)["required"].remove("compute-servers-lock"))
    args = ["--repo", str(git_repo), "--base", "HEAD~1", "--head", "HEAD"]
    assert main(["check", *args]) == 1
    out = capsys.readouterr().out
    assert "guidelines/next.yaml:" in out and "2017A.A4.5" in out and "compute-servers-lock" in out
    assert main(["check", *args, "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert md.startswith("\u274c **govbot check failed**") and "| \u274c error |" in md
    assert main(["diff", *args, "--format", "json"]) == 0
    (change,) = json.loads(capsys.readouterr().out)["changes"]
    assert change["before"] == "required" and change["after"] is None


def test_cli_check_passes_a_legal_change(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_edit(git_repo, NEXT, lambda g: g.update(releases=["wallaby", "xena", "yoga", "zed"]))
    assert main(["check", "--repo", str(git_repo), "--base", "HEAD~1", "--head", "HEAD"]) == 0
    assert "next releases" in capsys.readouterr().out


def test_cli_unknown_revision_is_a_usage_error(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--repo", str(git_repo), "--base", "nope", "--head", "HEAD"]) == 2
    assert "nope" in capsys.readouterr().err


def test_walking_a_real_history_commit_by_commit(tmp_path: Path, interop_files: Files) -> None:
    """Break a file, fix it, rename next, supersede: every step is checkable."""
    repo = tmp_path / "interop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")

    def commit(files: Files, message: str) -> None:
        for p in repo.rglob("*.json"):
            p.unlink()
        for rel, raw in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes(raw)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", message)

    history = {p: raw for p, raw in interop_files.items() if p != "2020.06.json"}
    commit(history, "state before 2020.06")
    broken = dict(history)
    broken["next.json"] = history["next.json"].replace(
        b'"status": "draft"', b'"status": "draft",,', 1
    )
    commit(broken, "break next.json")
    commit(history, "fix next.json")
    commit(interop_files, "Approve 2020.06")
    verdicts = []
    for rev in ("HEAD~2", "HEAD~1", "HEAD"):
        verdicts.append(
            main(
                [
                    "check",
                    "--repo",
                    str(repo),
                    "--base",
                    f"{rev}~1",
                    "--head",
                    rev,
                    "--format",
                    "json",
                ]
            )
        )
    assert verdicts[0] == 1  # the commit that broke next.json
    assert verdicts[1] == 0  # the commit that fixed it
    assert verdicts[2] in (0, 1)  # checkable; its verdict depends on the real 2020.06's content


def test_predecessors_follow_the_approval_order() -> None:
    from govbot.core.rules import predecessors

    docs = {
        "2019.11": {"status": "approved"},
        "2020.06": {"status": "approved"},
        "2018.02": {"status": "superseded"},
        "2021.01": {"status": "draft"},
        "next": {"status": "draft"},
        "dns.2020.06": {"status": "approved"},
        "dns.next": {"status": "draft"},
        "orchestration.next": {"status": "draft"},
    }
    assert predecessors(docs) == {
        "2019.11": "2018.02",
        "2020.06": "2019.11",
        "2018.02": None,
        "2021.01": "2020.06",
        "next": "2020.06",
        "dns.2020.06": None,
        "dns.next": "dns.2020.06",
        "orchestration.next": None,
    }
