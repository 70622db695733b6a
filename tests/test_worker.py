"""The worker, end to end on both databases: inbox -> check -> reports, in dry-run mode."""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.core.events import ReviewRef
from govbot.core.yamlio import dump, parse_bytes
from govbot.forges.base import CheckReport, Forge, ForgeError
from govbot.forges.dryrun import DryRunForge
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from govbot.service.worker import Worker
from govbot.store import inbox, tables
from govbot.store.models import Delivery
from tests.conftest import REPO

NEXT = "guidelines/next.yaml"


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def governance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A governance repo with a base commit, a bad change and a good change."""
    repo = tmp_path_factory.mktemp("gov") / "repo"
    for rel, raw in read_directory(REPO).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    data = parse_bytes(NEXT, (repo / NEXT).read_bytes()).data

    def commit(edit: Any, message: str) -> str:
        g = copy.deepcopy(data)
        edit(g)
        (repo / NEXT).write_text(dump(g))
        git(repo, "commit", "-q", "-am", message)
        sha = git(repo, "rev-parse", "HEAD")
        git(repo, "reset", "-q", "--hard", base)
        return sha

    bad = commit(
        lambda g: g["components"]["os_powered_compute"]["capabilities"]["required"].remove(
            "compute-servers-lock"
        ),
        "bad",
    )
    good = commit(lambda g: g.update(releases=["wallaby", "xena"]), "good")
    return {"repo": repo, "base": base, "bad": bad, "good": good}


def pr_payload(
    action: str, base: str, head: str, number: int = 7, updated: str = "2026-01-01T00:00:00Z"
) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "title": "change next",
            "html_url": f"https://github.example/governance/guidelines/pull/{number}",
            "user": {"login": "contributor"},
            "updated_at": updated,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "topic", "sha": head},
        },
        "repository": {"full_name": "governance/guidelines"},
    }


def deliver(
    engine: Any, payload: dict[str, Any], delivery: str, event: str = "pull_request"
) -> None:
    with engine.begin() as conn:
        inbox.record(
            conn, "github", delivery, event, payload.get("action"), json.dumps(payload).encode()
        )


def make_worker(engine: Any, forge: Forge, dry_run: bool = True) -> Worker:
    return Worker(engine, lambda source: (forge, dry_run), bundled.schema_set())


def rows(engine: Any, table: Any) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_a_proposal_is_checked_and_the_report_recorded(
    engine: Any, governance: dict[str, Any]
) -> None:
    worker = make_worker(engine, DryRunForge(governance["repo"]))
    deliver(engine, pr_payload("opened", governance["base"], governance["bad"]), "d-bad")
    assert worker.run(once=True) == 1
    (check,) = rows(engine, tables.check_results)
    assert (check.review_key, check.head_sha, check.conclusion) == (
        "github:governance/guidelines#7",
        governance["bad"],
        "failure",
    )
    assert "compute-servers-lock" in check.summary and "2017A.A4.5" in check.findings_json
    reports = {r.kind: r for r in rows(engine, tables.reports)}
    assert set(reports) == {"check", "comment", "vote"}  # the vote opens, pending
    assert all(r.dry_run for r in reports.values())
    assert reports["check"].title.startswith("1 error(s)")
    (review,) = rows(engine, tables.reviews)
    assert (review.head_sha, review.state) == (governance["bad"], "open")
    assert [a.action for a in rows(engine, tables.audit_log)] == ["checked", "tallied"]
    assert inbox.counts(engine) == {"done": 1}


def test_a_legal_change_passes(engine: Any, governance: dict[str, Any]) -> None:
    deliver(engine, pr_payload("opened", governance["base"], governance["good"]), "d-good")
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    (check,) = rows(engine, tables.check_results)
    assert check.conclusion == "success"


def test_the_same_event_twice_leaves_one_result(engine: Any, governance: dict[str, Any]) -> None:
    payload = pr_payload("opened", governance["base"], governance["bad"])
    deliver(engine, payload, "once")
    deliver(engine, payload, "once")  # a redelivery: not stored again
    deliver(engine, {**payload, "action": "reopened"}, "again")  # a new delivery, same revision
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    assert len(rows(engine, tables.check_results)) == 1
    assert len(rows(engine, tables.reports)) == 3  # check, comment, vote: updated, not duplicated
    assert inbox.counts(engine) == {"done": 2}


def test_revisions_missing_locally_give_a_neutral_result(
    engine: Any, governance: dict[str, Any]
) -> None:
    deliver(engine, pr_payload("opened", "0" * 40, "1" * 40), "ghost")
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    (check,) = rows(engine, tables.check_results)
    assert check.conclusion == "neutral" and "could not read" in check.summary


def test_an_unreadable_delivery_is_parked_with_its_error(
    engine: Any, governance: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        inbox.record(conn, "github", "junk", "pull_request", "opened", b"{not json")
        inbox.record(
            conn,
            "github",
            "fine",
            "pull_request",
            "opened",
            json.dumps(pr_payload("opened", governance["base"], governance["good"])).encode(),
        )
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    with engine.connect() as conn:
        status = dict(conn.execute(select(Delivery.delivery_id, Delivery.status)).all())
    assert status == {"junk": "parked", "fine": "done"}


def test_unhandled_events_are_marked_ignored(engine: Any, governance: dict[str, Any]) -> None:
    deliver(engine, {"action": "created", "repository": {"full_name": "x/y"}}, "star", event="star")
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    assert inbox.counts(engine) == {"ignored": 1}


@dataclass
class FlakyForge:
    """A dry-run forge whose first posts fail like a forge under load."""

    inner: DryRunForge
    failures: int
    name: str = "flaky"
    calls: list[str] = field(default_factory=list)

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        return self.inner.read_files(repo, rev)

    def changed_files(self, review: ReviewRef) -> list[str]:
        return []

    def default_branch(self, repo: str) -> str:
        return self.inner.default_branch(repo)

    def resolve(self, repo: str, rev: str) -> str:
        return self.inner.resolve(repo, rev)

    def account_id(self, login: str) -> str | None:
        return None

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        return pushed

    def post_check(self, report: CheckReport) -> str:
        self.calls.append("post_check")
        if self.failures > 0:
            self.failures -= 1
            raise ForgeError("503 from the forge", retry_after=0)
        return "check-1"

    def upsert_comment(self, review: ReviewRef, marker: str, body: str) -> str:
        return "comment-1"

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str:
        return tag


def test_a_failing_forge_is_retried_until_it_answers(
    engine: Any, governance: dict[str, Any]
) -> None:
    forge = FlakyForge(DryRunForge(governance["repo"]), failures=2)
    deliver(engine, pr_payload("opened", governance["base"], governance["good"]), "flaky")
    worker = make_worker(engine, forge, dry_run=False)
    statuses = []
    for _ in range(3):
        statuses.append(worker.run_once())
        assert worker.run_once() is None  # backing off (with jitter), not retried at once
        with engine.begin() as conn:  # skip the backoff instead of sleeping through it
            conn.execute(tables.deliveries.update().values(available_at=inbox.utcnow()))
    assert statuses == ["queued", "queued", "done"]
    assert forge.calls == ["post_check"] * 4  # two failures, then the check and the vote
    (report,) = [r for r in rows(engine, tables.reports) if r.kind == "check"]
    assert report.external_id == "check-1" and report.dry_run is False


def test_a_gerrit_stream_event_is_checked_like_a_pull_request(
    engine: Any, governance: dict[str, Any]
) -> None:
    from govbot.service.ingest import record_stream_event

    event = json.loads((REPO / "tests/fixtures/gerrit/patchset-created-1.json").read_text())
    event["change"]["branch"] = "main"
    event["patchSet"]["revision"] = governance["bad"]
    event["patchSet"]["parents"] = [governance["base"]]
    assert record_stream_event(engine, event) is True
    assert record_stream_event(engine, event) is False  # the same event from the stream again
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    (check,) = rows(engine, tables.check_results)
    assert (check.review_key, check.base_sha, check.conclusion) == (
        "gerrit:openstack/interop#4242",
        governance["base"],  # the patch set's parent, pinned
        "failure",
    )


def test_out_of_order_deliveries_end_in_the_right_state(
    engine: Any, governance: dict[str, Any]
) -> None:
    review = {
        "action": "submitted",
        "review": {
            "id": 1,
            "state": "approved",
            "user": {"login": "chair"},
            "submitted_at": "2026-01-03T00:00:00Z",
        },
        "pull_request": pr_payload("opened", governance["base"], governance["good"])[
            "pull_request"
        ],
        "repository": {"full_name": "governance/guidelines"},
    }
    deliver(
        engine, review, "vote-first", event="pull_request_review"
    )  # a vote before the PR is known
    newer = pr_payload(
        "synchronize", governance["base"], governance["good"], updated="2026-01-02T00:00:00Z"
    )
    older = pr_payload(
        "opened", governance["base"], governance["bad"], updated="2026-01-01T00:00:00Z"
    )
    deliver(engine, newer, "newer")
    deliver(engine, older, "older")  # delivered late
    make_worker(engine, DryRunForge(governance["repo"])).run(once=True)
    (state,) = rows(engine, tables.reviews)
    assert (state.head_sha, state.state) == (governance["good"], "open")
    assert [c.head_sha for c in rows(engine, tables.check_results)] == [governance["good"]]
    actions = [a.action for a in rows(engine, tables.audit_log)]
    assert actions == ["VoteCast", "checked", "tallied", "stale-event-ignored"]
    assert inbox.counts(engine) == {"done": 3}
