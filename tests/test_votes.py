"""Tallying a committee's votes on one review: every rule of govbot.core.votes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

import pytest

from govbot.core.policy import Committee, Member, VoteRule
from govbot.core.votes import Ballot, Tally, render_markdown, tally

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # a Monday; New York moves to EDT on 2025-03-09
HEAD = "c0ffee0123456789"
OLD = "deadbeef98765432"


def seat(name: str, role: str, **kw: object) -> Member:
    """A member whose account ids on both forges are their login (ids are opaque strings)."""
    login = name.lower()
    ids = {"github": login, "github_id": login, "gerrit": login, "gerrit_id": login}
    return Member(name, roles=(role,), **{**ids, **kw})  # type: ignore[arg-type]


ALICE = seat("Alice", "chair")
BOB = seat("Bob", "chair")
CAROL = seat("Carol", "member")
DAVE = seat("Dave", "member")
ERIN = seat("Erin", "member")
COMMITTEE = Committee((ALICE, BOB, CAROL, DAVE, ERIN), timezone="America/New_York")
POLICY = VoteRule(
    quorum=3,
    ratio=Fraction(2, 3),
    of="committee",
    approvals=(("chair", 1),),
    veto=frozenset({"chair"}),
    min_days_open=7,
    stale_on_change=True,
)
EDITORIAL = VoteRule(quorum=2, ratio=Fraction(1, 2), of="cast", strict=True, min_days_open=3)


def vote(who: str, value: int | None, hours: float, sha: str | None = HEAD, forge: str = "github") -> Ballot:  # fmt: skip
    return Ballot(forge, who, "vote", value, T0 + timedelta(hours=hours), sha, "review")


def act(who: str, kind: str, hours: float, forge: str = "github") -> Ballot:
    return Ballot(forge, who, kind, None, T0 + timedelta(hours=hours), None, "comment")


def run(
    ballots: list[Ballot],
    rule: VoteRule = POLICY,
    days: float = 8,
    committee: Committee = COMMITTEE,
    head: str = HEAD,
    **kw: datetime,
) -> Tally:
    return tally(ballots, committee, rule, T0 + timedelta(days=days), T0, head, **kw)


def why(outcome: Tally) -> dict[str, tuple[str, bool, str]]:
    return {r.name: (r.vote, r.binding, r.why) for r in outcome.rows}


CHANGED_MIND = [
    vote("carol", 1, 1),
    vote("dave", 1, 2),
    vote("alice", -1, 3),
    vote("erin", 1, 4),
    vote("alice", 1, 30),
]


def test_three_members_and_a_chair_who_changes_their_mind() -> None:
    assert run(CHANGED_MIND[:4]).state == "blocked"  # the chair's -1 is a veto meanwhile
    before = run(CHANGED_MIND, days=6.5)
    assert before.state == "pending"
    assert before.earliest_decision == T0 + timedelta(days=7)
    assert render_markdown(before, COMMITTEE) == (
        "**Vote: pending** — earliest decision 2025-03-10 08:00 EDT (2025-03-10 12:00 UTC)\n"
        "\n"
        "Pending: the minimum review time of 7 days ends 2025-03-10 12:00 UTC; "
        "so far 4 for, 0 against, 0 abstaining of 5 members.\n"
        "\n"
        "| Member | Role | Vote | Counts | Why |\n"
        "|---|---|---|---|---|\n"
        "| Alice (@alice) | chair | +1 | yes | member |\n"
        "| Bob (@bob) | chair | — | no | not voted yet |\n"
        "| Carol (@carol) | member | +1 | yes | member |\n"
        "| Dave (@dave) | member | +1 | yes | member |\n"
        "| Erin (@erin) | member | +1 | yes | member |\n"
        "\n"
        "Still to vote: Bob.\n"
    )
    after = run(CHANGED_MIND, days=7)
    assert after.state == "passed" and after.earliest_decision is None
    assert (after.counts.yes, after.counts.no, after.counts.abstain) == (4, 0, 0)
    assert after.missing == ("Bob",)
    assert render_markdown(after, COMMITTEE).splitlines()[0:3] == [
        "**Vote: passed** — minimum review time ended 2025-03-10 08:00 EDT (2025-03-10 12:00 UTC)",
        "",
        "Passed: 4 for, 0 against, 0 abstaining of 5 members; at least 2/3 of the committee "
        "reached, quorum and approvals met.",
    ]


def test_a_non_members_vote_is_shown_not_counted() -> None:
    o = run([vote("alice", 1, 1), vote("carol", 1, 2), vote("mallory", 1, 3)], EDITORIAL)
    assert why(o)["mallory"] == ("+1", False, "not on the committee")
    assert o.counts.yes == 2 and o.state == "passed"
    assert o.rows[-1].name == "mallory" and not o.rows[-1].member  # after the members
    assert "| @mallory | — | +1 | no | not on the committee |" in render_markdown(o, COMMITTEE)


def test_vote_cast_changed_withdrawn_and_cast_again() -> None:
    ballots = [vote("carol", 1, 1), vote("carol", -1, 2), act("carol", "withdraw", 3)]
    o = run(ballots, EDITORIAL)
    assert why(o)["Carol"] == ("—", False, "withdrawn")
    assert o.counts.no == 0 and "Carol" in o.missing
    o = run([*ballots, vote("carol", 0, 4)], EDITORIAL)
    assert why(o)["Carol"] == ("0", True, "abstained")
    assert (o.counts.yes, o.counts.no, o.counts.abstain) == (0, 0, 1)
    assert "Carol" not in o.missing
    o = run([*ballots, vote("carol", 1, 5)], EDITORIAL)
    assert why(o)["Carol"] == ("+1", True, "member") and o.counts.yes == 1


def test_stale_votes_drop_after_a_new_head() -> None:
    ballots = [vote("alice", 1, 1, OLD), vote("carol", 1, 2, OLD), vote("dave", 1, 3)]
    o = run(ballots, EDITORIAL)
    assert why(o)["Alice"] == ("+1", False, "stale: cast on deadbee")
    assert o.counts.yes == 1 and o.missing == ("Alice", "Bob", "Carol", "Erin")
    assert o.state == "pending"
    kept = run(ballots, replace(EDITORIAL, stale_on_change=False))
    assert why(kept)["Alice"] == ("+1", True, "member")
    assert kept.counts.yes == 3 and kept.state == "passed"
    no_sha = run([vote("alice", 1, 1, None), vote("carol", 1, 2, None)], EDITORIAL)
    assert no_sha.counts.yes == 2  # a vote not tied to a revision counts on any head


def test_a_member_removed_from_the_roster_mid_review_stops_counting() -> None:
    ballots = [vote("alice", 1, 1), vote("bob", 1, 2), vote("carol", 1, 3), vote("dave", 1, 4)]
    assert run(ballots).state == "passed"
    smaller = Committee((ALICE, BOB, CAROL, ERIN), timezone="America/New_York")
    o = run(ballots, committee=smaller)
    assert why(o)["dave"] == ("+1", False, "not on the committee")
    assert o.counts.yes == 3 and o.needed.threshold == 0  # 2/3 of 4 members: 3
    assert o.state == "passed"
    o = run(ballots[1:], committee=smaller)  # without Alice, Erin's +1 is still possible
    assert o.state == "pending" and o.needed.threshold == 1 and o.missing == ("Alice", "Erin")


def test_a_term_that_ended_stops_counting() -> None:
    ended = Member(
        "Carol", github="carol", github_id="carol", roles=("member",), term_until=date(2025, 3, 5)
    )
    committee = Committee((ALICE, BOB, ended, DAVE, ERIN))
    ballots = [vote("alice", 1, 1), vote("carol", 1, 2), vote("dave", 1, 3)]
    o = run(ballots, EDITORIAL, committee=committee)
    assert why(o)["Carol"] == ("+1", False, "term ended")
    assert o.counts.yes == 2 and "Carol" not in o.missing
    # re-rendering at the time the decision was taken uses that day's roster
    then = run(ballots, EDITORIAL, committee=committee, committee_at=T0 + timedelta(days=1))
    assert why(then)["Carol"] == ("+1", True, "member") and then.counts.yes == 3


def test_hold_by_a_chair_holds_and_unhold_releases() -> None:
    ballots = [vote("alice", 1, 1), vote("bob", 1, 1), vote("carol", 1, 2), vote("dave", 1, 2)]
    held = run([*ballots, act("bob", "hold", 3)])
    assert held.state == "held" and held.holds == ("Bob",)
    assert held.explanation.startswith("On hold by Bob")
    assert run([*ballots, act("bob", "hold", 3), act("bob", "unhold", 4)]).state == "passed"
    # any chair may release; a member may not release a chair's hold
    other = run([*ballots, act("bob", "hold", 3), act("alice", "unhold", 4)])
    assert other.state == "passed"
    refused = run([*ballots, act("bob", "hold", 3), act("carol", "unhold", 4)])
    assert refused.state == "held"
    assert [(i.account, i.kind) for i in refused.ignored] == [("carol", "unhold")]


def test_hold_by_someone_not_allowed_is_ignored_and_reported() -> None:
    ballots = [vote("alice", 1, 1), vote("carol", 1, 2), act("dave", "hold", 3)]
    o = run([*ballots, act("mallory", "hold", 4)], EDITORIAL)
    assert o.state == "passed" and o.holds == ()
    assert [(i.account, i.why) for i in o.ignored] == [
        ("dave", "member may not hold; a chair may"),
        ("mallory", "not on the committee"),
    ]
    text = render_markdown(o, COMMITTEE)
    assert "Ignored: /hold by @dave (member may not hold; a chair may)." in text
    assert "Ignored: /hold by @mallory (not on the committee)." in text


def test_a_chair_veto_blocks() -> None:
    ballots = [vote("bob", 1, 1), vote("carol", 1, 1), vote("dave", 1, 1), vote("erin", 1, 1)]
    o = run([*ballots, vote("alice", -1, 2)])
    assert o.state == "blocked" and o.blocked_by == ("Alice",)
    assert o.counts.yes == 4  # enough to pass but for the veto
    assert run([*ballots, vote("alice", -1, 2, OLD)]).state == "passed"  # a stale veto lapses
    assert run([*ballots[1:], vote("carol", -1, 2)]).state == "pending"  # members cannot veto


def test_quorum_not_reached_stays_pending() -> None:
    o = run([vote("alice", 1, 1)], EDITORIAL, days=30)
    assert o.state == "pending" and o.needed.quorum == 1 and o.needed.threshold == 0
    assert "1 more binding vote for the quorum of 2" in o.explanation
    assert "Needed: 1 more binding vote for the quorum of 2." in render_markdown(o, COMMITTEE)


def test_of_committee_threshold_fails_when_unreachable() -> None:
    # 2/3 of 5 members is 4 votes for: with Alice for and Carol against, the three
    # members who have not voted can still make it
    reachable = run([vote("alice", 1, 1), vote("carol", -1, 2)])
    assert reachable.state == "pending" and reachable.needed.threshold == 3
    ballots = [vote("alice", 1, 1), vote("carol", -1, 2), vote("dave", -1, 2)]
    assert run(ballots, days=6).state == "pending"  # never fails before the minimum time
    failing = run(ballots, days=8)
    assert failing.state == "failed" and failing.missing == ("Bob", "Erin")
    assert failing.explanation.startswith(
        "Failed: even if the 2 members who have not voted voted +1, it would still need "
        "3 more +1 for at least 2/3 of the committee"
    )
    # of "cast": two -1 against one +1 fail only when the missing cannot outvote them
    assert run(ballots, EDITORIAL).state == "pending"
    more_no = [*ballots, vote("erin", -1, 3), vote("bob", -1, 3)]
    failed = run(more_no, EDITORIAL)
    assert failed.state == "failed" and failed.missing == ()
    assert failed.explanation == (
        "Failed: everyone has voted and it would still need 4 more +1 for more than 1/2 of "
        "binding votes cast; so far 1 for, 4 against, 0 abstaining of 5 members."
    )


def test_gerrit_plus_and_minus_two() -> None:
    ballots = [
        vote("alice", 2, 1, forge="gerrit"),
        vote("carol", 1, 1, forge="gerrit"),
        vote("dave", -2, 2, forge="gerrit"),
    ]
    o = run(ballots, EDITORIAL)
    assert [(r.name, r.vote) for r in o.rows if r.binding] == [
        ("Alice", "+2"),
        ("Carol", "+1"),
        ("Dave", "-2"),
    ]
    assert (o.counts.yes, o.counts.no, o.state) == (2, 1, "passed")
    assert run([*ballots, vote("bob", -2, 3, forge="gerrit")]).state == "blocked"


def test_deadlines_in_utc_displayed_in_the_committee_timezone() -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    opened = datetime(2025, 3, 3, 17, 30, tzinfo=kolkata)  # 12:00 UTC
    deadline = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # 7 UTC days, across New York's DST
    ballots = [vote("alice", 1, 1), vote("bob", 1, 1), vote("carol", 1, 1), vote("dave", 1, 1)]
    early = tally(ballots, COMMITTEE, POLICY, deadline - timedelta(seconds=1), opened, HEAD)
    assert early.state == "pending" and early.earliest_decision == deadline
    assert early.earliest_decision.tzinfo is UTC
    header = render_markdown(early, COMMITTEE).splitlines()[0]
    assert header.endswith("earliest decision 2025-03-10 08:00 EDT (2025-03-10 12:00 UTC)")
    late = tally(ballots, COMMITTEE, POLICY, deadline, opened, HEAD)
    assert late.state == "passed" and late.earliest_decision is None
    assert late.decision_from == deadline
    berlin = Committee(COMMITTEE.members, timezone="Europe/Berlin")
    assert "earliest decision 2025-03-10 13:00 CET (2025-03-10 12:00 UTC)" in render_markdown(
        early, berlin
    )


def test_ties_at_the_same_timestamp_go_to_the_later_input() -> None:
    ballots = [vote("carol", 1, 2), vote("carol", -1, 2)]
    assert why(run(ballots, EDITORIAL))["Carol"][0] == "-1"
    assert why(run(ballots[::-1], EDITORIAL))["Carol"][0] == "+1"
    # ...while an earlier input with a later time still wins on time
    assert why(run([vote("carol", 1, 3), vote("carol", -1, 2)], EDITORIAL))["Carol"][0] == "+1"


def test_ballots_need_aware_times_and_a_known_kind() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Ballot("github", "a", "vote", 1, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="kind"):
        Ballot("github", "a", "approve", 1, T0)
    with pytest.raises(ValueError, match="now"):
        tally([], COMMITTEE, POLICY, datetime(2025, 1, 1), T0, HEAD)


def test_tally_is_linear_and_the_committee_index_is_reused() -> None:
    ballots = [vote(f"user{i}", 1, i / 100) for i in range(5000)] + [vote("alice", 1, 60)]
    o = run(ballots, EDITORIAL)
    assert len(o.rows) == 5005 and o.counts.yes == 1


def test_unanimity_of_votes_cast_cannot_be_reached_by_more_votes() -> None:
    unanimous = VoteRule(quorum=1, ratio=Fraction(1), of="cast")
    o = run([vote("alice", 1, 1), vote("carol", -1, 2)], unanimous)
    assert o.needed.threshold is None and o.state == "failed"
    assert "which new +1 votes alone cannot reach" in o.explanation
    assert run([vote("alice", 1, 1)], unanimous).state == "passed"
