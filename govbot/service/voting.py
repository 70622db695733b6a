"""Votes where they are cast: ballots from events, the tally, the ``govbot/vote`` result.

Three rules make the result the committee's own:

* **A ballot is the act of its actor.** A vote counts for the immutable
  account id of whoever cast it; an edit or a deletion by anyone else never
  creates or withdraws a vote (it is audited and the chairs are told), and
  deleting a superseded vote leaves the current one alone.
* **A ballot is bound to a revision**: a review's to the commit it was given
  on, a comment's to the head the review had at the comment's own time. It
  goes stale only when the governed content changes.
* **One tally at a time per review** (:func:`tally_review`): under a
  per-review lock, from every stored ballot, by the policies pinned when the
  vote opened; the result posted is the result stored.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from govbot.core.certification import VOTE_CLASS as CERTIFICATION_CLASS
from govbot.core.decisions import Decision
from govbot.core.decisions import ballot as decision_ballot
from govbot.core.events import Actor, CommentCommand, Event, ReviewRef, VoteCast, VoteWithdrawn
from govbot.core.policies import Policies, PolicyUnusable
from govbot.core.policy import Committee, VoteClass
from govbot.core.votes import (
    UNKNOWN_REVISION,
    Ballot,
    Tally,
    current_vote,
    render_markdown,
    superseded,
    tally,
)
from govbot.forges.base import CheckReport, ForgeError
from govbot.forges.recording import RecordingForge
from govbot.service.context import Context, reports_of
from govbot.service.governed import governed_branch, pinned_policies
from govbot.service.registry import handles
from govbot.store import ballots as stored_ballots
from govbot.store import heads, reviews, votes
from govbot.store.effects import Effects, apply
from govbot.store.locks import review_lock
from govbot.store.models import utcnow
from govbot.store.reviews import ReviewState, ReviewUpdate
from govbot.store.votes import VoteResult

log = logging.getLogger("govbot.voting")

VOTE_CHECK = "govbot/vote"
HELP_MARKER = "<!-- govbot:help -->"
INTEGRITY_MARKER = "<!-- govbot:integrity -->"
COMMAND_HELP = (
    "govbot understands these commands, one per comment line:\n\n"
    "- `/vote +1`, `/vote -1`, `/vote 0` (or `/abstain`): cast or change your vote\n"
    "- `/hold`, `/unhold`: stop the decision while something is discussed (roles allowed by the committee policy)\n"
    "- `/release ID [--supersede OLD ...]`: open the change that approves the draft as ID (roles allowed by the committee policy)\n"
    "- `/flag-request TEST_ID reason...`: ask the Interop Working Group to flag a test (2017A C3)\n"
    "- `/flag-ack TEST_ID [note]`: acknowledge a flag request made here (roles allowed to acknowledge flags)\n"
)
CONCLUSIONS = {
    "passed": "success",
    "failed": "failure",
    "blocked": "failure",
    "pending": "pending",
    "held": "pending",
    "not-governed": "neutral",
}
VOTE_WORDS = {"+1": 1, "1": 1, "-1": -1, "0": 0}
ROSTERS = {
    CERTIFICATION_CLASS: "a product submission: the Foundation's reviewers of "
    "policies/certification.yaml decide (2017A C2.2)"
}
KNOWN_ONLY_BY_VOTE = datetime(1970, 1, 1, tzinfo=UTC)
"""The update time of a review known only by a vote so far: any real state wins over it."""


def ballots_for(
    event: Event, account: str, at: datetime, revision: str | None
) -> tuple[list[Ballot], bool]:
    """The ballots an event casts for ``account``, and whether it was a command govbot
    did not understand. ``revision`` is the commit the act applies to."""
    forge = event.review.forge if hasattr(event, "review") else ""
    if isinstance(event, VoteCast):
        login, source, sid = event.voter.login, event.source, event.source_id
        return [
            Ballot(forge, account, "vote", event.value, at, revision, source, login, sid)
        ], False
    if isinstance(event, VoteWithdrawn):
        login, source, sid = event.voter.login, event.source, event.source_id
        return [Ballot(forge, account, "withdraw", None, at, None, source, login, sid)], False
    if isinstance(event, CommentCommand):
        word, args = event.command, event.args
        login, sid = event.author.login, event.comment_id
        if word == "vote" and args and args[0] in VOTE_WORDS:
            value = VOTE_WORDS[args[0]]
            return [
                Ballot(forge, account, "vote", value, at, revision, "comment", login, sid)
            ], False
        if word == "abstain":
            return [Ballot(forge, account, "vote", 0, at, revision, "comment", login, sid)], False
        if word in ("hold", "unhold"):
            return [Ballot(forge, account, word, None, at, revision, "comment", login, sid)], False
        return [], word != "recheck"  # /release is handled by service/releasing.py
    return [], False


def same_person(a: Actor, b: Actor) -> bool:
    """By account id when both are known; by login only within one forge event that
    names both (Gerrit's stream names accounts by username)."""
    if a.id and b.id:
        return a.id == b.id
    return a.login == b.login


def account_of(ctx: Context, forge: str, actor: Actor) -> str:
    """The immutable id to record for ``actor``: from the payload, else from the forge.

    An actor whose id cannot be established is recorded under a name that no
    roster id can ever equal, so their act is shown but never counts.
    """
    if actor.id:
        return actor.id
    found = ctx.forge.account_id(actor.login) if forge == ctx.forge.name else None
    return found or f"unverified:{actor.login}"


@handles(VoteCast, VoteWithdrawn, CommentCommand)
def on_ballot(
    event: VoteCast | VoteWithdrawn | CommentCommand,
    ctx: Context,
    conn: Connection,
    effects: Effects,
) -> None:
    """Record the act as a ballot of its own actor, bound to its revision; ask for a tally."""
    key = event.review.key
    review = reviews.get(conn, key)
    if review is not None and review.state != "open":
        effects.audit.append(("vote-on-closed-review-ignored", key, plain(event)))
        return
    actor = event.author if isinstance(event, CommentCommand) else event.voter
    if isinstance(event, VoteWithdrawn | CommentCommand):
        by = event.by
        if by is not None and not same_person(by, actor):
            refuse_act(ctx, event, actor, by, review, effects)
            return
    account = account_of(ctx, event.review.forge, actor)
    at = ctx.when(event.at)
    # A review vote names its commit; a comment's revision is the head at the comment's
    # own time, read from the head history when tallied (see bound): a push delivered
    # after the comment still counts as what the comment was given on.
    revision = event.head_sha if isinstance(event, VoteCast) else None
    cast, unknown = ballots_for(event, account, at, revision)
    effects.audit.append((type(event).__name__, key, {**plain(event), "account": account}))
    if unknown:
        head = review.head_sha if review is not None else ""
        ctx.forge.upsert_comment(event.review, HELP_MARKER, COMMAND_HELP, head_sha=head or "")
    if isinstance(event, VoteWithdrawn) and cast:
        current = current_vote(stored_ballots.for_review(conn, key), event.review.forge, account)
        if superseded(current, cast[0]):
            # An old, superseded vote's comment or review is gone; the current vote stays.
            effects.audit.append(
                ("superseded-vote-removed", key, {"account": account, "gone": event.source_id})
            )
            return
    effects.ballots += [(key, b) for b in cast]
    if review is None or review.head_sha is None:
        effects.reviews.append(ReviewUpdate(event.review, KNOWN_ONLY_BY_VOTE))
        return
    if cast:
        effects.tally.append(key)


def refuse_act(
    ctx: Context,
    event: VoteWithdrawn | CommentCommand,
    actor: Actor,
    by: Actor,
    review: ReviewState | None,
    effects: Effects,
) -> None:
    """Someone changed another person's vote: nothing counts; audit it, tell the chairs."""
    what = "withdrew" if isinstance(event, VoteWithdrawn) else "edited"
    text = (
        f"@{by.login} {what} a vote or command of @{actor.login} ({event.review.key}): "
        f"only the voter can cast or take back their vote, so nothing changed."
    )
    # One notice per act tampered with (a new comment notifies; a later attempt never
    # overwrites the notice of an earlier one); a redelivery edits its own notice.
    source = event.comment_id if isinstance(event, CommentCommand) else event.source_id
    ctx.forge.upsert_comment(
        event.review,
        INTEGRITY_MARKER.replace(" -->", f":{source} -->") if source else INTEGRITY_MARKER,
        text + " The chairs are asked to look.",
        head_sha=(review.head_sha or "") if review else "",
        notify=tuple(chairs(ctx, review)),
    )
    detail = {**plain(event), "voter": actor.login, "voter_id": actor.id, "by": by.login}
    effects.audit.append(("act-by-another-refused", event.review.key, {**detail, "by_id": by.id}))


def chairs(ctx: Context, review: ReviewState | None) -> list[str]:
    """The logins of the members who may lift holds (the chairs), by the pinned policies."""
    if review is None or not review.policy_sha:
        return []
    try:
        committee = pinned_policies(ctx, review.repo, review.policy_sha).committee
    except PolicyUnusable:
        return []
    now = ctx.now()
    return sorted(
        m.account(review.forge) or m.name
        for m in committee.members
        if m.standing(now) == "member" and committee.may(m, "release")
    )


# -- the tally -------------------------------------------------------------------------


def bound(ballots: list[Ballot], history: list[heads.Head]) -> list[Ballot]:
    """Each vote with the revision it was given on: a vote that names none (a comment)
    gets the head its review had at the vote's own time, by the head history as it is
    known now; one cast before any head govbot knows is bound to none (stale on every
    head), never to whatever head the review has when it is tallied."""
    return [
        replace(b, head_sha=heads.head_at(history, b.at) or UNKNOWN_REVISION)
        if b.kind == "vote" and b.head_sha is None
        else b
        for b in ballots
    ]


def tally_review(
    ctx: Context, engine: Engine, review_key: str, *, post: bool = False
) -> str | None:
    """Tally one review under its lock and post the result if it changed (always with
    ``post``). Returns the state posted, None when nothing was posted."""
    with review_lock(engine, review_key):
        with engine.connect() as conn:
            review = reviews.get(conn, review_key)
            if review is None or review.state != "open" or review.head_sha is None:
                return None
        if review.policy_sha is None:  # seen before pinning existed: pin it now, once
            review = _pin(ctx, engine, review)
        with engine.connect() as conn:
            history = heads.history(conn, review_key)
            ballots = bound(stored_ballots.for_review(conn, review_key), history)
            previous = votes.get(conn, review_key)
        report, result, counts = judge(ctx, review, ballots, history)
        changed = previous is None or (previous.state, previous.summary, previous.head_sha) != (
            result.state,
            result.summary,
            result.head_sha,
        )
        effects = Effects()
        if changed or post:
            recorder = RecordingForge(ctx.forge.forge, ctx.forge.dry_run)
            recorder.post_check(report)
            effects.reports += reports_of(recorder)
            effects.audit.append(
                (
                    "tallied",
                    review_key,
                    {
                        "state": result.state,
                        "class": result.vote_class,
                        "policy": result.policy_sha,
                        "head": result.head_sha,
                    },
                )
            )
        effects.vote_results.append(result)
        effects.decisions.append(decision_of(review, result, report, ballots, counts))
        with engine.begin() as conn:
            apply(conn, effects, ctx.actor)
            reviews.tallied(conn, review_key, review.tally_seq)
        return result.state if (changed or post) else None


def judge_merged(
    ctx: Context, conn: Connection, review: ReviewState, merged_on: datetime
) -> VoteResult:
    """The vote as it stood when the review merged, not when a worker got to the merge:
    a merge delivered before the review period ended and processed after it has not
    passed, and a vote cast after the merge never counts for it."""
    cast = [b for b in stored_ballots.for_review(conn, review.key) if b.at <= merged_on]
    then = replace(ctx, now=lambda: merged_on)
    return judge(then, review, cast, heads.history(conn, review.key))[1]


def _pin(ctx: Context, engine: Engine, review: ReviewState) -> ReviewState:
    """Pin the governed branch's current commit for a review that has none (written once)."""
    governed = review.governed_branch or governed_branch(ctx, review.repo)
    try:
        sha = ctx.forge.resolve(review.repo, governed)
    except ForgeError as e:
        if not e.permanent:
            raise
        return review
    with engine.begin() as conn:
        reviews.update(
            conn,
            ReviewUpdate(review.ref, review.updated_at, governed_branch=governed, policy_sha=sha),
        )
        return reviews.get(conn, review.key) or review


def decision_of(
    review: ReviewState,
    result: VoteResult,
    report: CheckReport,
    ballots: list[Ballot],
    counts: dict[str, int],
) -> Decision:
    """The record of a vote result: its ballots (actor ids, revisions, times), the policy
    commit that judged it and the tally, for the hash-chained decision record."""
    return Decision(
        forge=review.forge,
        repo=review.repo,
        number=review.number,
        head_sha=result.head_sha,
        vote_class=result.vote_class,
        state=result.state,
        explanation=report.title,
        policy_commit=review.policy_sha,
        ballots=tuple(
            decision_ballot(
                actor_id=b.account,
                login=b.login,
                kind=b.kind,
                value=b.value,
                revision=b.head_sha,
                at=b.at,
                source=b.source,
            )
            for b in ballots
        ),
        tally=counts,
        decided_at=result.computed_at,
    )


def judge(
    ctx: Context, review: ReviewState, ballots: list[Ballot], history: list[heads.Head]
) -> tuple[CheckReport, VoteResult, dict[str, int]]:
    """The vote result of a review as it is stored now (pure but for the pinned read)."""
    head = review.head_sha or ""
    ref = review.ref
    now = ctx.now()
    ballots = bound(ballots, history)
    current = next((h for h in reversed(history) if h.head_sha == head), None)
    class_name = current.vote_class if current is not None else None
    same = frozenset(
        h.head_sha for h in history if current is not None and h.content_key == current.content_key
    )
    if review.governed_branch and review.base_ref and review.base_ref != review.governed_branch:
        text = (
            f"Not governed: this change targets `{review.base_ref}`, and the committee governs "
            f"`{review.governed_branch}`. No vote passes here and nothing is published."
        )
        return (*_plain_result(ref, head, "not-governed", class_name or "-", text, review), {})
    pin = review.policy_sha
    if not pin:
        text = "Blocked: no governed policy is pinned for this review; it cannot be judged."
        return (*_plain_result(ref, head, "blocked", class_name or "-", text, review), {})
    try:
        policies = pinned_policies(ctx, review.repo, pin)
    except PolicyUnusable as e:
        lines = "\n".join(f"- `{f.file}:{f.line}:{f.column}`: {f.message}" for f in e.findings)
        text = (
            "Blocked: the policies that judge this vote cannot be used, so no vote can pass "
            f"until they are fixed on the governed branch:\n\n{lines}"
        )
        return (*_plain_result(ref, head, "blocked", class_name or "-", text, review), {})
    vote_class, outcome = evaluate(
        policies, class_name, ballots, ref.forge, head, review.period_start, now, same
    )
    roster = rules_for(policies, class_name)[1]
    state, explanation = outcome.state, outcome.explanation
    if review.draft:
        state = "pending"
        explanation = "A draft: the review period starts when it is marked ready for review."
    summary = (
        f"Vote class **{vote_class.name}**. Judged by the policies of the governed branch "
        f"`{review.governed_branch or '?'}` at `{(review.policy_sha or '?')[:12]}`"
        + (f" ({ROSTERS[vote_class.name]})" if vote_class.name in ROSTERS else "")
        + ".\n\n"
        + render_markdown(outcome, roster)
    )
    if review.draft:
        summary = f"**{explanation}**\n\n" + summary
    report = CheckReport(
        ref,
        head,
        VOTE_CHECK,
        CONCLUSIONS.get(state, "neutral"),
        f"{state}: {explanation}"[:255],
        summary,
    )
    result = VoteResult(
        ref.key,
        head,
        vote_class.name,
        state,
        None if review.draft else outcome.earliest_decision,
        summary,
        utcnow(),
        review.policy_sha,
    )
    c = outcome.counts
    return report, result, {"yes": c.yes, "no": c.no, "abstain": c.abstain}


def _plain_result(
    ref: ReviewRef, head: str, state: str, class_name: str, text: str, review: ReviewState
) -> tuple[CheckReport, VoteResult]:
    report = CheckReport(ref, head, VOTE_CHECK, CONCLUSIONS[state], text.split("\n")[0][:255], text)
    return report, VoteResult(
        ref.key, head, class_name, state, None, text, utcnow(), review.policy_sha
    )


def rules_for(policies: Policies, class_name: str | None) -> tuple[VoteClass, Committee]:
    """The rule a review's vote follows and the roster whose votes count.

    A product submission (vote class ``certification``) is decided by the
    Foundation's reviewers under ``certification.yaml``'s approval rule (2017A
    C2.2: the Foundation has final authority); any other change by the
    committee under its ``voting.yaml`` class. Both come from the same pinned
    policies and go through the same ``tally``.
    """
    if class_name == CERTIFICATION_CLASS:
        cert = policies.certification
        return VoteClass(CERTIFICATION_CLASS, cert.approval, ROSTERS[CERTIFICATION_CLASS]), (
            cert.reviewers
        )
    # a class the policy does not name, or none (the revision could not be read), is judged
    # as substantive, never by the default (editorial) class
    vote_class = next(
        (c for c in policies.voting.classes if c.name == class_name), policies.voting.substantive
    )
    return vote_class, policies.committee


def evaluate(
    policies: Policies,
    class_name: str | None,
    ballots: list[Ballot],
    forge: str,
    head_sha: str | None,
    opened_at: datetime | None,
    now: datetime,
    same_content: frozenset[str] = frozenset(),
) -> tuple[VoteClass, Tally]:
    vote_class, roster = rules_for(policies, class_name)
    outcome = tally(
        ballots,
        roster,
        vote_class.rule,
        now,
        opened_at or now,
        head_sha,
        forge=forge,
        same_content=same_content,
        calendar=policies.timeline.calendar if policies.timeline is not None else None,
    )
    return vote_class, outcome


def plain(event: Any) -> dict[str, Any]:
    """An event's fields for the audit log (the review is the log entry's subject)."""
    out: dict[str, Any] = {}
    for k, v in vars(event).items():
        if k == "review":
            continue
        if isinstance(v, datetime):
            v = v.isoformat()
        elif isinstance(v, Actor):
            v = {"login": v.login, "id": v.id}
        out[k] = v
    return out
