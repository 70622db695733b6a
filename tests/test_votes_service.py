"""Votes and the clock as a service: edge cases the scenario does not walk through."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.store.models import AuditEntry, ClockEvent, ReportRow
from tests.test_vote_scenario import GH_KEY, T0, Bot, approve, build_revisions, command, pull


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


def audit(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return [a for (a,) in conn.execute(select(AuditEntry.action).order_by(AuditEntry.id))]


def opened(engine: Any, revisions: dict[str, Any]) -> Bot:
    bot = Bot(engine, revisions["repo"])
    bot.github("pull_request", pull("opened", revisions["base"], revisions["head1"], T0))
    return bot


def test_unknown_commands_get_a_short_reply(engine: Any, revisions: dict[str, Any]) -> None:
    bot = opened(engine, revisions)
    bot.github("issue_comment", command("member-carol", "/vtoe +1", T0 + timedelta(minutes=1)))
    with engine.connect() as conn:
        body = conn.execute(
            select(ReportRow.body).where(
                ReportRow.kind == "comment", ReportRow.title == "<!-- govbot:help -->"
            )
        ).scalar_one()
    assert "/vote +1" in body and "/hold" in body


def test_a_hold_by_someone_not_allowed_is_shown_and_ignored(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = opened(engine, revisions)
    bot.github("issue_comment", command("member-carol", "/hold", T0 + timedelta(minutes=1)))
    assert bot.state(GH_KEY) == "pending"
    bot.github("issue_comment", command("chair-bob", "/hold", T0 + timedelta(minutes=2)))
    assert bot.state(GH_KEY) == "held"
    bot.github("issue_comment", command("chair-bob", "/unhold", T0 + timedelta(minutes=3)))
    assert bot.state(GH_KEY) == "pending"


def test_votes_on_a_closed_review_are_ignored_and_logged(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = opened(engine, revisions)
    closed = pull("closed", revisions["base"], revisions["head1"], T0 + timedelta(minutes=5))
    bot.github("pull_request", closed)
    bot.github(
        "pull_request_review",
        approve("member-carol", revisions["head1"], T0 + timedelta(minutes=6)),
    )
    assert audit(engine)[-1] == "vote-on-closed-review-ignored"


def test_a_vote_cast_changed_withdrawn_and_cast_again(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = opened(engine, revisions)
    for minutes, body in [(1, "/vote +1"), (2, "/vote -1"), (3, "/vote 0"), (4, "/vote +1")]:
        bot.github("issue_comment", command("member-carol", body, T0 + timedelta(minutes=minutes)))
    assert "| Carol Example (@member-carol) | member | +1 | yes | member |" in bot.vote_report(
        GH_KEY
    )


def test_two_clocks_at_once_act_once_and_a_restarted_clock_does_not_repeat(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = opened(engine, revisions)
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob", "chair-alice"]):
        bot.github(
            "pull_request_review", approve(login, revisions["head1"], T0 + timedelta(minutes=i + 1))
        )
    bot.now = T0 + timedelta(days=8)
    other = Bot(engine, revisions["repo"])
    other.now = bot.now
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.tick()))
        for c in (bot.clock, other.clock)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]
    with engine.connect() as conn:
        assert len(conn.execute(select(ClockEvent.key)).all()) == 1
    restarted = Bot(engine, revisions["repo"])
    restarted.now = bot.now + timedelta(minutes=1)
    assert restarted.clock.tick() == []
    assert bot.state(GH_KEY) == "passed"


def test_a_reminder_before_the_decision(
    engine: Any, revisions: dict[str, Any], tmp_path: Path
) -> None:
    bot = opened(engine, revisions)
    bot.now = T0 + timedelta(days=6, hours=12)  # less than a day left
    assert bot.clock.tick() == [f"remind:{GH_KEY}:1d:{(T0 + timedelta(days=7)).isoformat()}"]
    assert bot.clock.tick() == []
    assert "reminded" in audit(engine)


def test_tally_what_if_from_a_votes_file(tmp_path: Path, capsys: Any) -> None:
    from govbot.cli import main
    from tests.conftest import REPO

    votes = tmp_path / "votes.yaml"
    votes.write_text(
        "- {account: chair-alice, value: 1, at: '2026-01-01T10:00:00+00:00'}\n"
        "- {account: member-carol, value: 1, at: '2026-01-01T11:00:00+00:00'}\n"
        "- {account: member-dave, value: 1, at: '2026-01-01T12:00:00+00:00'}\n"
    )
    args = [
        "tally",
        "--votes",
        str(votes),
        "--base",
        str(REPO),
        "--class",
        "new-required-capability",
        "--opened",
        "2026-01-01T00:00:00+00:00",
    ]
    assert main([*args, "--now", "2026-01-09T00:00:00+00:00"]) == 0
    assert "**Vote: passed**" in capsys.readouterr().out
    assert main([*args, "--now", "2026-01-02T00:00:00+00:00"]) == 1
    assert "**Vote: pending**" in capsys.readouterr().out
