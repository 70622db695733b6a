"""What handling an event changes in the database, written in one transaction.

A handler does its slow work (reading the forge, checking, posting) with no
transaction open and returns :class:`Effects`; the worker then writes them
with :func:`apply` in the same transaction that marks the delivery done. A
crash between the two replays the event: forge posts are updated in place,
and the database never holds half an outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from govbot import metrics
from govbot.core.decisions import Decision
from govbot.core.flag_requests import FlagRequest
from govbot.core.votes import Ballot
from govbot.store import (
    audit,
    ballots,
    certified,
    checks,
    decisions,
    flags,
    heads,
    labels,
    reports,
    reviews,
    votes,
)
from govbot.store.certified import Certification

log = logging.getLogger("govbot.decisions")


@dataclass
class Effects:
    reviews: list[reviews.ReviewUpdate] = field(default_factory=list)
    checks: list[checks.CheckRecord] = field(default_factory=list)
    ballots: list[tuple[str, Ballot]] = field(default_factory=list)  # (review key, ballot)
    vote_results: list[votes.VoteResult] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)  # appended unless unchanged
    reports: list[reports.Report] = field(default_factory=list)
    audit: list[audit.Entry] = field(default_factory=list)
    heads: list[tuple[str, str, str, str | None, datetime]] = field(default_factory=list)
    """(review key, head sha, content key, vote class, seen at): a review's head history."""
    tally: list[str] = field(default_factory=list)  # reviews whose vote must be tallied again
    labels: list[tuple[str, str, tuple[str, ...], datetime]] = field(default_factory=list)
    """(review key, head sha, the labels govbot wants there, when): its managed labels."""
    flag_requests: list[FlagRequest] = field(default_factory=list)
    flag_acks: list[tuple[str, datetime, str, str]] = field(default_factory=list)
    """(flag request key, when, by whom, note): acknowledgements (2017A C3.3)."""
    certified: list[Certification] = field(default_factory=list)

    def merge(self, other: Effects) -> None:
        self.reviews += other.reviews
        self.checks += other.checks
        self.ballots += other.ballots
        self.vote_results += other.vote_results
        self.decisions += other.decisions
        self.reports += other.reports
        self.audit += other.audit
        self.heads += other.heads
        self.tally += other.tally
        self.labels += other.labels
        self.flag_requests += other.flag_requests
        self.flag_acks += other.flag_acks
        self.certified += other.certified


def apply(conn: Connection, effects: Effects, actor: str) -> None:
    """Write everything in ``conn``'s transaction; each decision is logged with its review."""
    for change in effects.reviews:
        reviews.update(conn, change)
    for key, head_sha, content_key, vote_class, seen_at in effects.heads:
        heads.record(conn, key, head_sha, content_key, vote_class, seen_at)
    for check in effects.checks:
        checks.record(conn, check)
    for report in effects.reports:
        reports.record(conn, report)
    for review_key, ballot in effects.ballots:
        ballots.add(conn, review_key, ballot)
    for result in effects.vote_results:
        before = votes.get(conn, result.review_key)
        votes.record(conn, result)
        metrics.VOTES_TALLIED.labels(state=result.state).inc()
        same = before is not None and (before.state, before.head_sha) == (
            result.state,
            result.head_sha,
        )
        log.log(
            logging.DEBUG if same else logging.INFO,
            "vote %s (%s) at %s",
            result.state,
            result.vote_class,
            (result.head_sha or "-")[:12],
            extra={"review": result.review_key, "state": result.state, "actor": actor},
        )
    for check in effects.checks:
        log.info(
            "check %s: %d error(s), %d warning(s) at %s",
            check.conclusion,
            check.errors,
            check.warnings,
            check.head_sha[:12],
            extra={"review": check.review_key, "actor": actor},
        )
    for decision in effects.decisions:  # the chain's lock is taken last, held to commit
        decisions.append_if_changed(conn, decision)
    for review_key, head_sha, wanted, at in effects.labels:
        labels.record(conn, review_key, head_sha, wanted, at)
    for request in effects.flag_requests:
        flags.record(conn, request)
    for key, at, by, note in effects.flag_acks:
        flags.acknowledge(conn, key, at, by, note)
    for entry in effects.certified:
        certified.record(conn, entry)
    audit.append(conn, actor, effects.audit)
    for key in dict.fromkeys(effects.tally):
        reviews.want_tally(conn, key)
