"""A change is classed by every path it touches, including files govbot's diff does not read.

Issue 11 property 6: voting.yaml's path patterns (``schemas/**`` is a policy change) are
matched against the forge's own list of the change's files, through the real receiver,
worker and GitHub adapter against the fake GitHub.
"""

from __future__ import annotations

from typing import Any

from govbot.repo.snapshots import read_git
from govbot.store import heads
from tests.fakes.github_server import github_server
from tests.test_reconcile import REPO, iso, post_github, revisions, seeded_github
from tests.test_vote_scenario import T0, Bot

__all__ = ["revisions"]  # the module-scoped fixture, shared


def test_a_change_to_files_govbot_does_not_read_is_classed_by_their_paths(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """Issue 11 property 6: a pull request that only edits ``schemas/`` (which govbot's
    diff does not read) is classed by voting.yaml's path patterns from the forge's
    list of the pull request's files: a policy change, never the editorial default.
    A forge that cannot list them leaves the class to the substantive class."""
    with github_server() as gh:
        repo = seeded_github(gh, revisions)
        base = revisions["base"]
        files = {**read_git(revisions["repo"], base), "schemas/extra.schema.json": b"{}\n"}
        repo.commit("c" * 40, files, branch="schemas-only", parents=[base])
        repo.clock = iso(T0)
        pull = repo.open_pull("schemas-only", "main", "Loosen a schema")
        assert [f["filename"] for f in pull["files"]] == ["schemas/extra.schema.json"]
        bot = Bot(engine, revisions["repo"], forge=gh.forge())
        repository = {"full_name": REPO, "default_branch": "main"}
        opened = {"action": "opened", "number": pull["number"],
                  "pull_request": gh.pull_json(repo, pull), "repository": repository,
                  "sender": gh.user("contributor")}  # fmt: skip
        post_github(bot, "pull_request", opened)
        bot.worker.run(once=True)
        with engine.connect() as conn:
            [head] = heads.history(conn, f"github:{REPO}#{pull['number']}")
        assert (head.head_sha, head.vote_class) == ("c" * 40, "policy-change")


def test_a_change_whose_files_the_forge_will_not_list_is_never_editorial(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """The unhappy path: the forge answers 404 to the list of the pull request's files
    (a permanent error). The change, which the diff sees as no change at all, is judged
    by the substantive class, never by the editorial default, and the refusal is audited."""
    import json

    from sqlalchemy import select

    from govbot.store.models import AuditEntry

    with github_server() as gh:
        repo = seeded_github(gh, revisions)
        base = revisions["base"]
        files = {**read_git(revisions["repo"], base), "schemas/extra.schema.json": b"{}\n"}
        repo.commit("d" * 40, files, branch="schemas-only", parents=[base])
        repo.clock = iso(T0)
        pull = repo.open_pull("schemas-only", "main", "Loosen a schema")
        payload = gh.pull_json(repo, pull)
        del repo.pulls[pull["number"]]  # the forge no longer knows it: 404 on its files
        bot = Bot(engine, revisions["repo"], forge=gh.forge())
        opened = {"action": "opened", "number": pull["number"], "pull_request": payload,
                  "repository": {"full_name": REPO, "default_branch": "main"},
                  "sender": gh.user("contributor")}  # fmt: skip
        post_github(bot, "pull_request", opened)
        bot.worker.run(once=True)
        key = f"github:{REPO}#{pull['number']}"
        with engine.connect() as conn:
            [head] = heads.history(conn, key)
            audited = conn.execute(
                select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.subject == key)
            ).all()
        assert head.vote_class == "guideline-change"  # voting.yaml's substantive_class
        assert any(a == "changed-files-unknown" and "404" in json.loads(d)["error"]
                   for a, d in audited)  # fmt: skip
