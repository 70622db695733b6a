"""Serialized tallies (issue 11, property 8): four workers, twenty reviews, concurrent votes.

Twenty Gerrit changes are opened and voted on through the real receiver
(deliveries as the webhooks plugin sends them); four real workers in threads
drain the inbox at the same time, each with its own real Gerrit adapter
talking REST to the fake Gerrit, on PostgreSQL (the database several workers
share in production; the per-review lock there is an advisory lock). Ballots
of one change are delivered back to back, so different workers handle them at
the same moment.

Afterwards, for every review, the last result posted to Gerrit and the result
stored both equal the tally recomputed from the stored ballots with
``govbot.core.votes.tally``; and again after the clock passes the review
period and re-tallies every open review.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govbot.core.policies import Policies
from govbot.core.votes import tally
from govbot.repo import bundled
from govbot.repo.snapshots import read_git
from govbot.service.clock import Clock
from govbot.service.worker import Worker
from govbot.store import ballots, reviews
from govbot.store.models import VoteResultRow
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.test_vote_scenario import GERRIT_IDS, SECRET, T0, build_revisions
from webhooks.app import create_app
from webhooks.settings import Settings

PROJECT = "governance/guidelines"
WORKERS = 4
CHANGES = range(101, 121)  # twenty reviews
RECEIVED = T0 + timedelta(hours=1)  # govbot's clock while the votes come in


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


@pytest.fixture
def gerrit(revisions: dict[str, Any]) -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.heads[PROJECT] = "main"
        fake.accounts.update(GERRIT_IDS)
        repo = revisions["repo"]
        fake.add_commit(
            PROJECT, revisions["base"], read_git(repo, revisions["base"]), branch="main"
        )
        fake.add_commit(PROJECT, revisions["head1"], read_git(repo, revisions["head1"]))
        for number in CHANGES:
            changed = {"guidelines/next.yaml": {}}
            fake.add_change(PROJECT, number, revisions["head1"], changed, branch="main")
        yield fake


def account(user: str) -> dict[str, Any]:
    return {"name": user, "email": f"{user}@example.org", "username": user}


def event(kind: str, number: int, revision: str, minute: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "change": {"project": PROJECT, "branch": "main", "id": f"I{number:040d}", "number": number,
                   "subject": "Make a capability required", "owner": account("contributor"),
                   "url": f"https://review.example.org/{number}", "status": "NEW"},
        "patchSet": {"number": 1, "revision": revision, "uploader": account("contributor"),
                     "ref": f"refs/changes/{number % 100:02d}/{number}/1", "createdOn": int(T0.timestamp())},
        "eventCreatedOn": int((T0 + timedelta(minutes=minute)).timestamp()),
        **extra,
    }  # fmt: skip


def ballots_of(number: int, revision: str) -> list[dict[str, Any]]:
    """Six votes on one change, a chair changing her mind: on even changes she ends at -1."""
    plan = [("member-carol", 1, 0), ("member-erin", 1, 0), ("chair-bob", 1, 0),
            ("outsider", 1, 0), ("chair-alice", -1, 0), ("chair-alice", 1, -1)]  # fmt: skip
    if number % 2 == 0:
        plan[4:] = [("chair-alice", 1, 0), ("chair-alice", -1, 1)]
    return [
        event(
            "comment-added",
            number,
            revision,
            10 + i,
            author=account(user),
            approvals=[{"type": "Code-Review", "value": str(v), "oldValue": str(old)}],
            comment=f"Patch Set 1: Code-Review{v:+d}",
        )
        for i, (user, v, old) in enumerate(plan)
    ]


def deliver(client: TestClient, payload: dict[str, Any]) -> None:
    auth = "Basic " + base64.b64encode(f"gerrit:{SECRET}".encode()).decode()
    answer = client.post(
        "/webhooks/gerrit", content=json.dumps(payload).encode(), headers={"Authorization": auth}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "queued", answer.text


def last_posted(fake: FakeGerrit) -> dict[int, str]:
    """Per change, the title of the last vote result govbot posted (render_check's first line:
    ``govbot/vote: <conclusion>: <state>: <explanation>``)."""
    found: dict[int, str] = {}
    for r in fake.reviews:
        message = str(r.body.get("message", ""))
        if message.startswith("govbot/vote: "):
            number = int(unquote(r.path.split("/")[3]).rpartition("~")[2])
            found[number] = message.split("\n", 1)[0].split(": ", 2)[2]
    return found


def recomputed(engine: Any, policies: Policies, now: Any) -> dict[int, str]:
    """Per change, ``state: explanation`` of govbot.core.votes.tally over the stored ballots."""
    out: dict[int, str] = {}
    with engine.connect() as conn:
        for number in CHANGES:
            key = f"gerrit:{PROJECT}#{number}"
            review = reviews.get(conn, key)
            assert review is not None and review.period_start is not None
            vote_class = conn.execute(
                select(VoteResultRow.vote_class).where(VoteResultRow.review_key == key)
            ).scalar_one()
            rule = next(c.rule for c in policies.voting.classes if c.name == vote_class)
            stored = ballots.for_review(conn, key)
            assert len(stored) == 6, f"{key}: {len(stored)} ballots stored"
            t = tally(
                stored, policies.committee, rule, now, review.period_start, review.head_sha,
                forge="gerrit",
            )  # fmt: skip
            out[number] = f"{t.state}: {t.explanation}"[:255]
    return out


def stored_titles(engine: Any) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(VoteResultRow.review_key, VoteResultRow.state)).all()
    return {int(k.rpartition("#")[2]): s for k, s in rows}


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # skips without PostgreSQL
def test_four_workers_post_the_tally_of_the_stored_ballots(
    engine: Any, gerrit: FakeGerrit, revisions: dict[str, Any]
) -> None:
    now = [RECEIVED]
    schemas = bundled.schema_set()
    forges = [gerrit.forge() for _ in range(WORKERS)]
    settings = Settings(github_secret=SECRET.encode(), gerrit_secret=SECRET.encode())
    client = TestClient(create_app(engine, settings, now=lambda: now[0]))
    head = revisions["head1"]
    for number in CHANGES:
        deliver(client, event("patchset-created", number, head, 0, uploader=account("contributor")))
    votes = [b for number in CHANGES for b in ballots_of(number, head)]

    delivered = threading.Event()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        forge = forges[i]
        worker = Worker(
            engine, lambda _: (forge, False), schemas, worker_id=f"w{i}", now=lambda: now[0]
        )
        try:
            while True:
                if worker.run_once() is None:
                    if delivered.is_set() and worker.run_once() is None:
                        return
                    delivered.wait(0.02)
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for payload in votes:  # 120 ballots while four workers drain the inbox
        deliver(client, payload)
    delivered.set()
    for t in threads:
        t.join(120)
    assert not errors and not any(t.is_alive() for t in threads)

    with engine.connect() as conn:
        statuses = conn.exec_driver_sql(
            "SELECT status, count(*) FROM deliveries GROUP BY status"
        ).all()
        actors = conn.exec_driver_sql("SELECT DISTINCT actor FROM audit_log").scalars().all()
    assert dict(statuses) == {"done": len(CHANGES) + len(votes)}
    assert {f"w{i}" for i in range(WORKERS)} <= set(actors)  # all four took their share
    pinned = read_git(revisions["repo"], revisions["base"])
    policies = Policies.load(pinned, schemas)
    expected = recomputed(engine, policies, now[0])
    assert last_posted(gerrit) == expected
    assert {n: e.split(":")[0] for n, e in expected.items()} == stored_titles(engine)
    assert {n: e.split(":")[0] for n, e in expected.items()} == {
        n: "blocked" if n % 2 == 0 else "pending" for n in CHANGES
    }

    # the clock re-tallies every open review once the review period is over
    now[0] = RECEIVED + timedelta(days=8)
    clock = Clock(engine, lambda _: (forges[0], False), schemas, now=lambda: now[0])
    clock.tick()
    expected = recomputed(engine, policies, now[0])
    assert last_posted(gerrit) == expected
    assert {n: e.split(":")[0] for n, e in expected.items()} == {
        n: "blocked" if n % 2 == 0 else "passed" for n in CHANGES
    }
