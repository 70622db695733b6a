"""Roles named in policies/voting.yaml must be roles of policies/committee.yaml."""

from __future__ import annotations

import pytest

from govbot.core.check import check
from govbot.core.findings import Severity
from govbot.core.validate import validate_files
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from tests.conftest import REPO

VOTING, COMMITTEE = "policies/voting.yaml", "policies/committee.yaml"


def unknown_roles(files: dict[str, bytes]) -> list[tuple[int, tuple[str | int, ...], str]]:
    return [
        (f.line, f.path, f.message)
        for f in validate_files(files, bundled.schema_set())
        if f.rule == "policy.unknown-role"
    ]


def test_the_bundled_policies_name_only_defined_roles() -> None:
    assert unknown_roles(read_directory(REPO)) == []


def test_an_approval_or_veto_by_an_undefined_role_is_an_error_at_its_line() -> None:
    files = read_directory(REPO)
    text = files[VOTING].decode()
    text = text.replace("approvals: {chair: 1}", "approvals: {chiar: 1}", 1)
    text = text.replace("veto: [chair]", "veto: [chair, secretary]", 1)
    files[VOTING] = text.encode()
    found = unknown_roles(files)
    lines = text.splitlines()
    assert [(lines[line - 1].strip(), path) for line, path, _ in found] == [
        ("approvals: {chiar: 1}", ("classes", 0, "rule", "approvals", "chiar")),
        ("veto: [chair, secretary]", ("classes", 0, "rule", "veto", 1)),
    ]
    assert "role 'chiar' is not a role of policies/committee.yaml" in found[0][2]
    assert "it defines: board, chair, member" in found[0][2]
    severities = {f.severity for f in validate_files(files, bundled.schema_set())
                  if f.rule == "policy.unknown-role"}  # fmt: skip
    assert severities == {Severity.ERROR}


def test_without_roles_the_committee_has_the_default_ones() -> None:
    files = read_directory(REPO)
    committee = files[COMMITTEE].decode()
    start, end = committee.index("roles:"), committee.index("# Every current member")
    files[COMMITTEE] = (committee[:start] + committee[end:]).encode()
    assert unknown_roles(files) == []  # chair and member are the defaults
    files[VOTING] = files[VOTING].replace(b"veto: [chair]", b"veto: [board]", 1)
    assert [path for _, path, _ in unknown_roles(files)] == [("classes", 0, "rule", "veto", 0)]


def test_the_rule_can_be_switched_off_by_the_validation_policy() -> None:
    files = read_directory(REPO)
    files[VOTING] = files[VOTING].replace(b"veto: [chair]", b"veto: [secretary]", 1)
    files["policies/validation.yaml"] = files["policies/validation.yaml"].replace(
        b"  rules:\n", b"  rules:\n    policy.unknown-role: {severity: off}\n", 1
    )
    assert unknown_roles(files) == []


def test_a_change_that_renames_a_role_away_is_blocked() -> None:
    base = read_directory(REPO)
    head = dict(base)
    head[COMMITTEE] = base[COMMITTEE].replace(b"  chair:\n", b"  co-chair:\n", 1)
    result = check(base, head, bundled.schema_set(), None)
    assert result.errors > 0
    assert {f.file for f in result.findings if f.rule == "policy.unknown-role"} == {VOTING}


# -- the flag-request days (2017A C3.3): one source ------------------------------------


def test_flag_request_days_the_time_line_disagrees_with_are_a_conflict_at_its_line() -> None:
    """certification.yaml says how many days govbot acts on; timeline.yaml may only agree."""
    from govbot.core.policies import Policies, PolicyUnusable

    files = read_directory(REPO)
    assert [
        f for f in validate_files(files, bundled.schema_set()) if f.rule == "policy.conflict"
    ] == []
    timeline = files["policies/timeline.yaml"].decode()
    files["policies/timeline.yaml"] = timeline.replace(
        "within_days: 30", "within_days: 20"
    ).encode()
    [found] = [
        f for f in validate_files(files, bundled.schema_set()) if f.rule == "policy.conflict"
    ]
    line = timeline.splitlines()[found.line - 1].strip()
    assert (found.file, line, found.severity) == (
        "policies/timeline.yaml",
        "within_days: 30",
        Severity.ERROR,
    )
    assert "within 20 day(s) here and within 30 in policies/certification.yaml" in found.message
    with pytest.raises(PolicyUnusable) as raised:  # no vote is judged by contradictory rules
        Policies.load(files, bundled.schema_set())
    assert [f.rule for f in raised.value.findings] == ["policy.conflict"]
    # left out of the time line, the certification policy's number is the only one
    files["policies/timeline.yaml"] = timeline.replace("    within_days: 30\n", "").encode()
    assert not [f for f in validate_files(files, bundled.schema_set()) if f.severity is Severity.ERROR and f.file.startswith("policies/")]  # fmt: skip
    assert Policies.load(files, bundled.schema_set()).certification.flag_ack_days == 30


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("default_class: editorial", "default_class: editoral", "is not a class of"),
        ("substantive_class: guideline-change", "substantive_class: nope", "is not a class of"),
        ("substantive_class: guideline-change", "substantive_class: editorial", "is an editorial"),
    ],
)
def test_a_class_name_that_names_no_usable_class_is_an_error_at_its_line(
    old: str, new: str, says: str
) -> None:
    """Else a change no class matches is judged by the built-in rule: one vote, no wait."""
    files = read_directory(REPO)
    text = files[VOTING].decode().replace(old, new)
    files[VOTING] = text.encode()
    [found] = [
        f for f in validate_files(files, bundled.schema_set()) if f.rule == "policy.unknown-class"
    ]
    assert text.splitlines()[found.line - 1] == new and says in found.message
    assert found.severity is Severity.ERROR
