"""The committee roster and voting policy: files, schemas, loaders, classification."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from govbot.core.diff import Change, diff_guideline
from govbot.core.policy import FALLBACK, Committee, Member, VoteRule, VotingPolicy
from govbot.core.yamlio import parse_text
from govbot.repo import bundled
from tests.conftest import REPO

FILES = {"committee": "policies/committee.yaml", "voting": "policies/voting.yaml"}


def load(name: str) -> Any:
    parsed = parse_text(FILES[name], (REPO / FILES[name]).read_text(encoding="utf-8"))
    assert parsed.ok, parsed.findings
    return parsed.data


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://govbot.dev/schemas/{name}.schema.json"
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("name", ["committee", "voting"])
def test_default_policy_files_validate(name: str) -> None:
    text = (REPO / FILES[name]).read_text(encoding="utf-8")
    assert text.startswith(f"# yaml-language-server: $schema=../schemas/{name}.schema.json\n")
    assert list(validator(name).iter_errors(load(name))) == []
    # the bundled SchemaSet (jsonschema-rs, all schemas in one registry) agrees
    assert list(bundled.schema_set().issues(f"{name}.schema.json", load(name))) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("committee", {"members": [{"name": "No Account", "roles": ["member"]}]}),
        ("committee", {"members": [{"name": "A", "github": "a", "roles": ["member"], "term": {"until": "soon"}}]}),
        ("committee", {"roles": {"chair": {"may": ["merge"]}}, "members": []}),
        ("voting", {"classes": [{"name": "x", "rule": {"threshold": {"ratio": 1.5, "of": "cast"}}}], "default_class": "x"}),
        ("voting", {"classes": [{"name": "x", "rule": {"threshold": {"ratio": "2/3", "of": "all"}}}], "default_class": "x"}),
        ("voting", {"classes": [{"name": "x", "rule": {}, "match": {"path": ["a"]}}], "default_class": "x"}),
    ],
)  # fmt: skip
def test_schemas_reject_defects(name: str, data: dict[str, Any]) -> None:
    assert list(validator(name).iter_errors(data))


def test_default_committee_loads() -> None:
    c = Committee.from_data(load("committee"))
    assert c.timezone == "America/Chicago"
    chairs = [m.name for m in c.members if "chair" in m.roles]
    assert len(chairs) == 2
    assert c.roles_that_may("hold") == ("chair",) == c.roles_that_may("release")
    alice = c.member_for("github", "1000001", datetime(2025, 1, 1, tzinfo=UTC))
    assert alice is not None and c.may(alice, "hold") and c.may(alice, "release")
    # identity is the account id: the login alone, or a login with another id, is nobody
    assert c.member_for("github", "chair-alice", datetime(2025, 1, 1, tzinfo=UTC)) is None
    member, standing = c.entry_for(
        "github", "9999", datetime(2025, 1, 1, tzinfo=UTC), "Chair-Alice"
    )
    assert member is None and "account 1000001 is theirs" in standing


def policy() -> VotingPolicy:
    return VotingPolicy.from_data(load("voting"))


def test_policy_edit_is_a_policy_change() -> None:
    assert policy().classify(["policies/committee.yaml"], []).name == "policy-change"
    assert policy().classify(["guidelines/next.yaml", "policies/voting.yaml"], []).name == (
        "policy-change"
    )
    rule = policy().classify(["policies/voting.yaml"], []).rule
    assert (rule.ratio, rule.of, rule.approvals, rule.veto) == (
        Fraction(2, 3),
        "committee",
        (("chair", 1),),
        frozenset({"chair"}),
    )
    assert (rule.min_days_open, rule.stale_on_change) == (7, True)


def test_status_change_to_required_is_a_new_required_capability() -> None:
    base = {"components": {"c": {"capabilities": {"advisory": ["cap"], "required": []}}}}
    head = {"components": {"c": {"capabilities": {"advisory": [], "required": ["cap"]}}}}
    changes = diff_guideline("next", base, head)
    assert [c.kind for c in changes] == ["capability.status"]
    vc = policy().classify(["guidelines/next.yaml"], changes)
    assert vc.name == "new-required-capability"
    # the reverse move (required -> advisory) is not that, nor is it ever editorial
    back = diff_guideline("next", head, base)
    assert policy().classify(["guidelines/next.yaml"], back).name == "guideline-change"


def test_a_change_the_diff_cannot_read_is_never_editorial() -> None:
    """No structural change, but the file does not read one way (a duplicate key)."""
    assert policy().classify(["guidelines/next.yaml"], []).name == "editorial"
    assert policy().classify(["guidelines/next.yaml"], [], ambiguous=True).name == (
        "guideline-change"
    )


def test_approval_is_a_release() -> None:
    changes = diff_guideline("next", {"status": "draft"}, {"status": "approved"})
    assert policy().classify(["guidelines/next.yaml"], changes).name == "release"
    cut = diff_guideline("2025.03", None, {"status": "approved"})  # a release cut from next
    assert policy().classify(["guidelines/2025.03.yaml"], cut).name == "release"
    review = diff_guideline("next", {"status": "draft"}, {"status": "review"})
    assert policy().classify(["guidelines/next.yaml"], review).name == "guideline-change"


def test_a_flag_is_never_editorial_and_wording_is() -> None:
    flag = Change("next", "test.flag", ("capabilities", "c", "tests", "t", "flagged"), None, {})
    assert policy().classify(["guidelines/next.yaml", "README.md"], [flag]).name == (
        "guideline-change"
    )
    words = Change("next", "capability.field", ("capabilities", "c", "description"), "a", "b")
    vc = policy().classify(["guidelines/next.yaml", "README.md"], [words])
    assert vc.name == "editorial" and vc.rule.stale_on_change is False
    assert (vc.rule.quorum, vc.rule.of, vc.rule.strict, vc.rule.min_days_open) == (
        2,
        "cast",
        True,
        3,
    )


def test_first_match_wins_and_change_patterns() -> None:
    p = VotingPolicy.from_data(
        {
            "classes": [
                {"name": "a", "match": {"changes": ["cutoff@scoring.*"]}, "rule": {}},
                {"name": "b", "match": {"changes": ["cutoff", "other:true"]}, "rule": {}},
                {"name": "c", "match": {"paths": ["docs/**"]}, "rule": {}},
            ],
            "default_class": "c",
        }
    )
    assert p.classify([], [Change("g", "cutoff", ("scoring", "cutoff_score"), 1, 2)]).name == "a"
    assert p.classify([], [Change("g", "other", ("x",), None, True)]).name == "b"
    assert p.classify(["docs/a/b.md"], []).name == "c"
    assert p.classify(["README.md"], [Change("g", "other", ("x",), None, False)]).name == "c"


def test_terms_are_honoured() -> None:
    c = Committee.from_data(
        {
            "members": [
                {"name": "Old", "github": "Old-One", "github_id": 11, "roles": ["member"], "term": {"until": "2024-12-31"}},
                {"name": "New", "gerrit": "new", "gerrit_id": "12", "roles": ["member"], "term": {"from": "2025-01-01"}},
                {"name": "Back", "github": "back", "github_id": 13, "roles": ["member"], "term": {"from": "2020-01-01", "until": "2021-12-31"}},
                {"name": "Back", "github": "back", "github_id": 13, "roles": ["chair"], "term": {"from": "2024-01-01"}},
            ]
        }
    )  # fmt: skip
    eve = datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
    assert c.member_for("github", "11", eve) is not None
    assert c.member_for("github", "11", eve + timedelta(minutes=1)) is None
    assert c.entry_for("github", "11", eve + timedelta(days=1))[1] == "term ended"
    # terms are UTC days: 19:30 in New York on New Year's Eve is already 2025 in UTC
    ny_eve = datetime(2024, 12, 31, 19, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert c.member_for("github", "11", ny_eve) is None
    assert c.member_for("gerrit", "12", ny_eve) is not None
    assert c.entry_for("gerrit", "12", eve) == (c.members[1], "term not started")
    back = c.member_for("github", "13", datetime(2025, 6, 1, tzinfo=UTC))
    assert back is not None and back.roles == ("chair",)
    assert c.entry_for("github", "13", datetime(2023, 1, 1, tzinfo=UTC))[1] == "term not started"
    assert c.member_for("github", "99", eve) is None
    assert c.entry_for("github", "99", eve) == (None, "not on the committee")
    # a login names nobody: not Old's (even in another case), not New's
    assert c.member_for("github", "old-one", eve) is None
    assert c.member_for("github", "99", eve, login="old-one") is None


def test_missing_and_wrong_optional_keys() -> None:
    for data in (None, [], {}, {"members": "x", "roles": [], "timezone": 3}):
        c = Committee.from_data(data)
        assert c.members == () and c.timezone == "UTC"
        assert c.roles_that_may("release") == ("chair",)  # built-in roles
    c = Committee.from_data(
        {
            "timezone": "Mars/Olympus_Mons",
            "roles": {"chair": {"may": "hold"}, "member": None},
            "members": [
                {"github": "nameless", "roles": ["member"]},
                {"name": "Ann", "github": "ann", "roles": "chair", "term": {"until": "never"}},
                {"name": "Ben", "github": "ben", "roles": ["chair", 7], "term": "always"},
            ],
        }
    )
    assert [m.name for m in c.members] == ["Ann", "Ben"]
    assert c.tz is UTC  # an unknown zone displays in UTC rather than failing
    assert c.members[0] == Member("Ann", github="ann")
    assert c.members[1].roles == ("chair",) and not c.may(c.members[1], "hold")

    empty = VotingPolicy.from_data(None)
    assert empty.classify(["policies/x.yaml"], []) is FALLBACK
    assert FALLBACK.rule.strict  # the built-in rule is a simple majority of votes cast
    p = VotingPolicy.from_data(
        {
            "classes": [
                {"match": {"paths": ["x"]}},
                {"name": "loose", "match": {"paths": "x", "changes": [1]}, "rule": None},
                {
                    "name": "odd",
                    "rule": {
                        "quorum": -1,
                        "threshold": {"ratio": 0.667, "of": "everyone"},
                        "approvals": {"chair": "one", "member": 2, "board": 0},
                        "veto": "chair",
                        "min_days_open": "7",
                        "stale_on_change": "no",
                    },
                },
            ],
            "default_class": "odd",
        }
    )
    assert [vc.name for vc in p.classes] == ["loose", "odd"]
    assert p.classify(["x"], []).name == "odd"  # "loose" has no usable match: never matches
    assert p.classes[0].rule == VoteRule(strict=True)
    assert p.default.rule == VoteRule(
        quorum=1, ratio=Fraction(667, 1000), approvals=(("member", 2),), stale_on_change=True
    )
    assert VotingPolicy.from_data({"classes": [], "default_class": "gone"}).default is FALLBACK
    assert VotingPolicy.from_data(
        {"classes": [{"name": "x", "rule": {"threshold": {"ratio": "3/2", "of": "cast"}}}]}
    ).classes[0].rule.ratio == Fraction(1, 2)


def test_member_standing_uses_dates() -> None:
    m = Member("M", github="m", term_from=date(2025, 1, 1), term_until=date(2025, 1, 1))
    assert m.standing(datetime(2025, 1, 1, 12, tzinfo=UTC)) == "member"
    assert m.standing(datetime(2025, 1, 2, tzinfo=UTC)) == "term ended"
