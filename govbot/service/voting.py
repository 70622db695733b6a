"""Votes where they are cast: ballots from events, the tally, the ``govbot/vote`` result.

The committee and the voting rules always come from the review's *base*
branch as it stands when the tally is made: a member removed there stops
counting mid-review, and a change to ``committee.yaml`` or ``voting.yaml`` is
judged by the rules it would replace. The vote class (which rule applies) is
decided when the change is checked, from the paths it touches and its diff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from govbot.core.events import CommentCommand, Event, ReviewRef, VoteCast, VoteWithdrawn
from govbot.core.policies import Policies
from govbot.core.policy import Committee, VoteClass
from govbot.core.votes import Ballot, Tally, render_markdown, tally
from govbot.forges.base import CheckReport
from govbot.service.context import Context
from govbot.service.registry import handles
from govbot.store import ballots as stored_ballots
from govbot.store import checks, reviews
from govbot.store.effects import Effects
from govbot.store.models import utcnow
from govbot.store.reviews import ReviewUpdate
from govbot.store.votes import VoteResult

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
KNOWN_ONLY_BY_VOTE = datetime(1970, 1, 1, tzinfo=UTC)
"""The update time of a review known only by a vote so far: any real state wins over it."""


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


@handles(VoteCast, VoteWithdrawn, CommentCommand)
def on_ballot(
    event: VoteCast | VoteWithdrawn | CommentCommand,
    ctx: Context,
    conn: Connection,
    effects: Effects,
) -> None:
    """Record the ballot; re-tally when the change is known, with the base branch's policies."""
    key = event.review.key
    review = reviews.get(conn, key)
    if review is not None and review.state != "open":
        effects.audit.append(("vote-on-closed-review-ignored", key, plain(event)))
        return
    head = review.head_sha if review is not None else None
    cast, unknown = ballots_for(event, head)
    effects.audit.append((type(event).__name__, key, plain(event)))
    if unknown:
        ctx.forge.upsert_comment(event.review, HELP_MARKER, COMMAND_HELP, head_sha=head or "")
    effects.ballots += [(key, b) for b in cast]
    if review is None or review.head_sha is None:
        effects.reviews.append(ReviewUpdate(event.review, KNOWN_ONLY_BY_VOTE))
        return
    policies = Policies.from_files(ctx.forge.read_files(review.repo, review.base_ref or "HEAD"))
    class_name = checks.vote_class_of(conn, key, review.head_sha)
    ballots = stored_ballots.for_review(conn, key) + cast
    tally_and_post(
        ctx, event.review, review.head_sha, review.opened_at, policies, class_name, ballots, effects
    )


def retally(ctx: Context, conn: Connection, review_key: str) -> Effects:
    """Tally a known review again (the clock, when a deadline passes)."""
    effects = Effects()
    review = reviews.get(conn, review_key)
    if review is None or review.state != "open" or review.head_sha is None:
        return effects
    policies = Policies.from_files(ctx.forge.read_files(review.repo, review.base_ref or "HEAD"))
    class_name = checks.vote_class_of(conn, review.key, review.head_sha)
    tally_and_post(
        ctx,
        review.ref,
        review.head_sha,
        review.opened_at,
        policies,
        class_name,
        stored_ballots.for_review(conn, review.key),
        effects,
    )
    return effects


def evaluate(
    policies: Policies,
    class_name: str | None,
    ballots: list[Ballot],
    forge: str,
    head_sha: str | None,
    opened_at: datetime | None,
    now: datetime,
) -> tuple[VoteClass, Tally]:
    vote_class = (
        next((c for c in policies.voting.classes if c.name == class_name), None)
        or policies.voting.default
    )
    outcome = tally(
        ballots,
        policies.committee,
        vote_class.rule,
        now,
        opened_at or now,
        head_sha,
        forge=forge,
    )
    return vote_class, outcome


def tally_and_post(
    ctx: Context,
    ref: ReviewRef,
    head_sha: str,
    opened_at: datetime | None,
    policies: Policies,
    class_name: str | None,
    ballots: list[Ballot],
    effects: Effects,
) -> None:
    """Tally, post the ``govbot/vote`` result, and remember both."""
    vote_class, outcome = evaluate(
        policies, class_name, ballots, ref.forge, head_sha, opened_at, ctx.now()
    )
    posted = vote_report(ref, head_sha, vote_class, outcome, policies.committee)
    ctx.forge.post_check(posted)
    effects.vote_results.append(
        VoteResult(
            ref.key,
            head_sha,
            vote_class.name,
            outcome.state,
            outcome.earliest_decision,
            posted.summary,
            utcnow(),
        )
    )
    effects.audit.append(
        (
            "tallied",
            ref.key,
            {"state": outcome.state, "class": vote_class.name, "explanation": outcome.explanation},
        )
    )


def vote_report(
    ref: ReviewRef, head_sha: str, vote_class: VoteClass, outcome: Tally, committee: Committee
) -> CheckReport:
    title = f"{outcome.state}: {outcome.explanation}"[:255]
    summary = f"Vote class **{vote_class.name}**.\n\n" + render_markdown(outcome, committee)
    return CheckReport(
        ref, head_sha, VOTE_CHECK, CONCLUSIONS.get(outcome.state, "neutral"), title, summary
    )


def plain(event: Any) -> dict[str, Any]:
    """An event's fields for the audit log (the review is the log entry's subject)."""
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in vars(event).items()
        if k != "review"
    }
