"""``govbot bench tally``: the clock's worst case, 1,000 open reviews and 10,000 votes.

Two figures from one run on the same rows: reading the reviews and their
ballots from the database, and tallying them all (the pure function). The
target is for the tally to cost less than the read it follows.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from govbot.core.policies import Policies
from govbot.core.votes import Ballot, tally
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from govbot.store import migrate, tables
from govbot.store.db import make_engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seed(engine: Engine, reviews: int, votes: int, accounts: list[str]) -> None:
    rng = random.Random(7)
    review_rows = [
        {"key": f"github:org/gov#{i}", "forge": "github", "repo": "org/gov", "number": str(i), "base_ref": "main",
         "head_sha": f"{i:040x}", "state": "open", "title": "", "url": "", "updated_at": T0, "opened_at": T0}
        for i in range(reviews)
    ]  # fmt: skip
    ballot_rows = [
        {"review_key": f"github:org/gov#{rng.randrange(reviews)}", "forge": "github", "account": rng.choice(accounts),
         "kind": "vote", "value": rng.choice([1, 1, 1, -1, 0]), "source": "review", "head_sha": None,
         "at": T0 + timedelta(seconds=n)}
        for n in range(votes)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(tables.reviews.insert(), review_rows)
        conn.execute(tables.ballots.insert(), ballot_rows)


def load(engine: Engine) -> tuple[list[Any], dict[str, list[Ballot]]]:
    reviews, ballots = tables.reviews, tables.ballots
    by_review: dict[str, list[Ballot]] = defaultdict(list)
    with engine.connect() as conn:
        open_reviews = list(conn.execute(select(reviews).where(reviews.c.state == "open")))
        for r in conn.execute(select(ballots).order_by(ballots.c.at, ballots.c.id)):
            by_review[r.review_key].append(
                Ballot(
                    r.forge, r.account, r.kind, r.value, tables.aware(r.at), r.head_sha, r.source
                )
            )
    return open_reviews, by_review


def run(engine: Engine, label: str, reviews: int, votes: int, repeat: int) -> tuple[float, float]:
    policies = Policies.from_files(read_directory(bundled.root()))
    accounts = [m.github for m in policies.committee.members if m.github] + [
        f"user{i}" for i in range(20)
    ]
    seed(engine, reviews, votes, accounts)
    rule = policies.voting.default.rule
    best_load = best_tally = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        open_reviews, by_review = load(engine)
        best_load = min(best_load, time.perf_counter() - start)
        start = time.perf_counter()
        now = T0 + timedelta(days=10)
        states = [
            tally(by_review.get(r.key, []), policies.committee, rule, now, T0, r.head_sha).state
            for r in open_reviews
        ]
        best_tally = min(best_tally, time.perf_counter() - start)
    assert len(states) == reviews
    print(
        f"{label:<12} read {reviews} reviews + {votes} ballots: {best_load:8.4f} s   tally all: {best_tally:8.4f} s   tally/read: {best_tally / best_load:5.2f}"
    )
    return best_load, best_tally


def main(args: argparse.Namespace) -> int:
    reviews, votes = 1000, 10_000
    print(
        f"govbot bench tally: best of {args.repeat} run(s); {reviews} open reviews, {votes} ballots (target: tally < read)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        run(engine, "SQLite", reviews, votes, args.repeat)
        engine.dispose()
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    try:
        admin = make_engine(url)
        schema = f"bench_{random.randrange(1 << 30):x}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as e:  # no PostgreSQL here: say so, measure SQLite only
        print(f"PostgreSQL   not measured: {type(e).__name__}")
        return 0
    try:
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        migrate.upgrade(engine)
        run(engine, "PostgreSQL", reviews, votes, args.repeat)
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    sys.stdout.flush()
    return 0
