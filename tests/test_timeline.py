"""The process calendar: milestones, what they allow, reminders, acknowledgements, DST, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from govbot.cli import main
from govbot.core.diff import Change
from govbot.core.timeline import Milestone, Timeline, TimelineError, format_local, local_midnight
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled
from tests.conftest import REPO

POLICY = REPO / "policies" / "timeline.yaml"
SCHEMA = REPO / "schemas" / "timeline.schema.json"
SECOND = timedelta(seconds=1)


def policy_data() -> dict[str, Any]:
    parsed = parse_bytes(str(POLICY), POLICY.read_bytes())
    assert parsed.ok, parsed.findings
    data: dict[str, Any] = parsed.data
    return data


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return Timeline.from_data(policy_data())


def at(t: Timeline, ident: str) -> datetime:
    return next(m.at for m in t.milestones if m.id == ident)


def one_cycle(tz: str = "UTC", **milestone: Any) -> dict[str, Any]:
    """A policy of one cycle and one milestone; a keyword set to None drops that key."""
    base = {"id": "M", "name": "Milestone", "offset_days": 0}
    m = {k: v for k, v in (base | milestone).items() if v is not None}
    return {
        "timezone": tz,
        "cycles": [{"guideline": "next", "summit": "2027-04-01", "milestones": [m]}],
    }


# -- the policy ------------------------------------------------------------------


def test_default_policy_validates_against_its_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://govbot.dev/schemas/timeline.schema.json"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(policy_data()))
    assert errors == []
    assert list(bundled.schema_set().issues("timeline.schema.json", policy_data())) == []
    first = POLICY.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/timeline.schema.json"


def test_default_policy_follows_2017a(timeline: Timeline) -> None:
    (cycle,) = timeline.cycles
    assert cycle.guideline == "next" and cycle.summit.year == 2027
    assert [m.id for m in cycle.milestones] == ["S-3", "S-2", "S-1", "S", "S+1", "S+2", "S+3"]
    summit = local_midnight(cycle.summit, timeline.tz)
    assert at(timeline, "S") == summit
    assert at(timeline, "S-3") < at(timeline, "S-2") < at(timeline, "S-1") < summit
    assert timeline.flag_requests.within_days == 30
    assert timeline.reminder_days == (3, 1)


def test_govbot_validate_checks_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """What registering the schema in POLICY_SCHEMAS gives: the policy is validated like the others."""
    from govbot.core import layout, validate

    monkeypatch.setitem(layout.POLICY_SCHEMAS, "policies/timeline.yaml", "timeline.schema.json")
    files = {"policies/timeline.yaml": POLICY.read_bytes()}
    assert validate.validate_files(files, bundled.schema_set()) == []
    files = {"policies/timeline.yaml": POLICY.read_bytes().replace(b"within_days", b"within")}
    found = validate.validate_files(files, bundled.schema_set())
    assert {f.rule for f in found} >= {"schema.unknown-key"}


def test_schema_rejects_a_milestone_with_two_dates() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    bad = one_cycle(date="2027-01-01")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(one_cycle()))


# -- status ----------------------------------------------------------------------


@pytest.mark.parametrize("index", range(7))
def test_status_around_each_milestone(timeline: Timeline, index: int) -> None:
    ms = timeline.milestones
    m = ms[index]
    before = timeline.status(m.at - SECOND)
    assert before.next == m
    assert before.last == (ms[index - 1] if index else None)
    assert before.left == SECOND
    for now in (m.at, m.at + SECOND):
        status = timeline.status(now)
        assert status.last == m
        assert status.next == (ms[index + 1] if index + 1 < len(ms) else None)


def test_status_phase_and_days_left(timeline: Timeline) -> None:
    start, end = at(timeline, "S-3"), at(timeline, "S+3")
    assert timeline.status(start - SECOND).phase == "before"
    assert timeline.status(start).phase == "during"
    assert timeline.status(end - SECOND).phase == "during"
    assert timeline.status(end).phase == "after"
    status = timeline.status(at(timeline, "S-1") - timedelta(days=3, hours=5))
    assert status.days_left == 3  # whole days: 3 days 5 hours is 3
    assert timeline.status(end).days_left is None


def test_status_lists_what_is_allowed_now(timeline: Timeline) -> None:
    status = timeline.status(at(timeline, "S-2") + timedelta(days=1))
    assert set(status.allowed) == {"new-capability"}
    assert set(status.forbidden) == {"criteria-change", "review", "approval"}
    assert "A4.3" in status.forbidden["criteria-change"]


# -- allows ----------------------------------------------------------------------


def test_criteria_freeze_when_the_draft_is_published(timeline: Timeline) -> None:
    s3 = at(timeline, "S-3")
    ok, why = timeline.allows("criteria-change", s3 - SECOND)
    assert ok and "allowed until S-3" in why
    ok, why = timeline.allows("criteria-change", s3)
    assert not ok
    assert why.startswith("criteria-change is forbidden since S-3 (Draft published) of next")
    assert "A4.3" in why and format_local(s3, timeline.tz) in why
    ok, why = timeline.allows("criteria-change", at(timeline, "S+3"))
    assert ok and "since S+3" in why and "A4.2" in why


def test_a_window_is_closed_before_it_opens(timeline: Timeline) -> None:
    ok, why = timeline.allows("new-capability", at(timeline, "S-3"))
    assert not ok and why.startswith("new-capability is not allowed before S-2")
    assert timeline.allows("new-capability", at(timeline, "S-2"))[0]
    ok, why = timeline.allows("new-capability", at(timeline, "S-1"))
    assert not ok and "forbidden since S-1" in why
    ok, why = timeline.allows("approval", at(timeline, "S+3") - SECOND)
    assert not ok and "S-3" in why and "S+3" in why
    ok, why = timeline.allows("approval", at(timeline, "S+3") + timedelta(days=400))
    assert ok and "allowed since S+3" in why


def test_an_action_no_milestone_names_is_free(timeline: Timeline) -> None:
    ok, why = timeline.allows("lunch", at(timeline, "S"))
    assert ok and "no milestone restricts lunch" in why and "criteria-change" in why


# -- due -------------------------------------------------------------------------


def test_reminders_fall_3_and_1_days_before_a_deadline(timeline: Timeline) -> None:
    s1 = at(timeline, "S-1")
    due = timeline.due(s1 - timedelta(days=4), 5)
    assert [(d.kind, d.days_before, d.milestone.id) for d in due] == [
        ("reminder", 3, "S-1"),
        ("reminder", 1, "S-1"),
        ("milestone", 0, "S-1"),
    ]
    assert [d.at for d in due] == [s1 - timedelta(days=3), s1 - timedelta(days=1), s1]
    # the window is [now, now + horizon): a reminder due now is listed, one at the end is not
    assert [d.days_before for d in timeline.due(s1 - timedelta(days=3), 2)] == [3]
    assert timeline.due(s1 + SECOND, 10) == []
    with pytest.raises(ValueError, match="horizon_days"):
        timeline.due(s1, -1)


# -- acknowledgements --------------------------------------------------------------


def test_a_flag_request_is_overdue_after_30_days(timeline: Timeline) -> None:
    opened = datetime(2027, 5, 1, 12, tzinfo=UTC)
    requests = [("gerrit:12345", opened, None)]
    assert timeline.overdue_acknowledgements(requests, opened + timedelta(days=29)) == []
    assert timeline.overdue_acknowledgements(requests, opened + timedelta(days=30)) == []
    (late,) = timeline.overdue_acknowledgements(requests, opened + timedelta(days=31))
    assert late.key == "gerrit:12345"
    assert late.due_at == opened + timedelta(days=30)
    assert late.overdue_by == timedelta(days=1)


def test_an_acknowledged_request_is_not_overdue(timeline: Timeline) -> None:
    opened = datetime(2027, 5, 1, tzinfo=UTC)
    now = opened + timedelta(days=40)
    acked = [("a", opened, opened + timedelta(days=35))]  # late, but answered
    assert timeline.overdue_acknowledgements(acked, now) == []
    future = [("b", opened, now + timedelta(days=1))]  # not yet answered at `now`
    assert [o.key for o in timeline.overdue_acknowledgements(future, now)] == ["b"]


def test_flag_requests_are_recognised_by_label_or_diff(timeline: Timeline) -> None:
    rule = timeline.flag_requests
    adds = Change("next", "test.flag", ("capabilities",), None, {"reason": "r", "action": "a"})
    drops = Change("next", "test.flag", ("capabilities",), {"reason": "r"}, None)
    assert rule.recognises(labels=["flag-request"])
    assert rule.recognises(changes=[adds])
    assert not rule.recognises(labels=["docs"], changes=[drops])


# -- time zones --------------------------------------------------------------------


def test_dates_are_local_midnight_across_dst() -> None:
    """Berlin moves to CEST at 02:00 on 2027-03-28: that midnight is still UTC+1, the next UTC+2."""
    data = one_cycle("Europe/Berlin")  # M: the summit, 2027-04-01
    data["cycles"][0]["milestones"] += [
        {"id": "A", "name": "a", "date": "2027-03-28"},
        {"id": "B", "name": "b", "date": "2027-03-29"},
        {"id": "W", "name": "a week before the summit", "offset_days": -7},
    ]
    t = Timeline.from_data(data)
    assert at(t, "A") == datetime(2027, 3, 27, 23, tzinfo=UTC)
    assert at(t, "B") == datetime(2027, 3, 28, 22, tzinfo=UTC)
    assert at(t, "B") - at(t, "A") == timedelta(hours=23)
    # offset_days counts calendar days: the summit (CEST) and a week before (CET)
    assert at(t, "M") == datetime(2027, 3, 31, 22, tzinfo=UTC)
    assert at(t, "W") == datetime(2027, 3, 24, 23, tzinfo=UTC)
    # a reminder is at local midnight too: 3 calendar days before B is 71 hours
    reminder = next(
        d for d in t.due(at(t, "W"), 10) if d.milestone.id == "B" and d.days_before == 3
    )
    assert reminder.at == datetime(2027, 3, 25, 23, tzinfo=UTC)
    assert format_local(at(t, "B"), t.tz) == "2027-03-29 00:00 CEST (2027-03-28 22:00 UTC)"


def test_default_policy_crosses_chicago_dst(timeline: Timeline) -> None:
    assert at(timeline, "S-2") == datetime(2027, 2, 19, 6, tzinfo=UTC)  # CST
    assert at(timeline, "S-1") == datetime(2027, 3, 21, 5, tzinfo=UTC)  # CDT


def test_format_local_shows_the_zone_and_utc() -> None:
    instant = datetime(2027, 7, 19, 5, tzinfo=UTC)
    assert format_local(instant, "America/Chicago") == "2027-07-19 00:00 CDT (2027-07-19 05:00 UTC)"
    assert format_local(instant, "UTC") == "2027-07-19 05:00 UTC"


def test_naive_datetimes_are_refused(timeline: Timeline) -> None:
    naive = datetime(2027, 3, 1, 12)
    calls = [
        lambda: timeline.status(naive),
        lambda: timeline.allows("review", naive),
        lambda: timeline.due(naive, 30),
        lambda: timeline.overdue_acknowledgements([], naive),
        lambda: timeline.overdue_acknowledgements([("k", naive, None)], datetime.now(UTC)),
        lambda: format_local(naive, "UTC"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive"):
            call()


# -- policy errors -----------------------------------------------------------------


def _two_cycles(second_summit: str) -> dict[str, Any]:
    data = one_cycle(offset_days=-90)
    data["cycles"][0]["milestones"].append({"id": "E", "name": "end", "offset_days": 90})
    data["cycles"].append(data["cycles"][0] | {"guideline": "2028.01", "summit": second_summit})
    return data


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        ({"timezone": "Mars/Olympus", "cycles": []}, "unknown timezone", ("timezone",)),
        (one_cycle(date="2027-01-01"), "offset_days or date", ("cycles", 0, "milestones", 0)),
        (
            one_cycle(offset_days=None, date="2027-02-30"),
            "not a date",
            ("cycles", 0, "milestones", 0, "date"),
        ),
        (
            one_cycle(effects={"allows": ["x"], "forbids": ["x"]}),
            "both allows and forbids x",
            ("cycles", 0, "milestones", 0, "effects"),
        ),
        (
            one_cycle(effects={"allows": ["x"], "why": {"y": "because"}}),
            "explains y",
            ("cycles", 0, "milestones", 0, "effects", "why", "y"),
        ),
        (_two_cycles("2027-08-01"), "starts", ("cycles", 1)),
        ({"timezone": "UTC", "cycles": [{"guideline": "next"}]}, "does not match", ()),
    ],
)
def test_policy_errors_point_at_the_key(
    data: dict[str, Any], message: str, path: tuple[Any, ...] | None
) -> None:
    with pytest.raises(TimelineError, match=message) as caught:
        Timeline.from_data(data)
    if path is not None:
        assert caught.value.path == path


def test_cycles_that_follow_each_other_are_fine() -> None:
    t = Timeline.from_data(_two_cycles("2027-11-01"))
    assert [c.guideline for c in t.cycles] == ["next", "2028.01"]
    between = t.cycles[0].end + timedelta(days=1)
    status = t.status(between)
    assert (status.cycle.guideline, status.phase) == ("2028.01", "before")
    assert isinstance(status.last, Milestone) and status.last.cycle == "next"


# -- the command -------------------------------------------------------------------


def test_cli_text_at_an_instant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "--repo", str(REPO), "--at", "2027-03-01T12:00Z"]) == 0
    out = capsys.readouterr().out
    assert "now:      2027-03-01 06:00 CST (2027-03-01 12:00 UTC)" in out
    assert "last:     S-2 New capabilities identified" in out
    assert "next:     S-1 Capabilities scored, 2027-03-21 00:00 CDT (2027-03-21 05:00 UTC)" in out
    assert "reminder: S-1 (Capabilities scored) of next in 3 days" in out
    assert "criteria-change is forbidden since S-3" in out


def test_cli_json_at_an_instant(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["timeline", "--repo", str(REPO), "--at", "2027-03-18T05:00:00+00:00"]
    assert main([*argv, "--format", "json", "--horizon", "7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["now"] == "2027-03-18T05:00:00Z"
    assert data["cycle"] == {"guideline": "next", "summit": "2027-04-20", "phase": "during"}
    assert data["next"]["id"] == "S-1" and data["next"]["days_left"] == 3
    assert [(d["kind"], d["days_before"]) for d in data["due"]] == [
        ("reminder", 3),
        ("reminder", 1),
        ("milestone", 0),
    ]
    assert sorted(data["forbidden"]) == ["approval", "criteria-change", "review"]
    assert list(data["allowed"]) == ["new-capability"]


def test_cli_defaults_to_the_bundled_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no policies/ here
    assert main(["timeline", "--at", "2027-03-01T12:00Z", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"] == str(
        bundled.root() / POLICY.relative_to(REPO)
    )


def test_cli_uses_the_current_directory_when_it_has_policies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["timeline"]) == 2  # policies/ without timeline.yaml: not the bundled one
    assert (
        f"{tmp_path / 'policies' / 'timeline.yaml'}: no timeline policy" in capsys.readouterr().err
    )


def _repo_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "timeline.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("timezone: UTC\ncycles:\n  - guideline: next\n    summit: [2027\n", ":5:1:", "YAML"),
        (
            "timezone: UTC\ncycles:\n  - guideline: next\n    summit: '2027-01-01'\n"
            "    milestones:\n      - {id: S, name: s}\n",
            ":6:9:",
            "offset_days",
        ),
        (
            "timezone: UTC\ncycles: []\nreminders: {}\ntimezone: UTC\n",
            ":4:1:",
            "duplicate key",
        ),
        (
            "cycles:\n  - guideline: next\n    summit: '2027-01-01'\n"
            "    milestones: [{id: S, name: s, offset_days: 0}]\ntimezone: Mars/Olympus\n",
            ":5:1:",
            "unknown timezone",
        ),
    ],
)
def test_cli_broken_policy_exits_2_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, what: str
) -> None:
    repo = _repo_with(tmp_path, text)
    assert main(["timeline", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert f"{repo / 'policies' / 'timeline.yaml'}{where}" in err and what in err


def test_cli_missing_policy_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "--repo", str(tmp_path)]) == 2
    assert "no timeline policy" in capsys.readouterr().err


def test_cli_refuses_a_naive_instant(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["timeline", "--repo", str(REPO), "--at", "2027-03-01T12:00"])
    assert exit_.value.code == 2
    assert "has no timezone" in capsys.readouterr().err
