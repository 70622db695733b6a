"""Votes where they are cast: ballots from events, the tally, the ``govbot/vote`` result.

The committee and the voting rules always come from the review's *base*
branch as it stands when the tally is made: a member removed there stops
counting mid-review, and a change to ``committee.yaml`` or ``voting.yaml`` is
judged by the rules it would replace. The vote class (which rule applies) is
decided when the change is checked, from the paths it touches and its diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, desc, select

from govbot.core.diff import Change
from govbot.core.events import CommentCommand, Event, ReviewRef, VoteCast, VoteWithdrawn
from govbot.core.policy import Committee, VoteClass, VotingPolicy
from govbot.core.votes import Ballot, Outcome, render_markdown, tally
from govbot.core.yamlio import parse_bytes
from govbot.forges.base import CheckReport
from govbot.store.models import BallotRow, CheckResultRow, Review, utcnow

VOTE_CHECK = "govbot/vote"
HELP_MARKER = "<!-- govbot:help -->"
COMMAND_HELP = (
    "govbot understands these commands, one per comment line:\n\n"
    "- `/vote +1`, `/vote -1`, `/vote 0` (or `/abstain`): cast or change your vote\n"
    "- `/hold`, `/unhold`: stop the decision while something is discussed (roles allowed by the committee policy)\n"
    "- `/release ID [--supersede OLD ...]`: open the change that approves the draft as ID (roles allowed by the committee policy)\n"
)
CONCLUSIONS = {
    "passed": "success",
    "failed": "failure",
    "blocked": "failure",
    "pending": "pending",
    "held": "pending",
}
VOTE_WORDS = {"+1": 1, "1": 1, "-1": -1, "0": 0}


@dataclass(frozen=True)
class Policies:
    committee: Committee
    voting: VotingPolicy


def policies_from(files: Mapping[str, bytes]) -> Policies:
    """The committee and voting policy of a snapshot (defaults when a file is absent)."""

    def load(path: str) -> Any:
        raw = files.get(path)
        return parse_bytes(path, raw).data if raw is not None else None

    return Policies(
        Committee.from_data(load("policies/committee.yaml")),
        VotingPolicy.from_data(load("policies/voting.yaml")),
    )


def classify(policies: Policies, paths: Iterable[str], changes: Iterable[Change]) -> VoteClass:
    return policies.voting.classify(list(paths), list(changes))


def ballots_for(event: Event, head_sha: str | None) -> tuple[list[Ballot], bool]:
    """The ballots an event casts, and whether it was a command govbot did not understand."""
    at = getattr(event, "at", None) or utcnow()
    forge = event.review.forge if hasattr(event, "review") else ""
    if isinstance(event, VoteCast):
        return [
            Ballot(
                forge,
                event.voter,
                "vote",
                event.value,
                at,
                event.head_sha or head_sha,
                event.source,
            )
        ], False
    if isinstance(event, VoteWithdrawn):
        return [Ballot(forge, event.voter, "withdraw", None, at, head_sha, event.source)], False
    if isinstance(event, CommentCommand):
        word, args = event.command, event.args
        if word == "vote" and args and args[0] in VOTE_WORDS:
            return [
                Ballot(forge, event.author, "vote", VOTE_WORDS[args[0]], at, head_sha, "comment")
            ], False
        if word == "abstain":
            return [Ballot(forge, event.author, "vote", 0, at, head_sha, "comment")], False
        if word in ("hold", "unhold"):
            return [Ballot(forge, event.author, word, None, at, head_sha, "comment")], False
        return [], word != "recheck"  # /release is handled by service/releasing.py
    return [], False


def stored_ballots(conn: Connection, review_key: str) -> list[Ballot]:
    table = BallotRow.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        select(table).where(table.c.review_key == review_key).order_by(table.c.at, table.c.id)
    ).all()
    return [
        Ballot(r.forge, r.account, r.kind, r.value, aware(r.at), r.head_sha, r.source) for r in rows
    ]


def ballot_values(review_key: str, b: Ballot) -> dict[str, Any]:
    return {
        "review_key": review_key,
        "forge": b.forge,
        "account": b.account,
        "kind": b.kind,
        "value": b.value,
        "source": b.source,
        "head_sha": b.head_sha,
        "at": b.at,
    }


def vote_class_of(conn: Connection, review_key: str, head_sha: str | None) -> str | None:
    table = CheckResultRow.__table__  # type: ignore[attr-defined]
    query = select(table.c.vote_class).where(table.c.review_key == review_key)
    if head_sha:
        query = query.where(table.c.head_sha == head_sha)
    return conn.execute(query.order_by(desc(table.c.created_at)).limit(1)).scalar()


def review_row(conn: Connection, review_key: str) -> Any:
    table = Review.__table__  # type: ignore[attr-defined]
    return conn.execute(select(table).where(table.c.key == review_key)).first()


def evaluate(
    policies: Policies, class_name: str | None, ballots: list[Ballot], review: Any, now: datetime
) -> tuple[VoteClass, Outcome]:
    vote_class = (
        next((c for c in policies.voting.classes if c.name == class_name), None)
        or policies.voting.default
    )
    opened = aware(review.opened_at) if review.opened_at is not None else now
    outcome = tally(
        ballots,
        policies.committee,
        vote_class.rule,
        now,
        opened,
        review.head_sha,
        forge=review.forge,
    )
    return vote_class, outcome


def vote_report(
    ref: ReviewRef, head_sha: str, vote_class: VoteClass, outcome: Outcome, committee: Committee
) -> CheckReport:
    title = f"{outcome.state}: {outcome.explanation}"[:255]
    summary = f"Vote class **{vote_class.name}**.\n\n" + render_markdown(outcome, committee)
    return CheckReport(
        ref, head_sha, VOTE_CHECK, CONCLUSIONS.get(outcome.state, "neutral"), title, summary
    )


def aware(at: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
