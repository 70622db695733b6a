"""The tables as SQLAlchemy Core objects, and what every query module shares.

Queries are written against Core tables (typed, no ORM session), one module
per concern beside this one. Upserts differ by dialect (PostgreSQL and SQLite
both have ``ON CONFLICT``, under different constructors): :func:`insert`
picks the right one, once.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel

from govbot.store import models  # noqa: F401  (registers the tables)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")

_TABLES = SQLModel.metadata.tables
deliveries: Table = _TABLES["deliveries"]
forge_limits: Table = _TABLES["forge_limits"]
reviews: Table = _TABLES["reviews"]
check_results: Table = _TABLES["check_results"]
reports: Table = _TABLES["reports"]
audit_log: Table = _TABLES["audit_log"]
ballots: Table = _TABLES["ballots"]
vote_results: Table = _TABLES["vote_results"]
clock_events: Table = _TABLES["clock_events"]
review_heads: Table = _TABLES["review_heads"]
decisions: Table = _TABLES["decisions"]
flag_requests: Table = _TABLES["flag_requests"]
review_labels: Table = _TABLES["review_labels"]
certifications: Table = _TABLES["certifications"]
reconcile_marks: Table = _TABLES["reconcile_marks"]


def insert(dialect_name: str, table: Table) -> Any:
    """An INSERT that knows ``ON CONFLICT`` (PostgreSQL's or SQLite's)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    """Insert ``values``, or overwrite the row with the same ``keys`` with them."""
    stmt = insert(conn.dialect.name, table).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=keys, set_={k: stmt.excluded[k] for k in values if k not in keys}
        )
    )


def aware(at: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def from_row(cls: type[D], row: Any) -> D:
    """A dataclass of a row's columns of the same names, every datetime given its zone."""
    values = {}
    for f in fields(cls):
        value = getattr(row, f.name)
        values[f.name] = aware(value) if isinstance(value, datetime) else value
    return cls(**values)
