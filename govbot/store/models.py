"""govbot's tables. Schema changes go through migrations (govbot/store/migrations).

The inbox (``deliveries``) holds every accepted webhook body verbatim, keyed by
its delivery id, before the HTTP answer goes out; everything else is derived
from it by workers and can be rebuilt by replaying it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Delivery(SQLModel, table=True):
    """One webhook delivery (or one stream event), as received."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_deliveries_source_delivery"),
        UniqueConstraint("source", "event_key", name="uq_deliveries_source_event_key"),
        Index("ix_deliveries_claim", "status", "available_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # "github" | "gerrit"
    delivery_id: str = Field(max_length=128)
    event: str = Field(max_length=64)
    action: str | None = Field(default=None, max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="queued", max_length=16)  # queued|processing|done|parked
    attempts: int = 0
    available_at: datetime = Field(default_factory=utcnow)
    locked_by: str | None = Field(default=None, max_length=128)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    finished_at: datetime | None = None
    # The forge object the delivery reports, when it has a lasting identity
    # ("comment:<id>:<updated_at>", "review:<id>:submitted", "patchset:<project>:<n>:<ps>"):
    # a reconciled delivery and the late real webhook of the same thing share it.
    event_key: str | None = Field(default=None, max_length=300)


class ForgeLimit(SQLModel, table=True):
    """A forge's rate limit, shared by every worker: no request to ``forge`` (for the
    installation or token ``key``) before ``until``."""

    __tablename__ = "forge_limits"
    __table_args__ = (UniqueConstraint("forge", "key", name="uq_forge_limits_forge_key"),)

    id: int | None = Field(default=None, primary_key=True)
    forge: str = Field(max_length=16)
    key: str = Field(max_length=200)
    until: datetime


class Review(SQLModel, table=True):
    """A pull request or Gerrit change, as govbot last saw it."""

    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)  # ReviewRef.key
    forge: str = Field(max_length=16)
    repo: str = Field(max_length=200)
    number: str = Field(max_length=32)
    base_ref: str | None = Field(default=None, max_length=200)
    head_sha: str | None = Field(default=None, max_length=64)
    state: str = Field(default="open", max_length=16)  # open|merged|abandoned
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    url: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None  # when govbot first received the review
    governed_branch: str | None = Field(default=None, max_length=200)  # whose rules apply
    policy_sha: str | None = Field(default=None, max_length=64)  # pinned when the vote opened
    period_start: datetime | None = None  # the review period runs from here (None: a draft)
    draft: bool = False
    tally_seq: int = 0  # asks for a tally: bumped by every ballot and revision
    tallied_seq: int = 0  # the last request a tally has answered


class ReviewHead(SQLModel, table=True):
    """Every revision a review has pointed at, when, and what its governed content is."""

    __tablename__ = "review_heads"
    __table_args__ = (
        UniqueConstraint("review_key", "head_sha", name="uq_review_heads_review_head"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, index=True)
    head_sha: str = Field(max_length=64)
    content_key: str = Field(max_length=64)  # the hash of the governed files at head_sha
    vote_class: str | None = Field(default=None, max_length=64)
    seen_at: datetime  # govbot's time for it: the receipt of the event that brought it


class CheckResultRow(SQLModel, table=True):
    """The outcome of ``check`` on one revision of a review."""

    __tablename__ = "check_results"
    __table_args__ = (
        UniqueConstraint("review_key", "head_sha", name="uq_check_results_review_head"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, index=True)
    head_sha: str = Field(max_length=64)
    base_sha: str | None = Field(default=None, max_length=64)
    conclusion: str = Field(max_length=16)  # success|failure|neutral
    errors: int = 0
    warnings: int = 0
    summary: str = Field(sa_column=Column(Text, nullable=False))
    findings_json: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    vote_class: str | None = Field(default=None, max_length=64)  # which voting rule applies


class ReportRow(SQLModel, table=True):
    """What govbot posted to a forge, or would have posted in dry-run mode."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("review_key", "kind", "head_sha", name="uq_reports_review_kind_head"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, index=True)
    kind: str = Field(max_length=32)  # check|comment|tag
    head_sha: str = Field(default="", max_length=64)
    forge: str = Field(max_length=16)
    dry_run: bool = True
    title: str = Field(default="", max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    external_id: str | None = Field(default=None, max_length=200)
    posted_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Append-only: every decision govbot made, and why."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128)  # the worker, the receiver, an operator
    action: str = Field(max_length=64)
    subject: str = Field(max_length=300)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class BallotRow(SQLModel, table=True):
    """One vote, withdrawal, hold or unhold, as cast on a review (append-only)."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint(
            "review_key",
            "forge",
            "account",
            "kind",
            "source",
            "source_id",
            "at",
            name="uq_ballots_act_source",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, index=True)
    forge: str = Field(max_length=16)
    account: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # vote|withdraw|hold|unhold
    value: int | None = None
    source: str = Field(max_length=64)
    head_sha: str | None = Field(default=None, max_length=64)
    at: datetime
    login: str = Field(default="", max_length=200)  # for display; ``account`` is the id
    source_id: str = Field(default="", max_length=200)  # the review or comment carrying it


class VoteResultRow(SQLModel, table=True):
    """The latest tally of a review: what the vote check shows."""

    __tablename__ = "vote_results"

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, unique=True)
    head_sha: str | None = Field(default=None, max_length=64)
    vote_class: str = Field(max_length=64)
    state: str = Field(max_length=16)  # pending|passed|failed|blocked|held
    earliest_decision: datetime | None = None
    summary: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)
    policy_sha: str | None = Field(default=None, max_length=64)


class ClockEvent(SQLModel, table=True):
    """A scheduled act of the clock; the unique key makes it happen once, whatever runs it."""

    __tablename__ = "clock_events"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, unique=True)  # e.g. reminder:<review>:<deadline>
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    due_at: datetime
    done_at: datetime = Field(default_factory=utcnow)
    done_by: str = Field(max_length=128)


class DecisionRow(SQLModel, table=True):
    """One entry of a repository's decision chain (append-only; see govbot.core.decisions).

    ``record`` holds the canonical JSON the hash was computed over, byte for
    byte; the other columns repeat what queries select by. The unique pairs
    make a fork impossible even if a lock were bypassed: one entry per
    position, and one successor per entry. Migration 0003 adds triggers that
    refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
    """

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_decisions_chain_seq"),
        UniqueConstraint("chain", "prev", name="uq_decisions_chain_prev"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=300)  # "forge:repo"
    seq: int
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    review_key: str = Field(max_length=300, index=True)
    decided_at: datetime
    record: str = Field(sa_column=Column(Text, nullable=False))


class FlagRequestRow(SQLModel, table=True):
    """A vendor's request to flag a test (2017A C3), and its acknowledgement (C3.3)."""

    __tablename__ = "flag_requests"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=800, unique=True)  # "<asked_on>|<test>": one per place and test
    asked_on: str = Field(max_length=300, index=True)  # the review or issue key it was asked on
    forge: str = Field(max_length=16)
    repo: str = Field(max_length=200)
    test: str = Field(max_length=400)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requester: str = Field(max_length=200)
    requested_at: datetime
    due_at: datetime
    governed_branch: str = Field(max_length=200)
    guidelines: str = Field(default="", max_length=300)  # comma-separated, as found when asked
    state: str = Field(default="open", max_length=16)  # open|acknowledged
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ReviewLabelsRow(SQLModel, table=True):
    """The labels govbot wants on a review (its verdict); a person's edit is put back."""

    __tablename__ = "review_labels"

    id: int | None = Field(default=None, primary_key=True)
    review_key: str = Field(max_length=300, unique=True)
    head_sha: str = Field(default="", max_length=64)
    labels: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    updated_at: datetime = Field(default_factory=utcnow)


class CertificationRow(SQLModel, table=True):
    """A product merged into the governed branch by a review govbot judged (append-only):
    where its expiry reminders go, and whether the Foundation's vote had passed."""

    __tablename__ = "certifications"
    __table_args__ = (
        UniqueConstraint("forge", "repo", "product", "merge_sha", name="uq_certifications_merge"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forge: str = Field(max_length=16)
    repo: str = Field(max_length=200)
    product: str = Field(max_length=300)  # products/<vendor>/<product>.yaml
    review_key: str = Field(max_length=300, index=True)
    governed_branch: str = Field(max_length=200)
    merge_sha: str = Field(max_length=64)
    approved_at: datetime
    vote_state: str = Field(max_length=16)  # the tally when it merged: passed, or why not


class ReconcileMark(SQLModel, table=True):
    """How far reconciliation has read one repository (or Gerrit project) of a forge."""

    __tablename__ = "reconcile_marks"
    __table_args__ = (UniqueConstraint("forge", "scope", name="uq_reconcile_marks_forge_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    forge: str = Field(max_length=16)
    scope: str = Field(max_length=200)  # "owner/repo" on GitHub, the project on Gerrit
    watermark: datetime | None = None  # the forge's time of the newest change read
    etags: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    swept_at: datetime | None = None  # govbot's time of the last complete sweep
