"""A proposed change: check each new revision, post the verdict, follow the review's life.

The check reads the base and head from the forge, judges them with the pure
``core.check``, and answers with a check run and one comment edited in
place; then the vote is tallied again, because a new revision can change
which voting rule applies and which votes are stale.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection

from govbot.core import report
from govbot.core.check import check
from govbot.core.events import ChangeAbandoned, ChangeMerged, ChangeProposed, ChangeUpdated
from govbot.core.findings import Finding, Severity
from govbot.core.policies import Policies
from govbot.forges.base import Annotation, CheckReport, ForgeError
from govbot.service import voting
from govbot.service.context import Context
from govbot.service.registry import handles
from govbot.store import ballots, reviews
from govbot.store.checks import CheckRecord
from govbot.store.effects import Effects
from govbot.store.models import utcnow
from govbot.store.reviews import ReviewUpdate

CHECK_NAME = "govbot/check"  # its reports are of kind "check"; the vote's, "vote"
COMMENT_MARKER = "<!-- govbot:check -->"
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


@handles(ChangeProposed, ChangeUpdated)
def on_revision(
    event: ChangeProposed | ChangeUpdated, ctx: Context, conn: Connection, effects: Effects
) -> None:
    ref = event.review
    current = reviews.get(conn, ref.key)
    if (
        current is not None
        and event.at is not None
        and current.updated_at > event.at
        and current.head_sha != event.head_sha
    ):
        detail = {"head_sha": event.head_sha, "current": current.head_sha}
        effects.audit.append(("stale-event-ignored", ref.key, detail))
        return
    effects.reviews.append(
        ReviewUpdate(
            ref,
            event.at or utcnow(),
            state="open",
            base_ref=event.base_ref,
            head_sha=event.head_sha,
            title=event.title,
            url=event.url,
            opened_at=event.at or utcnow(),
        )
    )
    base_rev = event.base_sha or event.base_ref
    try:
        base = ctx.forge.read_files(ref.repo, base_rev)
        head = ctx.forge.read_files(ref.repo, event.head_sha)
    except ForgeError as e:
        if not e.permanent:
            raise
        summary = f"govbot could not read the change: {e}"
        post(ctx, event, base_rev, "neutral", "Revisions not available", summary, [], effects)
        return
    result = check(base, head, ctx.schemas, ctx.cache)
    policies = Policies.from_files(base)
    vote_class = policies.voting.classify(result.changed_files, result.changes)
    warnings = sum(f.severity is Severity.WARNING for f in result.findings)
    post(
        ctx,
        event,
        base_rev,
        "failure" if result.errors else "success",
        f"{result.errors} error(s), {warnings} warning(s)",
        report.check_markdown(result.findings, result.changes),
        result.findings,
        effects,
        vote_class=vote_class.name,
    )
    opened = current.opened_at if current is not None and current.opened_at else None
    voting.tally_and_post(
        ctx,
        ref,
        event.head_sha,
        opened or event.at or utcnow(),
        policies,
        vote_class.name,
        ballots.for_review(conn, ref.key),
        effects,
    )


@handles(ChangeMerged, ChangeAbandoned)
def on_closed(
    event: ChangeMerged | ChangeAbandoned, ctx: Context, conn: Connection, effects: Effects
) -> None:
    state = "merged" if isinstance(event, ChangeMerged) else "abandoned"
    effects.reviews.append(ReviewUpdate(event.review, event.at or utcnow(), state=state))
    effects.audit.append((f"review-{state}", event.review.key, {}))


def post(
    ctx: Context,
    event: ChangeProposed | ChangeUpdated,
    base_rev: str,
    conclusion: str,
    title: str,
    summary: str,
    findings: list[Finding],
    effects: Effects,
    vote_class: str | None = None,
) -> None:
    """The check run and the comment on the forge; the check's row and audit entry."""
    ref, head_sha = event.review, event.head_sha
    annotations = tuple(
        Annotation(f.file, f.line, LEVELS[f.severity], f.rule, f.message) for f in findings
    )
    ctx.forge.post_check(
        CheckReport(ref, head_sha, CHECK_NAME, conclusion, title, summary, annotations)
    )
    ctx.forge.upsert_comment(ref, COMMENT_MARKER, summary, head_sha=head_sha)
    effects.checks.append(
        CheckRecord(
            ref.key,
            head_sha,
            base_rev,
            conclusion,
            sum(f.severity is Severity.ERROR for f in findings),
            sum(f.severity is Severity.WARNING for f in findings),
            summary,
            json.dumps([f.to_dict() for f in findings]),
            utcnow(),
            vote_class,
        )
    )
    effects.audit.append(
        (
            "checked",
            ref.key,
            {"head_sha": head_sha, "base": base_rev, "conclusion": conclusion, "title": title},
        )
    )
