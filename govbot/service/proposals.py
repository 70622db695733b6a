"""A proposed change: check each new revision, post the verdict, follow the review's life.

The check reads the base and head from the forge, judges them with the pure
``core.check``, and answers with a check run and one comment edited in
place; then the vote is tallied again, because a new revision can change
which voting rule applies and which votes are stale.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection

from govbot.core import layout, report
from govbot.core.check import check
from govbot.core.events import (
    ChangeAbandoned,
    ChangeMerged,
    ChangeProposed,
    ChangeUpdated,
    ReviewRef,
)
from govbot.core.findings import Finding, Severity
from govbot.core.policies import Policies, PolicyUnusable
from govbot.forges.base import Annotation, CheckReport, ForgeError
from govbot.service import certification
from govbot.service.context import Context
from govbot.service.governed import governed_branch
from govbot.service.registry import handles
from govbot.store import checks, heads, reviews
from govbot.store.checks import CheckRecord
from govbot.store.effects import Effects
from govbot.store.models import utcnow
from govbot.store.reviews import ReviewState, ReviewUpdate

CHECK_NAME = "govbot/check"  # its reports are of kind "check"; the vote's, "vote"
COMMENT_MARKER = "<!-- govbot:check -->"
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


@handles(ChangeProposed, ChangeUpdated)
def on_revision(
    event: ChangeProposed | ChangeUpdated, ctx: Context, conn: Connection, effects: Effects
) -> None:
    """Check the new revision, classify it afresh, and ask for the vote to be tallied.

    The first sighting pins the review's governed branch and the policy commit
    that will judge its vote. Every head is classified again from the full
    diff; a class that changes restarts the review period at that push, and
    time spent as a draft never counts.
    """
    ref = event.review
    current = reviews.get(conn, ref.key)
    if _already_checked(conn, event, current):
        # The same revision reported twice (reconciliation, then the late webhook):
        # it was checked and nothing about the review changed, so nothing is redone.
        effects.audit.append(("revision-already-checked", ref.key, {"head_sha": event.head_sha}))
        return
    at = ctx.when(event.at)
    if current is not None and current.updated_at > at and current.head_sha != event.head_sha:
        detail = {"head_sha": event.head_sha, "current": current.head_sha}
        effects.audit.append(("stale-event-ignored", ref.key, detail))
        return
    governed = (
        current.governed_branch
        if current is not None and current.governed_branch
        else governed_branch(ctx, ref.repo, event.governed_branch)
    )
    base_rev = event.base_sha or event.base_ref
    try:
        pinned = (
            current.policy_sha
            if current is not None and current.policy_sha
            else ctx.forge.resolve(ref.repo, governed)
        )
        policy_files = ctx.forge.read_files(ref.repo, pinned)
        base = ctx.forge.read_files(ref.repo, base_rev)
        head = ctx.forge.read_files(ref.repo, event.head_sha)
    except ForgeError as e:
        if not e.permanent:
            raise
        # The head is recorded all the same, of no known class and a content of its own:
        # votes bind to it, the substantive class judges it, and a class that changes
        # (to unknown) restarts the review period, as any other class change does.
        known = heads.history(conn, ref.key)
        restart = bool(known) and known[-1].vote_class is not None
        effects.reviews.append(_update(event, at, ctx.receipt, current, governed, None, restart))
        effects.heads.append((ref.key, event.head_sha, f"unread:{event.head_sha}", None, at))
        summary = f"govbot could not read the change: {e}"
        post(ctx, event, base_rev, "neutral", "Revisions not available", summary, [], effects)
        effects.tally.append(ref.key)
        return
    # judged by the process in force when govbot received the revision (the era's
    # paragraphs, the time line's windows): never at a time the payload states, which
    # could reopen a window the time line has closed
    result = check(base, head, ctx.schemas, ctx.cache, policy_files, when=ctx.receipt)
    # products: a verdict per program and the Foundation's vote; guidelines: their impact
    certified = certification.review(base, head, policy_files, result.findings, ctx.receipt, pinned)
    # a changed file that does not read one way (a duplicate key, a syntax error) may
    # mean to another reader what the structural diff does not show: never editorial
    changed = set(result.changed_files)
    ambiguous = any(
        f.severity is Severity.ERROR and f.rule.startswith("yaml.") and f.file in changed
        for f in result.findings
    )
    try:
        policies: Policies | None = Policies.load(policy_files, ctx.schemas)
    except PolicyUnusable:
        policies = None  # the tally says why no vote can pass
    vote_class: str | None = certified.vote_class
    if vote_class is None and policies is not None:
        paths, listed = _other_paths(ctx, ref, effects)
        vote_class = policies.voting.classify(
            [*result.changed_files, *paths], result.changes, ambiguous or not listed
        ).name
    history = heads.history(conn, ref.key)
    previous = history[-1] if history else None
    content = layout.content_key(head)
    if (
        event.keeps_votes
        and previous is not None
        and content != previous.content_key
        and policies is not None
        and policies.voting.trivial_rebase_keeps_votes
    ):
        content = _rebased_content(ctx, conn, event, base, head, previous, content, effects)
    restart = previous is not None and previous.vote_class != vote_class
    effects.reviews.append(_update(event, at, ctx.receipt, current, governed, pinned, restart))
    effects.heads.append((ref.key, event.head_sha, content, vote_class, at))
    findings = [*result.findings, *certified.findings]
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    post(
        ctx,
        event,
        base_rev,
        "failure" if errors else "success",
        f"{errors} error(s), {warnings} warning(s)",
        report.check_markdown(findings, result.changes, result.era, result.scores)
        + certified.markdown,
        findings,
        effects,
        vote_class=vote_class,
    )
    certification.label(ctx, conn, ref, event.head_sha, certified.labels, at, effects)
    if restart:
        effects.audit.append(
            (
                "review-period-restarted",
                ref.key,
                {"from": previous.vote_class if previous else None, "to": vote_class},
            )
        )
    effects.tally.append(ref.key)


def _already_checked(
    conn: Connection, event: ChangeProposed | ChangeUpdated, current: ReviewState | None
) -> bool:
    """Whether the review is open at this very head, base and draft state, and checked."""
    if current is None or current.state != "open" or current.head_sha != event.head_sha:
        return False
    if current.draft != event.draft or current.base_ref != event.base_ref:
        return False
    latest = checks.latest(conn, event.review.key)
    return latest is not None and latest.head_sha == event.head_sha


def _other_paths(ctx: Context, ref: ReviewRef, effects: Effects) -> tuple[list[str], bool]:
    """Paths the change touches outside the files govbot reads (``schemas/`` and the
    like), which a class's path patterns may name (``schemas/**`` is a policy change);
    and whether the forge could list them.

    The forge's list is the review's latest, a superset of this head's when a push
    is on its way: a stricter class at worst, never a looser one. A list the forge
    refuses leaves the class to the substantive class, never the editorial one.
    """
    try:
        listed = ctx.forge.changed_files(ref)
    except ForgeError as e:
        if not e.permanent:
            raise
        effects.audit.append(("changed-files-unknown", ref.key, {"error": str(e)[:500]}))
        return [], False
    return [p for p in listed if not layout.is_governed(p)], True


def _rebased_content(
    ctx: Context,
    conn: Connection,
    event: ChangeProposed | ChangeUpdated,
    base: dict[str, bytes],
    head: dict[str, bytes],
    previous: heads.Head,
    content: str,
    effects: Effects,
) -> str:
    """The content key of a patch set Gerrit calls a trivial rebase (or no code change).

    It keeps the previous head's key, and so its votes, only when its own edits
    to the governed files are exactly the previous head's edits to its own base:
    Gerrit's word is not taken alone, since the previous head govbot saw need not
    be the prior patch set (a lost or late ``patchset-created`` of a reworked one
    would otherwise pass the first patch set's votes on to new content).
    """
    ref = event.review
    before = checks.base_of(conn, ref.key, previous.head_sha)
    try:
        same = before is not None and layout.edits_key(
            ctx.forge.read_files(ref.repo, before),
            ctx.forge.read_files(ref.repo, previous.head_sha),
        ) == layout.edits_key(base, head)
    except ForgeError as e:
        if not e.permanent:
            raise
        same = False
    detail = {"head_sha": event.head_sha, "previous": previous.head_sha}
    if same:
        effects.audit.append(("trivial-rebase-keeps-votes", ref.key, detail))
        return previous.content_key
    effects.audit.append(("trivial-rebase-not-confirmed", ref.key, detail))
    return content


def _update(
    event: ChangeProposed | ChangeUpdated,
    at: datetime,
    receipt: datetime,
    current: ReviewState | None,
    governed: str,
    pinned: str | None,
    restart: bool = False,
) -> ReviewUpdate:
    """The review's row after this revision; the period starts at govbot's receipt time.

    It starts when the review is first seen ready for review (opened, or
    marked ready after being a draft) and again when the class changes.
    """
    start: datetime | None = None
    was_draft = current is None or current.draft or current.period_start is None
    if not event.draft and (was_draft or restart):
        start = receipt
    return ReviewUpdate(
        event.review,
        at,
        state="open",
        base_ref=event.base_ref,
        head_sha=event.head_sha,
        title=event.title,
        url=event.url,
        opened_at=receipt,
        governed_branch=governed,
        policy_sha=pinned,
        period_start=start,
        draft=event.draft,
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
