"""The process's own rules, each violated and respected, through ``govbot check`` on the bundled files.

The bundled policies/timeline.yaml puts the 2017A cycle of ``next`` around a
summit on 2027-04-20: S-3 (draft published, criteria frozen) 2027-01-20, S-2
(new capabilities) 2027-02-19, S-1 (scoring; no new capabilities) 2027-03-21,
S+3 (Board approval) 2027-07-19, all at midnight America/Chicago. 2017A's time
line: "-3 months S-3 Draft status ... -2 months S-2 ID new Capabilities ...
+3 months S+3 Approve Guidance"; A4.3 "Scoring criteria factors or weights
cannot change after Draft is published".
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from govbot.cli import main
from govbot.core.policy import Committee, VoteRule
from govbot.core.ruledoc import rules_markdown
from govbot.core.timeline import Timeline
from govbot.core.votes import Ballot, tally
from govbot.core.yamlio import dump, parse_bytes
from govbot.repo import bundled
from tests.conftest import REPO
from tests.test_check import git, git_repo, real  # noqa: F401 (git_repo and real are fixtures)

CHECK = ("check", "--repo")
NEXT = "guidelines/next.yaml"
APPROVED = "guidelines/2020.06.yaml"
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> Path:
    """A git repository of the bundled files, one commit: the base (test_check's)."""
    found: Path = request.getfixturevalue("git_repo")
    return found


def commit(repo: Path, path: str, edit: Edit) -> None:
    data = copy.deepcopy(parse_bytes(path, (repo / path).read_bytes()).data)
    edit(data)
    (repo / path).write_text(dump(data), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "edit")


def check(repo: Path, at: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(
        [*CHECK, str(repo), "--base", "HEAD~1", "--head", "HEAD", "--at", at, "--format", "json"]
    )
    return code, json.loads(capsys.readouterr().out)


def new(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule and not f.get("inherited")]


def criteria(g: dict[str, Any]) -> dict[str, Any]:
    return g["scoring"]["criteria"]


def compute(g: dict[str, Any]) -> dict[str, list[str]]:
    return g["components"]["os_powered_compute"]["capabilities"]


# -- A4.3 bound to the cycle ------------------------------------------------------------


def rebalance(g: dict[str, Any]) -> None:
    """atomic 6 -> 7, tools 6 -> 5: the criteria change, their sum stays 100."""
    criteria(g)["atomic"]["weight"] = 7
    criteria(g)["tools"]["weight"] = 5


def test_criteria_freeze_when_the_draft_is_published_whatever_the_status(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, NEXT, rebalance)  # next's status stays draft, as interop's always did
    code, report = check(repo, "2027-03-01", capsys)
    frozen = new(report, "2017A.A4.3")
    assert code == 1 and {f["severity"] for f in frozen} == {"error"}
    assert "S-3 (Draft published) of next, 2027-01-20 00:00 CST" in frozen[0]["message"]
    # before the draft is published the change is free, with the Board's approval (A4.2)
    code, report = check(repo, "2026-12-01", capsys)
    assert code == 0 and not new(report, "2017A.A4.3")
    assert [f["severity"] for f in new(report, "2017A.A4.2")] == ["warning", "warning"]


# -- A4.1 / A4.4: scoring as data ----------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda g: criteria(g)["atomic"].update(weight=16), "sum to 110, not 100"),
        (lambda g: criteria(g).pop("proximity"), "scores on 11 criteria, the Board approved 12"),
        (
            lambda g: g["scoring"].update(cutoff_score=70),
            "cut-off score is 70, the approved one is 74",
        ),
    ],
)
def test_the_criteria_weights_and_cutoff_are_the_approved_ones(
    repo: Path, capsys: pytest.CaptureFixture[str], edit: Edit, says: str
) -> None:
    commit(repo, NEXT, edit)
    code, report = check(repo, "2026-12-01", capsys)
    findings = new(report, "2017A.A4.1")
    assert code == 1 and {f["severity"] for f in findings} == {"error"}
    assert [f for f in findings if says in f["message"]]


def test_the_bundled_scoring_is_the_approved_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, NEXT, lambda g: g.update(releases=["xena", "yoga", "zed", "antelope"]))
    code, report = check(repo, "2026-12-01", capsys)
    assert code == 0 and not new(report, "2017A.A4.1")


def weaken(g: dict[str, Any]) -> None:
    g["capabilities"]["compute-servers-lock"]["achievements"] = ["atomic", "clients"]


def test_required_capabilities_below_the_cutoff(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, NEXT, weaken)
    code, report = check(repo, "2026-12-01", capsys)
    (finding,) = new(report, "2017A.A4.4")
    assert code == 1 and finding["severity"] == "error"
    assert (
        "'compute-servers-lock'" in finding["message"]
        and "scores 16, below the cut-off 74" in finding["message"]
    )
    (score,) = [s for s in report["scores"] if s["capability"] == "compute-servers-lock"]
    assert (score["guideline"], score["score"], score["cutoff"]) == ("next", 16, 74)
    # the old shortfalls of next are reported too, as inherited
    assert [f for f in report["findings"] if f["rule"] == "2017A.A4.4" and f.get("inherited")]
    # the review comment scores what the change touched
    assert (
        main(
            [
                *CHECK,
                str(repo),
                "--base",
                "HEAD~1",
                "--head",
                "HEAD",
                "--at",
                "2026-12-01",
                "--format",
                "markdown",
            ]
        )
        == 1
    )
    comment = capsys.readouterr().out
    assert "| `next` | `compute-servers-lock` | required | 16 | 74 | BELOW the cut-off |" in comment


def test_below_the_cutoff_in_an_approved_guideline_is_history(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release approved with a weak capability: reported, as a warning (A4.4)."""

    def approve_weak(g: dict[str, Any]) -> None:
        weaken(g)
        g["status"] = "approved"

    commit(repo, NEXT, approve_weak)
    _, report = check(repo, "2027-08-01", capsys)
    assert [f["severity"] for f in new(report, "2017A.A4.4")] == ["warning"]


def test_advisory_capabilities_at_the_cutoff_are_candidates(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def candidate(g: dict[str, Any]) -> None:
        g["capabilities"]["compute-servers-strong"] = copy.deepcopy(
            g["capabilities"]["compute-servers-lock"]
        )
        g["capabilities"]["compute-servers-strong"]["tests"] = {
            "tempest.api.compute.servers.test_strong.StrongTest.test_strong": {
                "idempotent_id": "id-00000000-0000-4000-8000-0000000000cc"
            }
        }
        compute(g)["advisory"].append("compute-servers-strong")

    commit(repo, NEXT, candidate)
    code, report = check(repo, "2027-03-01", capsys)
    assert code == 0
    assert [f["severity"] for f in new(report, "govbot.cutoff-candidate")] == ["notice"]
    (score,) = [s for s in report["scores"] if s["capability"] == "compute-servers-strong"]
    assert score["verdict"] == "candidate for required"


# -- the windows of the time line -----------------------------------------------------------


def add_capability(g: dict[str, Any]) -> None:
    g["capabilities"]["compute-servers-new"] = copy.deepcopy(
        g["capabilities"]["compute-servers-lock"]
    )
    g["capabilities"]["compute-servers-new"]["tests"] = {
        "tempest.api.compute.servers.test_new.NewTest.test_new": {
            "idempotent_id": "id-00000000-0000-4000-8000-0000000000dd"
        }
    }
    compute(g)["advisory"].append("compute-servers-new")


def test_new_capabilities_come_in_their_window(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, NEXT, add_capability)
    code, report = check(repo, "2027-02-01", capsys)  # after S-3, before S-2
    (finding,) = new(report, "govbot.window")
    assert (
        code == 1
        and "new-capability is not allowed before S-2 (New capabilities identified)"
        in finding["message"]
    )
    assert "2027-02-19" in finding["message"]
    code, report = check(repo, "2027-03-01", capsys)  # between S-2 and S-1
    assert code == 0 and not new(report, "govbot.window")
    code, report = check(repo, "2027-04-01", capsys)  # after S-1: scored, closed
    assert (
        "new-capability is forbidden since S-1 (Capabilities scored)"
        in new(report, "govbot.window")[0]["message"]
    )


def test_the_board_approves_from_s_plus_3(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, NEXT, lambda g: g.update(status="approved"))
    code, report = check(repo, "2027-05-01", capsys)
    (finding,) = new(report, "govbot.window")
    assert (
        code == 1
        and "S+3 (Board approval)" in finding["message"]
        and "2027-07-19" in finding["message"]
    )
    code, report = check(repo, "2027-08-01", capsys)
    assert not new(report, "govbot.window")


# -- designated sections, section by section -------------------------------------------------


def sections(g: dict[str, Any], project: str, status: str = "required") -> dict[str, Any]:
    return g["designated_sections"][project][status]["sections"]


def test_a_section_designated_without_being_advisory_first(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, NEXT, lambda g: sections(g, "nova")["scheduler driver"].update(designated=True))
    code, report = check(repo, "2026-12-01", capsys)
    (finding,) = new(report, "2017A.A3.2")
    assert code == 1 and "'scheduler driver' of 'nova'" in finding["message"]
    (change,) = [c for c in report["changes"] if c["kind"] == "section.designation"]
    assert change["subject"] == "designated section 'scheduler driver' of nova"
    assert (change["before"], change["after"]) == (
        "required, not designated",
        "required, designated",
    )


def test_a_section_advisory_in_the_previous_guideline_may_become_designated(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def advise(g: dict[str, Any]) -> None:
        block = copy.deepcopy(g["designated_sections"]["nova"]["required"])
        block["sections"] = {
            "scheduler driver": {"description": "(Host and cell)", "designated": True}
        }
        g["designated_sections"]["nova"]["advisory"] = block

    commit(repo, APPROVED, advise)
    commit(repo, NEXT, lambda g: sections(g, "nova")["scheduler driver"].update(designated=True))
    _, report = check(repo, "2026-12-01", capsys)
    assert not new(report, "2017A.A3.2")


def test_a_designated_section_leaves_through_deprecation(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    undesignate = lambda g: sections(g, "neutron")["RPC"].update(designated=False)  # noqa: E731
    commit(repo, NEXT, undesignate)
    code, report = check(repo, "2026-12-01", capsys)
    (finding,) = new(report, "2017A.A3.1")
    assert code == 1 and "'RPC' of 'neutron'" in finding["message"]

    def deprecate(g: dict[str, Any]) -> None:
        g["designated_sections"]["neutron"]["deprecated"] = {
            "guidance": "going",
            "sections": {"RPC": {"description": "", "designated": True}},
        }

    git(repo, "reset", "-q", "--hard", "HEAD~1")
    commit(repo, APPROVED, deprecate)
    commit(repo, NEXT, undesignate)
    code, report = check(repo, "2026-12-01", capsys)
    assert not new(report, "2017A.A3.1")


# -- time: business days, closing dates, flag requests -----------------------------------------


def test_a_vote_counted_in_business_days_closes_on_its_date() -> None:
    """voting.yaml business_days + closes_after_days, on timeline.yaml's calendar (2027-07-05 is a holiday)."""
    timeline = Timeline.from_data(
        parse_bytes("t", (REPO / "policies/timeline.yaml").read_bytes()).data
    )
    committee = Committee.from_data(
        parse_bytes("c", (REPO / "policies/committee.yaml").read_bytes()).data
    )
    rule = VoteRule(quorum=3, min_days_open=1, closes_after_days=3, business_days=True)
    opened = datetime(2027, 7, 2, 15, tzinfo=UTC)  # Friday, 10:00 in Chicago
    early = tally(
        [],
        committee,
        rule,
        datetime(2027, 7, 5, 15, tzinfo=UTC),
        opened,
        None,
        calendar=timeline.calendar,
    )
    # Saturday, Sunday and Monday the 5th (a holiday) do not count
    assert early.decision_from == datetime(2027, 7, 6, 15, tzinfo=UTC)
    assert early.closes_at == datetime(2027, 7, 8, 15, tzinfo=UTC) and early.state == "pending"
    ballots = [
        Ballot("github", "chair-alice", "vote", 1, datetime(2027, 7, 3, tzinfo=UTC)),
        Ballot("github", "member-carol", "vote", 1, datetime(2027, 7, 3, tzinfo=UTC)),
    ]
    still_open = tally(
        ballots,
        committee,
        rule,
        datetime(2027, 7, 8, 14, tzinfo=UTC),
        opened,
        None,
        calendar=timeline.calendar,
    )
    assert still_open.state == "pending"  # two of the three votes of the quorum
    closed = tally(
        ballots,
        committee,
        rule,
        datetime(2027, 7, 8, 15, tzinfo=UTC),
        opened,
        None,
        calendar=timeline.calendar,
    )
    assert closed.state == "failed" and closed.explanation.startswith(
        "Failed: the vote closed 2027-07-08 15:00"
    )
    # without the business-day count, calendar days: closes Monday the 5th
    plain = VoteRule(quorum=3, min_days_open=1, closes_after_days=3)
    assert tally(
        [], committee, plain, opened, opened, None, calendar=timeline.calendar
    ).closes_at == datetime(2027, 7, 5, 15, tzinfo=UTC)


def test_flag_requests_are_acknowledged_within_30_days_with_reminders() -> None:
    """2017A C3.3 "acknowledge vendor requests to flag tests within 30 days"."""
    timeline = Timeline.from_data(
        parse_bytes("t", (REPO / "policies/timeline.yaml").read_bytes()).data
    )
    opened = datetime(2027, 3, 1, 18, tzinfo=UTC)
    requests = [("gh#1", opened, None), ("gh#2", opened, datetime(2027, 3, 5, tzinfo=UTC))]
    reminders = timeline.flag_reminders(requests, datetime(2027, 3, 20, tzinfo=UTC), 30)
    assert [(r.key, r.days_before) for r in reminders] == [("gh#1", 3), ("gh#1", 1), ("gh#1", 0)]
    assert reminders[-1].at == reminders[-1].due_at == datetime(2027, 3, 31, 18, tzinfo=UTC)
    overdue = timeline.overdue_acknowledgements(requests, datetime(2027, 4, 1, tzinfo=UTC))
    assert [o.key for o in overdue] == ["gh#1"]


# -- the rules table in the README ---------------------------------------------------------------


def test_the_readme_lists_every_rule_as_the_rules_table_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- rules: generated by `govbot rules`; do not edit -->\n", "<!-- /rules -->"
    assert start in readme and end in readme, "README.md lost its generated rules table"
    table = readme.split(start, 1)[1].split(end, 1)[0]
    expected = rules_markdown(bundled.eras())
    assert table == expected, "README.md's rules table differs: paste the output of `govbot rules`"
    assert main(["rules"]) == 0 and capsys.readouterr().out == expected
