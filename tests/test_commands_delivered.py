"""Hidden commands cast nothing, through the real receiver and worker, on GitHub and Gerrit.

Signed deliveries (GitHub payloads built on GitHub's own webhook schema) go to
the real FastAPI receiver, a worker handles them, and the ballots stored and
the vote state are read back: a ``/vote -1`` that readers of the review cannot
see as a command (in code, a quote, an HTML comment, a collapsed section)
neither casts nor withdraws a vote; the same words in plain text do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from govbot.store import ballots
from tests.fakes.gerrit_server import running
from tests.fakes.github_schema import minimal_payload
from tests.test_vote_scenario import (
    GERRIT_KEY,
    GH_KEY,
    T0,
    Bot,
    build_revisions,
    command,
    gerrit_event,
    github_user,
    iso,
    pull,
    seeded_gerrit,
)

HIDDEN_ON_GITHUB = [
    "I would say:\n\n```\n/vote -1\n```",
    "~~~\n/vote -1\n~~~",
    "    /vote -1",
    "> /vote -1\n\nquoting Bob above",
    "<!--\n/vote -1\n-->\nLooks fine.",
    "<details>\n<summary>draft</summary>\n\n/vote -1\n\n</details>",
    "`/vote -1`",
]


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


def cast(engine: Any, key: str) -> list[tuple[str, str, int | None]]:
    with engine.connect() as conn:
        return [(b.login, b.kind, b.value) for b in ballots.for_review(conn, key)]


def deleted(login: str, comment_id: int, body: str, at: Any) -> dict[str, Any]:
    return minimal_payload("issue_comment", "deleted", {
        "comment": {"id": comment_id, "body": body, "user": github_user(login), "created_at": iso(at), "updated_at": iso(at)},
        "sender": github_user(login),
        "issue": {"number": 7, "pull_request": {"url": "https://api.github.com/repos/governance/guidelines/pulls/7"}},
        "repository": {"full_name": "governance/guidelines", "default_branch": "main"},
    })  # fmt: skip


def test_a_github_vote_hidden_in_markdown_casts_nothing(
    engine: Any, revisions: dict[str, Any]
) -> None:
    bot = Bot(engine, revisions["repo"])
    bot.github("pull_request", pull("opened", revisions["base"], revisions["head1"], T0))
    for i, body in enumerate(HIDDEN_ON_GITHUB):
        bot.now = T0 + timedelta(minutes=1 + i)
        bot.github("issue_comment", command("chair-alice", body, bot.now))
    assert cast(engine, GH_KEY) == []
    assert bot.state(GH_KEY) == "pending"

    bot.now = T0 + timedelta(minutes=30)
    bot.github("issue_comment", command("chair-alice", "Not yet.\n\n/vote -1", bot.now))
    assert cast(engine, GH_KEY) == [("chair-alice", "vote", -1)]
    assert bot.state(GH_KEY) == "blocked"

    # deleting a comment whose /vote -1 was in a code fence withdraws nothing
    bot.now = T0 + timedelta(minutes=31)
    bot.github("issue_comment", deleted("chair-alice", 4242, HIDDEN_ON_GITHUB[0], bot.now))
    assert cast(engine, GH_KEY) == [("chair-alice", "vote", -1)]
    assert bot.state(GH_KEY) == "blocked"


def comment_added(user: str, message: str, revision: str, at: Any) -> dict[str, Any]:
    author = {"name": user, "email": f"{user}@example.org", "username": user}
    return gerrit_event("comment-added", revision, 1, at, author=author, comment=message)


def test_a_gerrit_vote_in_code_or_a_quote_casts_nothing_but_html_is_text_there(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """Gerrit shows raw HTML as text, so a command between ``<!--`` and ``-->`` is visible."""
    with running() as fake:
        seeded_gerrit(fake, revisions)
        _gerrit_hidden(Bot(engine, revisions["repo"], forge=fake.forge()), engine, revisions)


def _gerrit_hidden(bot: Bot, engine: Any, revisions: dict[str, Any]) -> None:
    head = revisions["head1"]
    bot.gerrit(gerrit_event("patchset-created", head, 1, T0))
    for i, body in enumerate(["```\n/vote -1\n```", "    /vote -1", "> /vote -1", "`/vote -1`"]):
        bot.now = T0 + timedelta(minutes=1 + i)
        bot.gerrit(comment_added("chair-alice", f"Patch Set 1:\n\n{body}", head, bot.now))
    assert cast(engine, GERRIT_KEY) == []
    assert bot.state(GERRIT_KEY) == "pending"

    bot.now = T0 + timedelta(minutes=30)
    bot.gerrit(comment_added("chair-alice", "Patch Set 1:\n\n<!--\n/vote -1\n-->", head, bot.now))
    assert cast(engine, GERRIT_KEY) == [("chair-alice", "vote", -1)]
    assert bot.state(GERRIT_KEY) == "blocked"
