"""The committee dashboard: open reviews with class, tally, deadlines, blockers and the check.

A real vote runs through the receiver and a worker (dry-run forge over a
local repo, as ``govbot up`` runs it); the dashboard's data
(govbot.service.dashboard), its page and JSON (govbot.web.reviews) and
``govbot reviews`` are read at each step.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govbot import cli
from govbot.forges.dryrun import DryRunForge
from govbot.repo import bundled
from govbot.service.dashboard import board
from govbot.web.reviews import router
from tests.test_vote_scenario import (
    GH_KEY,
    T0,
    Bot,
    approve,
    build_revisions,
    command,
    pull,
)


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


def view(bot: Bot, repo: Any) -> dict[str, Any]:
    forge = DryRunForge(repo)
    return board(bot.engine, lambda _: (forge, True), bundled.schema_set(), now=bot.now)


def row(review: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in review["tally"]["rows"] if r["name"] == name)


def test_a_pending_review_its_tally_deadline_and_blockers(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = Bot(engine, revisions["repo"])
    base, head1, head2 = revisions["base"], revisions["head1"], revisions["head2"]
    assert view(bot, revisions["repo"])["reviews"] == []
    bot.github("pull_request", pull("opened", base, head1, T0))
    for i, login in enumerate(["member-carol", "outsider"]):
        bot.now = T0 + timedelta(minutes=10 + i)
        bot.github("pull_request_review", approve(login, head1, bot.now))

    data = view(bot, revisions["repo"])
    [review] = data["reviews"]
    assert review["key"] == GH_KEY and review["class"] == "new-required-capability"
    assert review["state"] == "pending"
    assert review["earliest_decision"] == "2026-03-09T09:00:00Z"  # 7 days after opening
    assert review["tally"]["counts"] == {"yes": 1, "no": 0, "abstain": 0}
    assert row(review, "Carol Example") | {"binding": True} == row(review, "Carol Example")
    assert row(review, "outsider")["binding"] is False
    assert row(review, "outsider")["why"] == "not on the committee"
    assert row(review, "Erin Example")["why"] == "not voted yet"
    assert "minimum review time runs until 2026-03-09T09:00:00Z" in review["blockers"]
    assert any("quorum of 3" in b for b in review["blockers"])
    assert review["check"]["conclusion"] in ("success", "neutral", "failure")
    assert data["timeline"] is None  # no local policies given

    # a chair's -1 is a veto; the content changes and the votes on it go stale
    bot.now = T0 + timedelta(minutes=20)
    bot.github("issue_comment", command("chair-alice", "/vote -1", bot.now))
    review = view(bot, revisions["repo"])["reviews"][0]
    assert review["state"] == "blocked" and row(review, "Alice Example")["veto"] is True
    assert "vetoed by Alice Example" in review["blockers"]
    bot.now = T0 + timedelta(hours=1)
    bot.github("pull_request", pull("synchronize", base, head2, bot.now))
    review = view(bot, revisions["repo"])["reviews"][0]
    carol = row(review, "Carol Example")
    assert carol["stale"] is True and carol["binding"] is False
    assert carol["why"] == f"stale: cast on {head1[:7]}"


def test_the_page_json_and_command(
    engine: Any, revisions: dict[str, Any], tmp_path: Any, capsys: Any, monkeypatch: Any
) -> None:
    bot = Bot(engine, revisions["repo"])
    bot.github("pull_request", pull("opened", revisions["base"], revisions["head1"], T0))
    bot.now = T0 + timedelta(minutes=5)
    bot.github("pull_request_review", approve("member-carol", revisions["head1"], bot.now))
    app = FastAPI()
    app.include_router(router(lambda: view(bot, revisions["repo"]), refresh_seconds=2))
    client = TestClient(app)
    api = client.get("/api/reviews").json()
    assert api["reviews"][0]["key"] == GH_KEY
    page = client.get("/reviews").text
    assert 'data-refresh="2000"' in page and 'src="static/reviews.js"' in page
    assert GH_KEY in page and "new-required-capability" in page
    assert "2026-03-09T09:00:00Z" in page
    assert 'class="badge pending"' in page
    fragment = client.get("/reviews/board").text
    assert fragment.lstrip().startswith("<p") and "<html" not in fragment
    assert "fetch(" in client.get("/static/reviews.js").text

    # the command line reads the same data from the configured database
    if engine.dialect.name != "sqlite":
        return
    monkeypatch.setenv("GOVBOT_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("GOVBOT_REPO_PATH", str(revisions["repo"]))
    assert cli.main(["reviews", "--at", "2026-03-02T09:05:00Z", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "reviews" and doc["exit_code"] == 0
    assert doc["reviews"][0]["tally"]["counts"]["yes"] == 1
    assert doc["timeline"]["guideline"]  # the served repo's timeline policy
    assert cli.main(["reviews", "--at", "2026-03-02T09:05:00Z"]) == 0
    text = capsys.readouterr().out
    assert f"{GH_KEY}  Make" in text and "vote pending" in text
    assert "Carol Example" in text and "binding: member" in text


def test_the_served_app_composes_the_dashboard_and_readiness(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """What ``govbot serve`` and ``govbot up`` run (govbot.cli.web:web_app), from the
    environment: the receiver, the site, the dashboard, and /readyz asking each forge."""
    from govbot.cli.web import web_app
    from govbot.store import migrate
    from govbot.store.db import make_engine

    for name in ("DATABASE_URL", "GOVBOT_GITHUB_TOKEN", "GOVBOT_GERRIT_URL", "GOVBOT_REPO_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVBOT_HOME", str(tmp_path))
    migrate.upgrade(make_engine(f"sqlite:///{tmp_path / 'govbot.db'}"))
    client = TestClient(web_app())
    assert client.get("/api/reviews").json()["reviews"] == []
    assert "No open review" in client.get("/reviews").text
    ready = client.get("/readyz").json()
    assert ready == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "forge:github": "ok (dry-run)",
            "forge:gerrit": "ok (dry-run)",
        },
    }
    assert client.get("/").status_code == 200 and client.get("/docs").status_code == 200
