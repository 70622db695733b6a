"""Flag requests (2017A C3) in the core: the commands, the tests they may name, the reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from govbot.core.certification import CertificationPolicy, reminder_due
from govbot.core.flag_requests import (
    ACKNOWLEDGED,
    FlagCommandError,
    FlagRequest,
    due_reminders,
    guidelines_holding,
    normal_test,
    parse_ack,
    parse_request,
)
from govbot.core.policies import Policies
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory

REBUILD = (
    "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_rebuild_server"
)
REBUILD_ID = "id-aaa6cdf3-55a7-461a-add9-1c8596b9a07c"
ALIAS = "tempest.api.compute.servers.test_create_server.ServersTestManualDisk.test_list_servers"
GONE = "tempest.api.network.test_routers.RoutersTest.test_update_router_reset_gateway_without_snat"
ASKED = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return read_directory(bundled.root())


def test_a_request_names_one_test_and_says_why() -> None:
    assert parse_request((REBUILD, "our", "hypervisor", "cannot")) == (
        REBUILD,
        "our hypervisor cannot",
    )
    assert parse_request((f"{REBUILD}[id-{REBUILD_ID[3:].upper()},smoke]", "why")) == (
        REBUILD_ID,
        "why",
    )
    assert parse_ack(("AAA6CDF355A7461AADD91C8596B9A07C",)) == (REBUILD_ID, "")
    assert parse_ack((REBUILD, "flagged", "in", "next")) == (REBUILD, "flagged in next")
    for bad, says in [
        ((), "which test?"),
        ((REBUILD,), "say why"),
        (("a b[c]", "x"), "not a test id"),
    ]:
        with pytest.raises(FlagCommandError, match=says.replace("?", r"\?")):
            parse_request(bad)
    with pytest.raises(FlagCommandError, match="which test"):
        parse_ack(())
    assert normal_test(f"id-{REBUILD_ID[3:].upper()}") == REBUILD_ID


def test_the_test_must_be_in_a_guideline_in_use(files: dict[str, bytes]) -> None:
    today = date(2026, 3, 2)
    assert guidelines_holding(files, REBUILD, today) == ["next", "2020.06", "2019.11"]
    assert guidelines_holding(files, REBUILD_ID, today) == ["next", "2020.06", "2019.11"]
    assert guidelines_holding(files, ALIAS, today) == ["next", "2020.06", "2019.11"]
    assert guidelines_holding(files, GONE, today) == []  # only in superseded guidelines
    assert "2018.02" in guidelines_holding(files, GONE, date(2018, 6, 1))  # in use then


def request(at: datetime = ASKED, days: int = 30) -> FlagRequest:
    return FlagRequest(
        "github:org/gov#3", REBUILD, "why", "acme", at, at + timedelta(days=days), "main"
    )


def test_reminders_before_the_deadline_and_on_it_the_latest_due_only(
    files: dict[str, bytes],
) -> None:
    """The time line's reminder days (3, 1) at the same local time, then the deadline."""
    timeline = Policies.from_files(files).timeline
    assert timeline is not None and timeline.reminder_days == (3, 1)
    r = request()

    def due(at: datetime, within: int = 30, req: FlagRequest = r) -> list[int]:
        return [x.days_before for x in due_reminders(timeline, within, [req], at)]

    assert due(ASKED + timedelta(days=26)) == []
    assert due(datetime(2026, 3, 29, 8, 59, tzinfo=UTC)) == []
    assert due(datetime(2026, 3, 29, 9, tzinfo=UTC)) == [3]
    assert due(datetime(2026, 3, 31, 10, tzinfo=UTC)) == [1]
    assert due(datetime(2026, 4, 1, 9, tzinfo=UTC)) == [0]
    assert due(datetime(2026, 4, 20, tzinfo=UTC)) == [0]  # overdue: the clock claims it once
    assert due(datetime(2026, 3, 19, 9, tzinfo=UTC), within=20) == [3]  # the policy's days
    assert due(datetime(2026, 4, 1, 9, tzinfo=UTC), req=replace(r, state=ACKNOWLEDGED)) == []
    # a branch with no time line reminds 3 and 1 days ahead, in UTC
    plain = [
        x.days_before for x in due_reminders(None, 30, [r], datetime(2026, 3, 29, 9, tzinfo=UTC))
    ]
    assert plain == [3]


def test_the_certification_policy_days_and_deadline_reminders() -> None:
    policy = CertificationPolicy.from_data({"flag_requests": {"acknowledge_within_days": 14}})
    assert policy.flag_ack_due(ASKED) == ASKED + timedelta(days=14)
    due = ASKED + timedelta(days=30)
    assert reminder_due(due, (7, 1), due - timedelta(days=8)) is None
    assert reminder_due(due, (7, 1), due - timedelta(days=7)) == 7
    assert reminder_due(due, (7, 1), due - timedelta(hours=2)) == 1
    assert reminder_due(due, (7, 1), due) == 0
    assert reminder_due(due, (), due - timedelta(days=1)) is None
    with pytest.raises(ValueError, match="naive"):
        reminder_due(due.replace(tzinfo=None), (7,), due)
