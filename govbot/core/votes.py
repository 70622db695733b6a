"""Counting a committee's votes on one review: pure, deterministic and cheap.

The scheduler re-tallies every open review on each tick, so :func:`tally`
takes everything as arguments (``now`` included), touches no clock or store,
and costs one stable sort of the ballots (linear when they arrive in order)
plus one pass over the roster to list who has not voted. Each person's latest
act counts (ties at one instant go to the later input), and membership is
judged once, at ``committee_at`` (default ``now``): someone who left the
committee stops counting on every ballot, including the ones already cast.
A withdrawal takes back only the vote of the comment or review it names: once
a newer vote superseded that one, the withdrawal changes nothing, in whatever
order the forge delivered the two.

Precedence of states: held > blocked > pending > passed | failed. "failed"
means that, once the minimum time is over, the rule cannot be met even if
every active member without a counted vote voted +1: passing would need
someone to change a vote already cast. This holds for ``of: cast`` too (votes
against can outnumber what the missing members could add), and since people
can still change their votes, "failed" is reported, never enforced, here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from govbot.core.policy import Committee, Member, VoteRule
from govbot.core.timeline import Calendar

KINDS = ("vote", "withdraw", "hold", "unhold")
UNKNOWN_REVISION = "?"
"""The revision of a vote cast before the first head known for its review: never the head."""


@dataclass(frozen=True, slots=True)
class Ballot:
    """One recorded act; ``value`` is the raw vote (Gerrit's +2 stays +2).

    ``account`` is the voter's immutable account id, what identity is judged
    by; ``login`` is how they are shown. ``head_sha`` is the revision the act
    applies to, and ``source_id`` the review or comment that carries it.
    """

    forge: str
    account: str
    kind: str
    value: int | None
    at: datetime
    head_sha: str | None = None  # None: not tied to a revision (counts on any head)
    source: str = ""
    login: str = ""
    source_id: str = ""

    @property
    def shown(self) -> str:
        return self.login or self.account

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"ballot kind {self.kind!r} is not one of {KINDS}")
        _aware(self.at, "ballot time")


@dataclass(frozen=True)
class Row:
    name: str
    account: str
    roles: tuple[str, ...]
    vote: str  # as shown: "+1", "-2", "0", "—"
    binding: bool
    why: str
    member: bool  # has a roster entry (current or past): sorts among the members


@dataclass(frozen=True)
class Counts:
    yes: int = 0
    no: int = 0
    abstain: int = 0


@dataclass(frozen=True)
class Needed:
    quorum: int = 0  # more binding non-zero votes
    threshold: int | None = 0  # more binding +1; None: new +1 votes alone cannot reach it
    approvals: tuple[tuple[str, int], ...] = ()  # (role, more +1 votes from that role)


@dataclass(frozen=True)
class Ignored:
    account: str
    kind: str
    at: datetime
    why: str


@dataclass(frozen=True)
class Tally:
    state: str  # "held" | "blocked" | "pending" | "passed" | "failed"
    rows: tuple[Row, ...]
    counts: Counts
    needed: Needed
    missing: tuple[str, ...]  # active members without a counted vote, by name
    earliest_decision: datetime | None  # None once the minimum time is over
    decision_from: datetime  # opened_at + min_days_open, in UTC, always
    explanation: str
    rule: VoteRule
    holds: tuple[str, ...] = ()  # names of the members holding the review
    blocked_by: tuple[str, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    closes_at: datetime | None = None  # the rule's closing date, if it has one (UTC)


def tally(
    ballots: Iterable[Ballot],
    committee: Committee,
    rule: VoteRule,
    now: datetime,
    opened_at: datetime,
    head_sha: str | None,
    committee_at: datetime | None = None,
    forge: str | None = None,
    same_content: frozenset[str] = frozenset(),
    calendar: Calendar | None = None,
) -> Tally:
    """The state of one review under ``rule`` (see the module docstring).

    ``committee_at`` is the moment whose roster counts: ``now`` for an open
    review, the decision time when re-rendering a closed one. ``forge`` picks
    the account shown for members who have not voted (default: the ballots').
    ``same_content`` lists other revisions whose governed content is the
    head's: a vote cast on one of them is not stale, since only a change of
    content makes a vote stale, not a new commit id.
    ``calendar`` (the timeline's) counts the rule's days in business days when
    the rule says so; without one, days are calendar days. Once the rule's
    closing date has passed, a vote that has not met the rule has failed.
    """
    _aware(now, "now")
    _aware(opened_at, "opened_at")
    roster_at = committee_at or now
    ordered = sorted(ballots, key=lambda b: b.at)  # stable: ties keep input order
    forge = forge or (ordered[0].forge if ordered else "github")
    people: dict[tuple[str, str], tuple[tuple[str, str], Member | None, str]] = {}
    latest: dict[tuple[str, str], Ballot] = {}  # person -> their latest vote or withdrawal
    holds: dict[tuple[str, str], Ballot] = {}
    ignored: list[Ignored] = []
    for b in ordered:
        if (b.forge, b.account) not in people:
            m, standing = committee.entry_for(b.forge, b.account, roster_at, b.login)
            key = ("member", m.name) if m else (b.forge, b.account)
            people[b.forge, b.account] = (key, m, standing)
        key, m, standing = people[b.forge, b.account]
        active = m if standing == "member" else None
        if b.kind == "withdraw" and superseded(latest.get(key), b):
            continue  # the comment or review of an older vote is gone: the newer vote stays
        if b.kind in ("vote", "withdraw"):
            latest[key] = b
        elif b.kind == "hold":
            if active is None or not committee.may(active, "hold"):
                why = standing if active is None else _lacks(committee, active, "hold")
                ignored.append(Ignored(b.shown, "hold", b.at, why))
            else:
                holds[key] = b
        elif active is not None and committee.may(active, "release") and holds:
            holds.clear()
        elif key in holds:
            del holds[key]
        else:
            releasers = " or ".join(committee.roles_that_may("release")) or "nobody"
            why = f"not their hold; only the holder or a {releasers} may release it"
            ignored.append(Ignored(b.shown, "unhold", b.at, why if holds else "nothing is on hold"))

    rows: list[Row] = []
    counted: set[tuple[str, str]] = set()
    yes = no = abstain = 0
    yes_by_role: Counter[str] = Counter()
    blocked_by: list[str] = []
    for key, b in latest.items():
        _, m, standing = people[b.forge, b.account]
        name, roles = (m.name, m.roles) if m else (b.shown, ())
        shown = (
            "—" if b.kind == "withdraw" or b.value is None else f"{b.value:+d}" if b.value else "0"
        )
        why, binding = standing, False
        if b.kind == "withdraw":
            why = "withdrawn"
        elif standing != "member":
            pass
        elif (
            rule.stale_on_change
            and b.head_sha
            and head_sha
            and b.head_sha != head_sha
            and b.head_sha not in same_content
        ):
            why = (
                "stale: cast before any revision govbot knows"
                if b.head_sha == UNKNOWN_REVISION
                else f"stale: cast on {b.head_sha[:7]}"
            )
        else:
            binding, value = True, (b.value or 0) and (1 if b.value > 0 else -1)
            counted.add(key)
            why = "abstained" if value == 0 else "member"
            if value > 0:
                yes += 1
                yes_by_role.update(set(roles))
            elif value < 0:
                no += 1
                if rule.veto.intersection(roles):
                    blocked_by.append(name)
            else:
                abstain += 1
        rows.append(Row(name, b.shown, roles, shown, binding, why, m is not None))

    missing: list[Member] = []
    seen: set[str] = set()
    for m in committee.by_name:  # the one pass over the roster
        if m.name in seen or m.standing(roster_at) != "member":
            continue
        seen.add(m.name)
        if ("member", m.name) not in counted:
            missing.append(m)
            if ("member", m.name) not in latest:
                account = m.account(forge) or ""  # none on this forge: name only
                rows.append(Row(m.name, account, m.roles, "—", False, "not voted yet", True))
    rows.sort(
        key=lambda r: (
            (0, r.name.casefold(), r.name) if r.member else (1, r.account.casefold(), r.account)
        )
    )

    more_yes = _more_yes(rule, yes, no, len(seen))
    more_quorum = max(0, rule.quorum - yes - no)
    missing_roles = Counter(r for m in missing for r in set(m.roles))
    approvals = tuple((r, n - yes_by_role[r]) for r, n in rule.approvals if n > yes_by_role[r])
    met = more_yes == 0 and more_quorum == 0 and not approvals
    reachable = (
        more_yes is not None
        and max(more_yes, more_quorum) <= len(missing)
        and all(n <= missing_roles[r] for r, n in approvals)
    )
    decision_from = deadline(opened_at, rule.min_days_open, rule, calendar)
    closes_at = (
        deadline(opened_at, rule.closes_after_days, rule, calendar)
        if rule.closes_after_days is not None
        else None
    )
    early = now < decision_from
    closed = closes_at is not None and now >= closes_at and not early
    if holds:
        state = "held"
    elif blocked_by:
        state = "blocked"
    elif early or (not met and reachable and not closed):
        state = "pending"
    else:
        state = "passed" if met else "failed"
    needed = Needed(more_quorum, more_yes, approvals)
    votes = f"{yes} for, {no} against, {abstain} abstaining of {len(seen)} members"
    so_far = f"so far {votes}"
    if state == "held":
        releasers = " or ".join(committee.roles_that_may("release")) or "nobody else"
        text = f"On hold by {', '.join(sorted(n for _, n in holds))}: it stays held until the holder (or a {releasers}) sends /unhold."
    elif state == "blocked":
        text = f"Blocked: {', '.join(sorted(blocked_by))} voted -1, and a -1 from a {' or '.join(sorted(rule.veto))} is a veto; it blocks until withdrawn or changed."
    elif state == "pending" and early:
        text = f"Pending: the minimum review time of {rule.min_days_open:g} days ends {_fmt(decision_from, UTC)}; {so_far}."
    elif state == "pending":
        text = f"Pending: still needs {_needs(needed, rule)}; {so_far}."
    elif state == "passed":
        text = f"Passed: {votes}; {rule.describe_threshold()} reached, quorum and approvals met."
    elif closed and reachable and closes_at is not None:
        text = f"Failed: the vote closed {_fmt(closes_at, UTC)} still needing {_needs(needed, rule)}; {votes}."
    else:
        who = f"even if the {len(missing)} members who have not voted voted +1, it"
        text = f"Failed: {who if missing else 'everyone has voted and it'} would still need {_needs(needed, rule)}; {so_far}."
    return Tally(
        state=state,
        rows=tuple(rows),
        counts=Counts(yes, no, abstain),
        needed=needed,
        missing=tuple(m.name for m in missing),
        earliest_decision=decision_from if early else None,
        decision_from=decision_from,
        explanation=text,
        rule=rule,
        holds=tuple(sorted(name for _, name in holds)),  # only members hold
        blocked_by=tuple(sorted(blocked_by)),
        ignored=tuple(ignored),
        closes_at=closes_at,
    )


def deadline(
    opened_at: datetime, days: float, rule: VoteRule, calendar: Calendar | None
) -> datetime:
    """``days`` after ``opened_at``: business days of ``calendar`` when the rule counts them
    so (whole days, rounded up), else calendar days (UTC, fractions allowed)."""
    if rule.business_days and calendar is not None:
        return calendar.add_business_days(opened_at, math.ceil(days))
    return opened_at.astimezone(UTC) + timedelta(days=days)


def render_markdown(outcome: Tally, committee: Committee) -> str:
    """The vote table for a check run or a Gerrit message (Markdown)."""
    when = f"{_fmt(outcome.decision_from, committee.tz)} ({_fmt(outcome.decision_from, UTC)})"
    deadline = (
        f"earliest decision {when}"
        if outcome.earliest_decision is not None
        else f"minimum review time ended {when}"
    )
    lines = [f"**Vote: {outcome.state}** — {deadline}", "", outcome.explanation, ""]
    lines += ["| Member | Role | Vote | Counts | Why |", "|---|---|---|---|---|"]
    for r in outcome.rows:
        who = (
            f"@{r.account}" if not r.member else f"{r.name} (@{r.account})" if r.account else r.name
        )
        cells = [who, ", ".join(r.roles) or "—", r.vote, "yes" if r.binding else "no", r.why]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    still = []
    needs = _needs(outcome.needed, outcome.rule)
    if outcome.state in ("pending", "failed") and needs != "nothing more":
        still.append(f"Needed: {needs}.")
    if outcome.missing:
        still.append(f"Still to vote: {', '.join(outcome.missing)}.")
    for i in outcome.ignored:
        still.append(f"Ignored: /{i.kind} by @{i.account} ({i.why}).")
    lines.append(" ".join(still) if still else "Nothing is missing.")
    return "\n".join(lines) + "\n"


def _needs(n: Needed, rule: VoteRule) -> str:
    parts = []
    if n.quorum:
        votes = "vote" if n.quorum == 1 else "votes"
        parts.append(f"{n.quorum} more binding {votes} for the quorum of {rule.quorum}")
    if n.threshold is None:
        parts.append(f"{rule.describe_threshold()}, which new +1 votes alone cannot reach")
    elif n.threshold:
        parts.append(f"{n.threshold} more +1 for {rule.describe_threshold()}")
    parts += [f"{k} more +1 from a {role}" for role, k in n.approvals]
    return "; ".join(parts) or "nothing more"


def _more_yes(rule: VoteRule, yes: int, no: int, size: int) -> int | None:
    """Extra +1 votes the threshold needs (None: more +1 votes cannot do it).

    Always at least one +1: nothing passes on no support at all.
    """
    num, den, s = rule.ratio.numerator, rule.ratio.denominator, int(rule.strict)
    if rule.of == "committee":
        needed = (num * size) // den + 1 if rule.strict else -(-(num * size) // den)
        return max(0, needed - yes, 1 - yes)
    if num == den:  # unanimity of votes cast: every -1 must go
        return max(0, 1 - yes) if no == 0 and not rule.strict else None
    # (yes + k) / (yes + k + no) >= num / den  <=>  (yes + k)(den - num) >= num * no (+1 if strict)
    needed = -(-(num * no + s) // (den - num))
    return max(0, needed - yes, 1 - yes)


def current_vote(ballots: Iterable[Ballot], forge: str, account: str) -> Ballot | None:
    """One voter's act that counts now (a vote or a withdrawal), as :func:`tally` reads it."""
    current = None
    mine = (b for b in ballots if (b.forge, b.account) == (forge, account))
    for b in sorted(mine, key=lambda b: b.at):
        if b.kind == "vote" or (b.kind == "withdraw" and not superseded(current, b)):
            current = b
    return current


def superseded(current: Ballot | None, withdrawal: Ballot) -> bool:
    """Whether ``withdrawal`` takes back a vote other than the voter's current one.

    A withdrawal names what is gone (a comment, a review); when the vote that
    counts came from somewhere else, it superseded the one withdrawn, whatever
    order the forge delivered the two acts in.
    """
    return (
        current is not None
        and current.kind == "vote"
        and bool(withdrawal.source_id and current.source_id)
        and (current.source, current.source_id) != (withdrawal.source, withdrawal.source_id)
    )


def _lacks(committee: Committee, member: Member, action: str) -> str:
    roles = ", ".join(member.roles) or "a member without a role"
    allowed = " or ".join(committee.roles_that_may(action)) or "no role"
    return f"{roles} may not {action}; a {allowed} may"


def _fmt(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware ({at.isoformat()})")
