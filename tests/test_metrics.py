"""Operator signals: /metrics counts what the receiver, the worker, the forges and the tally do.

The counters are process-wide (prometheus-client), so each test reads them
before and after what it does and checks the difference, through the real
app's ``/metrics`` exposition where it can.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from govbot import metrics
from govbot.forges.base import ForgeError
from govbot.forges.dryrun import DryRunForge
from govbot.forges.github import GitHubForge
from govbot.repo import bundled
from govbot.service.worker import Worker
from govbot.store import migrate
from govbot.store.db import make_engine
from tests.fakes.github_server import github_server
from tests.test_vote_scenario import SECRET, T0, approve, build_revisions, pull
from webhooks.app import create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(snap: dict[Any, float], name: str, **labels: str) -> float:
    return snap.get((name, tuple(sorted(labels.items()))), 0.0)


def test_deliveries_inbox_worker_and_votes(tmp_path: Any, tmp_path_factory: Any) -> None:
    revisions = build_revisions(tmp_path_factory)
    engine = make_engine(f"sqlite:///{tmp_path / 'govbot.db'}")
    migrate.upgrade(engine)
    now = [T0]
    app = create_app(engine, Settings(github_secret=SECRET.encode()), now=lambda: now[0])
    client = TestClient(app)
    forge = DryRunForge(revisions["repo"])
    worker = Worker(engine, lambda _: (forge, True), bundled.schema_set(), now=lambda: now[0])

    def post(event: str, payload: dict[str, Any], signed: bool = True) -> int:
        body = json.dumps(payload).encode()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4())}
        if signed:
            headers["X-Hub-Signature-256"] = sign_github(SECRET.encode(), body)
        return client.post("/webhooks/github", content=body, headers=headers).status_code

    before = samples(client)
    assert post("pull_request", pull("opened", revisions["base"], revisions["head1"], T0)) == 202
    assert post("pull_request", {"nothing": True}, signed=False) == 401
    mid = samples(client)
    assert value(mid, "govbot_inbox_deliveries", status="queued") == 1
    now[0] = T0 + timedelta(seconds=90)
    assert value(samples(client), "govbot_inbox_oldest_queued_seconds") == 90.0
    worker.run(once=True)
    now[0] = T0 + timedelta(minutes=5)
    assert post("pull_request_review", approve("member-carol", revisions["head1"], now[0])) == 202
    worker.run(once=True)
    after = samples(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("govbot_deliveries_received_total", source="github", status="202") == 2
    assert grew("govbot_deliveries_received_total", source="github", status="401") == 1
    assert grew("govbot_deliveries_stored_total", source="github") == 2
    assert grew("govbot_deliveries_processed_total", outcome="done") == 2
    assert grew("govbot_worker_delivery_seconds_count") == 2
    assert grew("govbot_votes_tallied_total", state="pending") == 2
    assert value(after, "govbot_inbox_deliveries", status="done") == 2
    assert value(after, "govbot_inbox_oldest_queued_seconds") == 0.0


def test_forge_calls_and_rate_limit_remaining() -> None:
    with github_server() as gh:
        gh.tokens.add("t0ken")
        repo = gh.add_repo("org/gov")
        repo.commit("a" * 40, {"guidelines/2024.01.yaml": b"id: '2024.01'\n"}, branch="main")
        forge = GitHubForge(gh.url, token="t0ken", sleep=lambda _: None, throttle=False)
        ok = metrics.FORGE_CALLS.labels(forge="github", result="ok")
        failed = metrics.FORGE_CALLS.labels(forge="github", result="error")
        start_ok, start_failed = ok._value.get(), failed._value.get()
        reset = str(int(time.time()))  # over by the answer: a wait of a second, slept here
        limits = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        }
        gh.fail_next(1, 403, limits, message="API rate limit exceeded")
        assert forge.default_branch("org/gov") == "main"
        assert failed._value.get() - start_failed == 1
        assert ok._value.get() - start_ok >= 1
        remaining = metrics.FORGE_RATE_LIMIT_REMAINING.labels(forge="github")._value.get()
        assert remaining == 0


def test_reconciliation_lag_is_set_by_its_function(tmp_path: Any) -> None:
    metrics.set_reconciliation_lag("gerrit", 42.5)
    metrics.set_reconciliation_lag("github", -3)  # a clock ahead of now is no lag
    engine = make_engine(f"sqlite:///{tmp_path / 'govbot.db'}")
    migrate.upgrade(engine)
    snap = samples(TestClient(create_app(engine, Settings())))
    assert value(snap, "govbot_reconciliation_lag_seconds", forge="gerrit") == 42.5
    assert value(snap, "govbot_reconciliation_lag_seconds", forge="github") == 0.0


def test_metrics_answer_when_the_database_does_not(tmp_path: Any) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'govbot.db'}")
    client = TestClient(create_app(broken, Settings()))
    answer = client.get("/metrics")
    assert answer.status_code == 200 and "govbot_deliveries_received_total" in answer.text
    assert "govbot_inbox_deliveries{status=" not in answer.text
    assert client.get("/readyz").status_code == 503 and client.get("/healthz").status_code == 200


def test_readyz_probes_a_live_forge(monkeypatch: Any) -> None:
    """With credentials, /readyz reads GOVBOT_READY_REPO's default branch on the forge; a
    forge that does not answer makes the service not ready, named."""
    from govbot.cli.web import forge_checks

    with github_server() as gh:
        gh.tokens.add("t0ken")
        gh.add_repo("org/gov").commit("b" * 40, {"README.md": b"x\n"}, branch="main")
        monkeypatch.setenv("GOVBOT_GITHUB_TOKEN", "t0ken")
        monkeypatch.setenv("GOVBOT_GITHUB_API_URL", gh.url)
        monkeypatch.setenv("GOVBOT_GITHUB_THROTTLE", "off")
        monkeypatch.delenv("GOVBOT_READY_REPO", raising=False)
        assert forge_checks()["forge:github"]() == "not probed: set GOVBOT_READY_REPO"
        monkeypatch.setenv("GOVBOT_READY_REPO", "org/gov")
        assert forge_checks()["forge:github"]() is None  # read, and ok
        monkeypatch.setenv("GOVBOT_READY_REPO", "org/missing")
        with pytest.raises(ForgeError):
            forge_checks()["forge:github"]()
