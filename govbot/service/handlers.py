"""What govbot does for each event: run the check on a proposal, track review state.

A handler has two phases. It first does its slow work with no database
transaction open (reading files from the forge, checking, posting the result:
posts are idempotent upserts), then returns :class:`Effects`, which the worker
writes in one transaction together with marking the delivery done. A crash
between the two phases replays the event: the forge posts are updated in
place, and the database never holds half an outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from govbot.core import report
from govbot.core.check import check
from govbot.core.events import (
    ChangeAbandoned,
    ChangeMerged,
    ChangeProposed,
    ChangeUpdated,
    CommentCommand,
    Event,
    ReviewRef,
    TagPushed,
    VoteCast,
    VoteWithdrawn,
)
from govbot.core.findings import Finding, Severity
from govbot.core.validate import FindingsCache, SchemaSet
from govbot.forges.base import Annotation, CheckReport, ForgeError
from govbot.service import releasing, voting
from govbot.service.recording import RecordingForge
from govbot.store.models import (
    AuditEntry,
    BallotRow,
    CheckResultRow,
    ReportRow,
    Review,
    VoteResultRow,
    utcnow,
)

CHECK_NAME = "govbot/check"  # its reports are of kind "check"; the vote's, "vote"
COMMENT_MARKER = "<!-- govbot:check -->"
KNOWN_ONLY_BY_VOTE = datetime(1970, 1, 1, tzinfo=UTC)
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


@dataclass
class Effects:
    reviews: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    ballots: list[dict[str, Any]] = field(default_factory=list)
    vote_results: list[dict[str, Any]] = field(default_factory=list)
    audit: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def merge(self, other: Effects) -> None:
        self.reviews += other.reviews
        self.checks += other.checks
        self.ballots += other.ballots
        self.vote_results += other.vote_results
        self.audit += other.audit


@dataclass(frozen=True)
class Context:
    forge: RecordingForge
    schemas: SchemaSet
    cache: FindingsCache | None
    actor: str
    now: Callable[[], datetime] = utcnow  # injectable: tests and the clock move time


def handle(event: Event, ctx: Context, conn_for_reads: Connection) -> Effects:
    effects = Effects()
    if isinstance(event, (ChangeProposed, ChangeUpdated)):
        _proposal(event, ctx, conn_for_reads, effects)
    elif isinstance(event, (ChangeMerged, ChangeAbandoned)):
        state = "merged" if isinstance(event, ChangeMerged) else "abandoned"
        effects.reviews.append(_review_values(event.review, state=state, at=event.at))
        effects.audit.append((f"review-{state}", event.review.key, {}))
        if isinstance(event, ChangeMerged):
            releasing.on_merged(event, ctx, conn_for_reads, effects)
    elif isinstance(event, CommentCommand) and event.command == "release":
        effects.audit.append((type(event).__name__, event.review.key, _plain(event)))
        releasing.on_release_request(event, ctx, conn_for_reads, effects)
    elif isinstance(event, (VoteCast, VoteWithdrawn, CommentCommand)):
        _ballot(event, ctx, conn_for_reads, effects)
    elif isinstance(event, TagPushed):
        effects.audit.append(("tag-pushed", f"{event.repo}@{event.tag}", {"sha": event.sha}))
    return effects


def _proposal(
    event: ChangeProposed | ChangeUpdated, ctx: Context, conn: Connection, effects: Effects
) -> None:
    review = event.review
    reviews = Review.__table__  # type: ignore[attr-defined]
    current = conn.execute(select(reviews).where(reviews.c.key == review.key)).first()
    if current is not None and event.at is not None and current.updated_at is not None:
        seen = (
            current.updated_at
            if current.updated_at.tzinfo
            else current.updated_at.replace(tzinfo=event.at.tzinfo)
        )
        if seen > event.at and current.head_sha != event.head_sha:
            effects.audit.append(
                (
                    "stale-event-ignored",
                    review.key,
                    {"head_sha": event.head_sha, "current": current.head_sha},
                )
            )
            return
    effects.reviews.append(
        _review_values(
            review,
            state="open",
            at=event.at,
            base_ref=event.base_ref,
            head_sha=event.head_sha,
            title=event.title,
            url=event.url,
            opened_at=event.at or utcnow(),
        )
    )
    base_rev = event.base_sha or event.base_ref
    try:
        base = ctx.forge.read_files(review.repo, base_rev)
        head = ctx.forge.read_files(review.repo, event.head_sha)
    except ForgeError as e:
        if not e.permanent:
            raise
        summary = f"govbot could not read the change: {e}"
        _post(
            ctx,
            review,
            event.head_sha,
            "neutral",
            "Revisions not available",
            summary,
            (),
            effects,
            base_rev,
        )
        return
    result = check(base, head, ctx.schemas, ctx.cache)
    policies = voting.policies_from(base)
    vote_class = voting.classify(policies, result.changed_files, result.changes)
    conclusion = "failure" if result.errors else "success"
    title = f"{result.errors} error(s), {sum(f.severity is Severity.WARNING for f in result.findings)} warning(s)"
    summary = report.check_markdown(result.findings, result.changes)
    annotations = tuple(_annotation(f) for f in result.findings)
    _post(
        ctx,
        review,
        event.head_sha,
        conclusion,
        title,
        summary,
        annotations,
        effects,
        base_rev,
        result.findings,
    )
    effects.checks[-1]["vote_class"] = vote_class.name
    state = SimpleNamespace(
        forge=review.forge, head_sha=event.head_sha, opened_at=_opened(conn, review.key, event)
    )
    _tally(
        ctx,
        review,
        state,
        policies,
        vote_class.name,
        voting.stored_ballots(conn, review.key),
        effects,
    )


def _opened(conn: Connection, key: str, event: ChangeProposed | ChangeUpdated) -> datetime:
    row = voting.review_row(conn, key)
    if row is not None and row.opened_at is not None:
        return voting.aware(row.opened_at)
    return event.at or utcnow()


def _ballot(
    event: VoteCast | VoteWithdrawn | CommentCommand,
    ctx: Context,
    conn: Connection,
    effects: Effects,
) -> None:
    """Record the ballot; re-tally when the change is known, with the base branch's policies."""
    review = voting.review_row(conn, event.review.key)
    if review is not None and review.state != "open":
        effects.audit.append(("vote-on-closed-review-ignored", event.review.key, _plain(event)))
        return
    head = review.head_sha if review is not None else None
    ballots, unknown = voting.ballots_for(event, head)
    effects.audit.append((type(event).__name__, event.review.key, _plain(event)))
    if unknown:
        ctx.forge.upsert_comment(
            event.review, voting.HELP_MARKER, voting.COMMAND_HELP, head_sha=head or ""
        )
    effects.ballots += [voting.ballot_values(event.review.key, b) for b in ballots]
    if review is None or review.head_sha is None:
        # a review known only by a vote so far: the epoch lets any real state win
        effects.reviews.append(_review_values(event.review, at=KNOWN_ONLY_BY_VOTE))
        return
    policies = voting.policies_from(ctx.forge.read_files(review.repo, review.base_ref or "HEAD"))
    class_name = voting.vote_class_of(conn, review.key, review.head_sha)
    _tally(
        ctx,
        event.review,
        review,
        policies,
        class_name,
        voting.stored_ballots(conn, review.key) + ballots,
        effects,
    )


def retally(ctx: Context, conn: Connection, review_key: str) -> Effects:
    """Tally a known review again (the clock, when a deadline passes)."""
    effects = Effects()
    review = voting.review_row(conn, review_key)
    if review is None or review.state != "open" or review.head_sha is None:
        return effects
    ref = ReviewRef(review.forge, review.repo, review.number)
    policies = voting.policies_from(ctx.forge.read_files(review.repo, review.base_ref or "HEAD"))
    class_name = voting.vote_class_of(conn, review.key, review.head_sha)
    _tally(ctx, ref, review, policies, class_name, voting.stored_ballots(conn, review.key), effects)
    return effects


def _tally(
    ctx: Context,
    ref: ReviewRef,
    review: Any,
    policies: voting.Policies,
    class_name: str | None,
    ballots: list[Any],
    effects: Effects,
) -> None:
    vote_class, outcome = voting.evaluate(policies, class_name, ballots, review, ctx.now())
    posted = voting.vote_report(ref, review.head_sha, vote_class, outcome, policies.committee)
    ctx.forge.post_check(posted)
    effects.vote_results.append(
        {
            "review_key": ref.key,
            "head_sha": review.head_sha,
            "vote_class": vote_class.name,
            "state": outcome.state,
            "earliest_decision": outcome.earliest_decision,
            "summary": posted.summary,
            "computed_at": utcnow(),
        }
    )
    effects.audit.append(
        (
            "tallied",
            ref.key,
            {"state": outcome.state, "class": vote_class.name, "explanation": outcome.explanation},
        )
    )


def _post(
    ctx: Context,
    review: ReviewRef,
    head_sha: str,
    conclusion: str,
    title: str,
    summary: str,
    annotations: tuple[Annotation, ...],
    effects: Effects,
    base_rev: str,
    findings: Iterable[Finding] = (),
) -> None:
    findings = list(findings)
    ctx.forge.post_check(
        CheckReport(review, head_sha, CHECK_NAME, conclusion, title, summary, annotations)
    )
    ctx.forge.upsert_comment(review, COMMENT_MARKER, summary, head_sha=head_sha)
    effects.checks.append(
        {
            "review_key": review.key,
            "head_sha": head_sha,
            "base_sha": base_rev,
            "conclusion": conclusion,
            "errors": sum(f.severity is Severity.ERROR for f in findings),
            "warnings": sum(f.severity is Severity.WARNING for f in findings),
            "summary": summary,
            "findings_json": json.dumps([f.to_dict() for f in findings]),
            "created_at": utcnow(),
        }
    )
    effects.audit.append(
        (
            "checked",
            review.key,
            {"head_sha": head_sha, "base": base_rev, "conclusion": conclusion, "title": title},
        )
    )


def _annotation(f: Finding) -> Annotation:
    return Annotation(f.file, f.line, LEVELS[f.severity], f.rule, f.message)


def _review_values(review: ReviewRef, *, at: datetime | None, **values: Any) -> dict[str, Any]:
    return {
        "key": review.key,
        "forge": review.forge,
        "repo": review.repo,
        "number": review.number,
        "updated_at": at or utcnow(),
        **values,
    }


def _plain(event: Any) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in vars(event).items()
        if k != "review"
    }


# -- phase two: one transaction ------------------------------------------------------


def _insert(conn: Connection, table: Any, values: dict[str, Any]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values)


def apply(
    conn: Connection,
    effects: Effects,
    posted: Iterable[Any],
    forge_name: str,
    dry_run: bool,
    actor: str,
) -> None:
    reviews = Review.__table__  # type: ignore[attr-defined]
    for values in effects.reviews:
        stmt = _insert(conn, reviews, {"state": "open", "title": "", "url": "", **values})
        update: dict[str, Any] = {k: stmt.excluded[k] for k in values if k != "key"}
        if "opened_at" in values:  # the first proposal starts the review clock; updates keep it
            update["opened_at"] = func.coalesce(reviews.c.opened_at, stmt.excluded.opened_at)
        # the newest event wins: an older delivery processed late does not roll the state back
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"],
                set_=update,
                where=reviews.c.updated_at <= stmt.excluded.updated_at,
            )
        )
    checks = CheckResultRow.__table__  # type: ignore[attr-defined]
    for values in effects.checks:
        stmt = _insert(conn, checks, values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["review_key", "head_sha"],
                set_={k: stmt.excluded[k] for k in values},
            )
        )
    reports = ReportRow.__table__  # type: ignore[attr-defined]
    for p in posted:
        values = {
            "review_key": p.review_key,
            "kind": p.kind,
            "head_sha": p.head_sha,
            "forge": forge_name,
            "dry_run": dry_run,
            "title": p.title[:300],
            "body": p.body,
            "external_id": p.external_id,
            "posted_at": utcnow(),
        }
        stmt = _insert(conn, reports, values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["review_key", "kind", "head_sha"],
                set_={k: stmt.excluded[k] for k in values},
            )
        )
    ballots = BallotRow.__table__  # type: ignore[attr-defined]
    for values in effects.ballots:  # a retried event's ballots are already there
        conn.execute(
            _insert(conn, ballots, values).on_conflict_do_nothing(
                index_elements=["review_key", "forge", "account", "kind", "source", "at"]
            )
        )
    results = VoteResultRow.__table__  # type: ignore[attr-defined]
    for values in effects.vote_results:
        stmt = _insert(conn, results, values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["review_key"], set_={k: stmt.excluded[k] for k in values}
            )
        )
    audit = AuditEntry.__table__  # type: ignore[attr-defined]
    for action, subject, detail in effects.audit:
        conn.execute(
            audit.insert().values(
                at=utcnow(),
                actor=actor,
                action=action,
                subject=subject[:300],
                detail=json.dumps(detail, default=str),
            )
        )
