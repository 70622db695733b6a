"""The committee's daily question: which reviews are open, how each vote stands, what blocks it.

Read only. For each open review: its vote class and tally table (binding or
not and why: stale, withdrawn, not a member; vetoes, holds), the earliest
decision date and the closing date, what still blocks a decision, govbot's
check on the head, and, for the whole page, where the program's timeline
stands. The tally is computed the way the bot computes it (``voting.evaluate``
over the stored ballots, by the policies pinned when the vote opened), at
the time of the request, so the page is never older than the database; when
the pinned policies cannot be read, the stored result is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from govbot.core.policies import Policies, PolicyUnusable
from govbot.core.tally_view import blockers, iso, tally_data, timeline_data
from govbot.core.validate import SchemaSet
from govbot.forges.base import Forge
from govbot.forges.recording import RecordingForge
from govbot.service import voting
from govbot.service.context import Context
from govbot.service.governed import pinned_policies
from govbot.store import ballots, checks, heads, reviews, votes
from govbot.store.models import utcnow


def board(
    engine: Engine,
    forge_for: Callable[[str], tuple[Forge, bool]],
    schemas: SchemaSet,
    local_policies: Callable[[], Mapping[str, bytes]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The dashboard as data: ``{"now", "timeline", "reviews": [...]}``."""
    at = now or utcnow()
    with engine.connect() as conn:
        rows = [
            (
                r,
                ballots.for_review(conn, r.key),
                heads.history(conn, r.key),
                votes.get(conn, r.key),
                checks.latest(conn, r.key),
            )
            for r in reviews.open_reviews(conn)
        ]
    timeline = None
    if local_policies is not None:
        t = Policies.from_files(local_policies()).timeline
        timeline = timeline_data(t, at) if t is not None else None
    out = []
    for review, cast, history, stored, check in rows:
        forge, dry_run = forge_for(review.forge)
        ctx = Context(RecordingForge(forge, dry_run), schemas, None, "dashboard", lambda: at)
        out.append(_review(ctx, review, cast, history, stored, check, at))
    out.sort(key=lambda r: (r["earliest_decision"] or "9999", r["key"]))
    return {"now": iso(at), "timeline": timeline, "reviews": out}


def _review(
    ctx: Context,
    review: reviews.ReviewState,
    cast: list[Any],
    history: list[heads.Head],
    stored: votes.VoteResult | None,
    check: checks.CheckRecord | None,
    at: datetime,
) -> dict[str, Any]:
    current = next((h for h in reversed(history) if h.head_sha == review.head_sha), None)
    view: dict[str, Any] = {
        "key": review.key,
        "title": review.title,
        "url": review.url,
        "forge": review.forge,
        "repo": review.repo,
        "number": review.number,
        "head": review.head_sha,
        "draft": review.draft,
        "opened_at": iso(review.opened_at),
        "period_start": iso(review.period_start),
        "class": stored.vote_class if stored else (current.vote_class if current else None),
        "state": stored.state if stored else "not tallied",
        "explanation": (stored.summary.split("\n")[0] if stored else "no vote tallied yet"),
        "tally": None,
        "blockers": [],
        "earliest_decision": iso(stored.earliest_decision) if stored else None,
        "closes_at": None,
        "check": None
        if check is None
        else {
            "conclusion": check.conclusion,
            "errors": check.errors,
            "warnings": check.warnings,
            "head": check.head_sha,
            "summary": check.summary.split("\n")[0],
        },
    }
    if check is not None and check.errors:
        view["blockers"].append(f"govbot's check finds {check.errors} error(s) on the head")
    pin = review.policy_sha or review.governed_branch
    if review.head_sha is None or not pin or (stored and stored.state == "not-governed"):
        return view
    try:
        policies = pinned_policies(ctx, review.repo, pin)
    except PolicyUnusable as e:
        view["blockers"] += [f"policies unusable: {f.file}: {f.message}" for f in e.findings]
        return view
    except Exception as e:  # the forge is down: show what the database holds
        view["blockers"].append(f"policies unreadable now: {type(e).__name__}")
        return view
    same = frozenset(
        h.head_sha for h in history if current is not None and h.content_key == current.content_key
    )
    vote_class, outcome = voting.evaluate(
        policies,
        current.vote_class if current else None,
        voting.bound(cast, history),
        review.forge,
        review.head_sha,
        review.period_start,
        at,
        same,
    )
    view.update(
        {
            "class": vote_class.name,
            "state": "pending" if review.draft else outcome.state,
            "explanation": outcome.explanation,
            "tally": tally_data(outcome),
            "blockers": (
                ["a draft: the review period starts when it is ready"] if review.draft else []
            )
            + blockers(outcome)
            + view["blockers"],
            "earliest_decision": None if review.draft else iso(outcome.earliest_decision),
            "closes_at": iso(outcome.closes_at),
        }
    )
    return view
