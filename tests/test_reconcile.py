"""Reconciliation after downtime, on each forge, through the real adapters and receiver.

The receiver is down (deliveries are simply not sent) while pull requests and
changes open and votes are cast on the fake forge; reconciliation reads the
forge back through its REST API (PyGithub; Gerrit's REST); the worker then
checks every review once and counts every vote once; the late real webhooks
(or stream events) arrive afterwards and have no second effect; a sweep with
nothing changed costs GitHub nothing against its rate limit.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from govbot.forges import github_events
from govbot.repo.snapshots import read_git
from govbot.service.reconcile import reconcile
from govbot.store import reconcile as marks
from govbot.store.models import BallotRow, CheckResultRow, Delivery
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_server import FakeGitHub, FakeRepo, github_server
from tests.test_vote_scenario import GERRIT_IDS, GITHUB_IDS, SECRET, T0, Bot, build_revisions

REPO = "governance/guidelines"
VOTERS = {"member-carol": "APPROVED", "member-dave": "APPROVED", "outsider": "CHANGES_REQUESTED"}


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def seeded_github(gh: FakeGitHub, revisions: dict[str, Any]) -> FakeRepo:
    """main at the base; topic at the first head, topic2 at the second (one on the other)."""
    gh.user_ids.update(GITHUB_IDS)
    repo = gh.add_repo(REPO)
    source = revisions["repo"]
    repo.commit(revisions["base"], read_git(source, revisions["base"]), branch="main", parents=[])
    head1, head2 = revisions["head1"], revisions["head2"]
    repo.commit(head1, read_git(source, head1), branch="topic", parents=[revisions["base"]])
    repo.commit(head2, read_git(source, head2), branch="topic2", parents=[head1])
    return repo


def post_github(bot: Bot, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A real (late) webhook: GitHub's own delivery id, signed; the answer's JSON."""
    answer = bot.deliver_github(event, payload)
    assert answer.status_code in (200, 202), answer.text
    result: dict[str, Any] = answer.json()
    return result


def ballots(engine: Any, key: str) -> list[tuple[str, int | None, str, datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(BallotRow.login, BallotRow.value, BallotRow.source_id, BallotRow.at)
            .where(BallotRow.review_key == key)
            .order_by(BallotRow.login)
        ).all()
    return [(r[0], r[1], r[2], r[3] if r[3].tzinfo else r[3].replace(tzinfo=UTC)) for r in rows]


def checked_heads(engine: Any) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(CheckResultRow.review_key, CheckResultRow.head_sha).order_by(
                CheckResultRow.review_key
            )
        ).all()
    return [(r[0], r[1]) for r in rows]


def inbox_size(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Delivery)).scalar_one())


def test_github_downtime_is_reconciled_once(engine: Any, revisions: dict[str, Any]) -> None:
    """GitHub REST, "Best practices for using the REST API", *Use conditional requests if
    appropriate*: "Most endpoints return an ``etag`` header ... If the data has not
    changed, you will receive a ``304 Not Modified`` response. Making a conditional
    request does not count against your primary rate limit if a 304 response is
    returned and the request was made while correctly authorized with an
    ``Authorization`` header." The fake answers so (tests/fakes/github_server.py).
    """
    with github_server() as gh:
        repo = seeded_github(gh, revisions)
        forge = gh.forge()
        bot = Bot(engine, revisions["repo"], forge=forge)
        late: list[tuple[str, dict[str, Any]]] = []  # the webhooks GitHub could not deliver
        repository = {"full_name": REPO, "default_branch": "main"}
        # -- the receiver is down: two pull requests open, votes are cast ----------------
        repo.clock = iso(T0)
        for branch in ("topic", "topic2"):
            repo.open_pull(branch, "main", f"Change on {branch}")["author"] = "contributor"
        for number in (1, 2):
            late.append(("pull_request", {"action": "opened", "number": number,
                         "pull_request": gh.pull_json(repo, repo.pulls[number]),
                         "repository": repository, "sender": gh.user("contributor")}))  # fmt: skip
        for i, (login, state) in enumerate(VOTERS.items()):
            at = iso(T0 + timedelta(minutes=10 + i))
            review_id = repo.add_review(1, login, state, at=at)
            review = next(r for r in repo.reviews[1] if r["id"] == review_id)
            late.append(("pull_request_review", {"action": "submitted",
                         "review": {**gh.review_json(repo, 1, review), "state": state.lower()},
                         "pull_request": {"number": 1}, "repository": repository,
                         "sender": gh.user(login)}))  # fmt: skip
        comments = {}
        for i, (login, body) in enumerate([("chair-bob", "/vote +1"), ("outsider", "nice")]):
            at = iso(T0 + timedelta(minutes=20 + i))
            comment_id = repo.add_comment(1, body, login=login, at=at)
            comments[login] = (comment_id, at)
            comment = next(c for c in repo.comments[1] if c["id"] == comment_id)
            late.append(("issue_comment", {"action": "created", "comment": gh.comment_json(repo, comment),
                         "issue": {"number": 1, "pull_request": {"url": gh.api(f"/repos/{REPO}/pulls/1")}},
                         "repository": repository, "sender": gh.user(login)}))  # fmt: skip
        # -- govbot is back: the clock's sweep finds all of it ---------------------------
        bot.now = T0 + timedelta(hours=1)
        [sweep] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        assert (sweep.found, sweep.stored) == (2 + 3 + 2, 7)  # 2 PRs, 3 reviews, 2 comments
        bot.worker.run(once=True)
        keys = {n: f"github:{REPO}#{n}" for n in (1, 2)}
        heads = {1: revisions["head1"], 2: revisions["head2"]}
        # every review has its check, one check run each on the forge
        assert checked_heads(engine) == [(keys[1], heads[1]), (keys[2], heads[2])]
        runs = [(r["head_sha"], r["name"]) for r in repo.check_runs if r["name"] == "govbot/check"]
        assert sorted(runs) == sorted((heads[n], "govbot/check") for n in (1, 2))
        # every vote is counted once, dated by the forge's own record (issue 11 property 7)
        bob_id, bob_at = comments["chair-bob"]
        counted = ballots(engine, keys[1])
        assert [(b[0], b[1], b[2]) for b in counted] == [
            ("chair-bob", 1, str(bob_id)),
            ("member-carol", 1, str(repo.reviews[1][0]["id"])),
            ("member-dave", 1, str(repo.reviews[1][1]["id"])),
            ("outsider", -1, str(repo.reviews[1][2]["id"])),
        ]
        assert counted[0][3] == datetime.fromisoformat(bob_at)
        runs_before, comments_before = len(repo.check_runs), sum(map(len, repo.comments.values()))
        posts_before = len(gh.calls("POST")) + len(gh.calls("PATCH"))
        # -- the late real webhooks arrive: nothing happens twice ------------------------
        answers = [post_github(bot, event, payload)["status"] for event, payload in late]
        assert answers == ["queued", "queued"] + ["duplicate"] * 5  # PRs: no lasting key
        bot.worker.run(once=True)
        assert checked_heads(engine) == [(keys[1], heads[1]), (keys[2], heads[2])]
        assert ballots(engine, keys[1]) == counted
        assert len(repo.check_runs) == runs_before
        assert sum(map(len, repo.comments.values())) == comments_before
        assert len(gh.calls("POST")) + len(gh.calls("PATCH")) == posts_before
        # -- the next sweep reads govbot's own comments (the forge did change), no effect --
        reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        bot.worker.run(once=True)
        assert ballots(engine, keys[1]) == counted
        assert len(gh.calls("POST")) + len(gh.calls("PATCH")) == posts_before
        # -- nothing changed since: a sweep is conditional requests answered 304 ---------
        seen = len(gh.requests)
        [again] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        asked = gh.requests[seen:]
        assert asked and all(r.if_none_match and r.status == 304 for r in asked)
        assert (again.found, again.stored, again.counted) == (0, 0, 0)
        # a new vote after that is found by the next sweep (and only it)
        later = iso(T0 + timedelta(hours=2))
        repo.add_comment(1, "/vote -1", login="member-dave", at=later)
        [third] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        assert third.stored == 1  # the listing holds the others too: already in the inbox
        with engine.connect() as conn:
            assert marks.get(conn, "github", REPO).watermark == datetime.fromisoformat(later)


def test_github_redelivers_failed_app_deliveries(engine: Any) -> None:
    """GitHub REST, "REST API endpoints for GitHub App webhooks": "List deliveries for an
    app webhook" (``GET /app/hook/deliveries``) and "Redeliver a delivery for an app
    webhook" (``POST /app/hook/deliveries/{delivery_id}/attempts``, 202), both with the
    App's JWT. Only deliveries no attempt of which was answered (or answered 5xx) are
    sent again: a 4xx is govbot's considered refusal."""
    from tests.test_github_adapter import _private_key

    with github_server() as gh:
        gh.add_repo(REPO)
        failed = gh.hook_delivery("issue_comment", b'{"action": "created"}', 0, "guid-lost")
        gh.hook_delivery("issue_comment", b'{"action": "created"}', 502, "guid-502")
        gh.hook_delivery("issue_comment", b'{"action": "created"}', 202, "guid-ok")
        gh.hook_delivery("push", b"{}", 400, "guid-refused")
        gh.hook_delivery("issue_comment", b'{"action": "created"}', 0, "guid-retried")
        gh.hook_delivery("issue_comment", b'{"action": "created"}', 202, "guid-retried")
        received: list[str] = []
        gh.deliver = lambda guid, event, body: received.append(guid) or 202
        from govbot.forges.github import GitHubForge

        forge = GitHubForge(
            gh.url, app_id=99, private_key=_private_key(), installation_id=5, throttle=False
        )
        sweeps = reconcile(engine, "github", forge, scopes=[])
        assert [s.scope for s in sweeps] == ["app-deliveries"]
        assert sorted(received) == ["guid-502", "guid-lost"] and sweeps[0].redelivered == 2
        posts = gh.calls("POST", "/app/hook/deliveries/")
        assert all(r.authorization and r.authorization.startswith("Bearer ") for r in posts)
        assert f"/app/hook/deliveries/{failed['id']}/attempts" in [r.path for r in posts]
        # answered now: the next sweep asks for nothing again
        assert reconcile(engine, "github", forge, scopes=[])[0].redelivered == 0


# -- Gerrit ---------------------------------------------------------------------------

PROJECT = "governance/guidelines"
GERRIT_KEY = f"gerrit:{PROJECT}#42"


def stream_event(fake: FakeGerrit, kind: str, number: int, ps: int, **extra: Any) -> dict[str, Any]:
    """What ``stream-events`` (or the webhooks plugin) would have sent (cmd-stream-events.txt)."""
    change = fake.change(PROJECT, number)
    revision = change["patch_sets"][ps - 1]
    account = {"name": "contributor", "email": "contributor@example.org", "username": "contributor"}
    return {
        "type": kind,
        "change": {"project": PROJECT, "branch": "main", "id": change["change_id"], "number": number,
                   "subject": change["subject"], "owner": account, "status": "NEW"},
        "patchSet": {"number": ps, "revision": revision, "uploader": account, "kind": "REWORK"},
        **extra,
    }  # fmt: skip


def seeded_gerrit(engine: Any, fake: FakeGerrit, revisions: dict[str, Any]) -> Bot:
    """The project on the fake Gerrit: main at the base, the first head's commit known;
    the members' accounts; a bot whose worker talks to it."""
    fake.heads[PROJECT] = "main"
    fake.accounts.update(GERRIT_IDS)
    source = revisions["repo"]
    fake.add_commit(PROJECT, revisions["base"], read_git(source, revisions["base"]), branch="main")
    fake.add_commit(PROJECT, revisions["head1"], read_git(source, revisions["head1"]))
    return Bot(engine, source, forge=fake.forge())


def post_gerrit(bot: Bot, event: dict[str, Any]) -> str:
    auth = "Basic " + base64.b64encode(f"gerrit:{SECRET}".encode()).decode()
    answer = bot.client.post(
        "/webhooks/gerrit", content=json.dumps(event).encode(), headers={"Authorization": auth}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def test_gerrit_downtime_is_reconciled_once(engine: Any, revisions: dict[str, Any]) -> None:
    """rest-api-changes.txt "Query Changes" with ``MESSAGES`` (ChangeMessageInfo: id,
    author, date, message, ``_revision_number``) and ``CURRENT_REVISION``; user-search.txt
    ``age:``. The stream's ``comment-added`` for a review message carries the message
    text (its first line "Patch Set 1: Code-Review+1" names the vote) and
    ``eventCreatedOn``, the message's time in epoch seconds."""
    with running() as fake:
        bot = seeded_gerrit(engine, fake, revisions)
        # -- the stream is down: a change is uploaded, reviewers vote ---------------------
        fake.clock = T0.timestamp()
        fake.add_change(
            PROJECT,
            42,
            revisions["head1"],
            {"guidelines/next.yaml": {"status": "M"}},
            branch="main",
        )
        fake.changes[PROJECT, "42"]["owner"] = "contributor"
        late = [stream_event(fake, "patchset-created", 42, 1, eventCreatedOn=int(fake.clock))]
        votes = [("member-carol", "+1"), ("member-erin", "+1"), ("outsider", "-1")]
        for i, (user, value) in enumerate(votes):
            fake.clock = (T0 + timedelta(minutes=10 + i)).timestamp()
            text = f"Patch Set 1: Code-Review{value}"
            fake.add_message(PROJECT, 42, user, text)
            late.append(stream_event(fake, "comment-added", 42, 1, eventCreatedOn=int(fake.clock),
                        author={"name": user, "email": f"{user}@example.org", "username": user},
                        approvals=[{"type": "Code-Review", "value": value, "oldValue": "0"}],
                        comment=text))  # fmt: skip
        fake.clock = (T0 + timedelta(minutes=20)).timestamp()
        fake.add_message(
            PROJECT,
            42,
            "contributor",
            "Uploaded patch set 1.",
            tag="autogenerated:gerrit:newPatchSet",
        )
        # -- back: reconciliation, then the worker ---------------------------------------
        bot.now = T0 + timedelta(hours=1)
        fake.clock = bot.now.timestamp()
        [sweep] = reconcile(engine, "gerrit", fake.forge(), scopes=[PROJECT], now=lambda: bot.now)
        assert (sweep.found, sweep.stored) == (4, 4)  # the patch set, three review messages
        bot.worker.run(once=True)
        assert checked_heads(engine) == [(GERRIT_KEY, revisions["head1"])]
        checks = [r for r in fake.reviews if "Verified" in json.dumps(r.body)]
        assert len(checks) == 1
        counted = ballots(engine, GERRIT_KEY)
        assert [(b[0], b[1]) for b in counted] == [
            ("member-carol", 1),
            ("member-erin", 1),
            ("outsider", -1),
        ]
        assert counted[0][3] == T0 + timedelta(minutes=10)  # the message's own time
        reviews_before = len(fake.reviews)
        # -- the late stream events: duplicates, no second effect -----------------------
        assert [post_gerrit(bot, e) for e in late] == ["duplicate"] * 4
        bot.worker.run(once=True)
        assert len(fake.reviews) == reviews_before
        assert ballots(engine, GERRIT_KEY) == counted
        # -- nothing changed: one query, nothing new -------------------------------------
        size = inbox_size(engine)
        [again] = reconcile(engine, "gerrit", fake.forge(), scopes=[PROJECT], now=lambda: bot.now)
        assert (again.requests, again.stored) == (1, 0) and inbox_size(engine) == size
        query = fake.calls("GET", "/a/changes/")[-1].query
        assert "-age" in query and "o=MESSAGES" in query


def test_event_keys_match_between_webhook_and_reconciliation() -> None:
    """The receiver and the sweep derive the same key from the same forge object."""
    comment = {"id": 5, "body": "/vote +1", "user": {"login": "a", "id": 1},
               "created_at": "2026-03-02T09:10:00Z", "updated_at": "2026-03-02T09:10:00Z"}  # fmt: skip
    webhook = {"action": "created", "comment": comment}
    same_instant = {**comment, "created_at": "2026-03-02T09:10:00+00:00",
                    "updated_at": "2026-03-02T09:10:00+00:00"}  # fmt: skip
    assert github_events.event_key("issue_comment", webhook) == github_events.event_key(
        "issue_comment", {"action": "created", "comment": same_instant}
    )
    edited = {"action": "edited", "comment": {**comment, "updated_at": "2026-03-02T09:11:00Z"}}
    assert github_events.event_key("issue_comment", edited) != github_events.event_key(
        "issue_comment", webhook
    )
    assert github_events.event_key("pull_request", {"action": "opened"}) is None
    assert github_events.event_key("issue_comment", "junk") is None


# -- what triggers a sweep -------------------------------------------------------------


def test_the_stream_asks_for_reconciliation_after_a_gap() -> None:
    """cmd-stream-events.txt: ``dropped-output`` "Sent to notify a client that events have
    been dropped"; and events sent while disconnected are lost (no replay)."""
    import threading

    from govbot.forges.gerrit_stream import GerritStreamListener
    from tests.test_gerrit_adapter import FakeGerritlib, Sleeps

    clients = iter(
        [
            FakeGerritlib(
                [{"type": "patchset-created", "n": 1}, {"type": "dropped-output"}], False
            ),
            FakeGerritlib([{"type": "comment-added", "n": 2}], True),
        ]
    )
    listener = GerritStreamListener(
        "h", "u", factory=lambda: next(clients), sleep=Sleeps(), poll=0.01
    )
    stop, gaps, got = threading.Event(), [], []
    for event in listener.events(stop, on_gap=gaps.append):
        got.append(event["n"])
        if len(got) == 2:
            stop.set()
    assert got == [1, 2]  # dropped-output itself is no event for the inbox
    assert gaps == ["dropped-output", "reconnected"]


def test_the_clock_reconciles_at_start_up_and_on_its_interval(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govbot.forges.dryrun import DryRunForge
    from govbot.repo import bundled
    from govbot.service.clock import Clock
    from tests.conftest import REPO as CHECKOUT

    with github_server() as gh:
        repo = gh.add_repo(REPO)
        repo.commit("a" * 40, {"README.md": b"x"}, branch="main", parents=[])
        repo.add_pull(3, "b" * 40, "a" * 40, [])
        forge = gh.forge()
        now = [T0]
        monkeypatch.setenv("GOVBOT_RECONCILE_GITHUB_REPOS", REPO)

        def forge_for(name: str) -> tuple[Any, bool]:
            return (forge, False) if name == "github" else (DryRunForge(CHECKOUT), True)

        clock = Clock(
            engine, forge_for, bundled.schema_set(), now=lambda: now[0], reconcile_interval=300
        )
        assert "reconcile:github:1" in clock.tick()  # at start-up: PR 3 found
        listed = len(gh.calls("GET", f"/repos/{REPO}/pulls"))
        now[0] = T0 + timedelta(seconds=299)
        clock.tick()
        assert len(gh.calls("GET", f"/repos/{REPO}/pulls")) == listed  # not yet due
        now[0] = T0 + timedelta(seconds=300)
        assert not [k for k in clock.tick() if k.startswith("reconcile:")]  # due; nothing new
        assert len(gh.calls("GET", f"/repos/{REPO}/pulls")) == listed + 1


def test_github_a_merge_while_away_closes_the_review_after_its_votes(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """ "List pull requests" with ``state=all&sort=updated``: a merge updates the pull
    request, so it is read back; its list entry has ``merged_at`` (not ``merged``)."""
    with github_server() as gh:
        repo = seeded_github(gh, revisions)
        forge = gh.forge()
        bot = Bot(engine, revisions["repo"], forge=forge)
        repo.clock = iso(T0)
        number = repo.open_pull("topic", "main", "A change")["number"]
        key = f"github:{REPO}#{number}"
        bot.now = T0 + timedelta(minutes=5)
        reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        bot.worker.run(once=True)
        assert checked_heads(engine) == [(key, revisions["head1"])]
        # away: an approval, then the merge
        repo.add_review(number, "member-carol", "APPROVED", at=iso(T0 + timedelta(minutes=10)))
        repo.clock = iso(T0 + timedelta(minutes=11))
        repo.merge_pull(number)
        closed = gh.pull_json(repo, repo.pulls[number])
        bot.now = T0 + timedelta(minutes=30)
        [sweep] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: bot.now)
        assert sweep.stored == 3  # the review, govbot's own check comment, then the close
        bot.worker.run(once=True)
        with engine.connect() as conn:
            from govbot.store import reviews

            state = reviews.get(conn, key)
        assert state is not None and state.state == "merged"
        assert [(b[0], b[1]) for b in ballots(engine, key)] == [("member-carol", 1)]
        payload = {"action": "closed", "number": number, "pull_request": closed,
                   "repository": {"full_name": REPO, "default_branch": "main"}}  # fmt: skip
        assert post_github(bot, "pull_request", payload)["status"] == "duplicate"


def test_the_command_line_sweeps_each_live_forge(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from govbot import cli
    from tests.fakes.github_server import TOKEN

    monkeypatch.setenv("GOVBOT_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in ("TOKEN", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE", "INSTALLATION_ID"):
        monkeypatch.delenv(f"GOVBOT_GITHUB_{name}", raising=False)
    for name in ("URL", "USER", "HTTP_PASSWORD"):
        monkeypatch.delenv(f"GOVBOT_GERRIT_{name}", raising=False)
    assert cli.main(["reconcile", "--forge", "github"]) == 2  # dry-run: nothing to read back
    assert "not configured" in capsys.readouterr().err
    with github_server() as gh:
        gh.tokens.add(TOKEN)
        repo = gh.add_repo(REPO)
        repo.commit("a" * 40, {"README.md": b"x"}, branch="main", parents=[])
        repo.add_pull(3, "b" * 40, "a" * 40, [])
        monkeypatch.setenv("GOVBOT_GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GOVBOT_GITHUB_API_URL", gh.url)
        monkeypatch.setenv("GOVBOT_GITHUB_THROTTLE", "0")
        monkeypatch.setenv("GOVBOT_RECONCILE_GITHUB_REPOS", REPO)
        assert cli.main(["reconcile", "--format", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["command"] == "reconcile" and doc["skipped"] == ["gerrit"]
        [sweep] = doc["sweeps"]
        assert (sweep["forge"], sweep["scope"], sweep["stored"]) == ("github", REPO, 1)
        assert cli.main(["reconcile"]) == 0
        out = capsys.readouterr().out
        assert f"github {REPO}: 0 found, 0 new" in out and "not modified (304)" in out


def test_a_sweep_the_forge_breaks_stores_nothing_and_the_next_one_finds_all(
    engine: Any,
) -> None:
    """A flaky forge: 502s past the retries on the last listing of a sweep. Nothing of
    it is stored and the watermark does not move, so the next sweep reads it all again."""
    from govbot.forges.base import ForgeError

    with github_server() as gh:
        gh.user_ids.update(GITHUB_IDS)
        repo = gh.add_repo(REPO)
        repo.commit("a" * 40, {"README.md": b"x"}, branch="main", parents=[])
        repo.clock = iso(T0)
        repo.add_pull(3, "b" * 40, "a" * 40, [])
        repo.add_comment(3, "/vote +1", login="chair-bob", at=iso(T0 + timedelta(minutes=1)))
        forge = gh.forge(retries=1)
        gh.fail_next(2, 502, path="/issues/comments")
        now = T0 + timedelta(hours=1)
        with pytest.raises(ForgeError):
            reconcile(engine, "github", forge, scopes=[REPO], now=lambda: now)
        assert inbox_size(engine) == 0
        with engine.connect() as conn:
            assert marks.get(conn, "github", REPO).watermark is None
        [sweep] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: now)
        assert sweep.stored == 2  # the pull request and the vote


def test_a_rate_limited_sweep_holds_the_forge_and_the_next_sweep_sends_nothing(
    engine: Any,
) -> None:
    """GitHub: "If you exceed your primary rate limit, you will receive a 403 or 429
    response, and the x-ratelimit-remaining header will be 0. You should not retry your
    request until after the time specified by the x-ratelimit-reset header." (REST API
    docs, "Rate limits for the REST API"). A sweep that meets the limit holds the forge
    for every worker; a sweep before the reset sends no request at all."""
    from govbot.forges.base import ForgeError
    from govbot.store import inbox

    with github_server() as gh:
        repo = gh.add_repo(REPO)
        repo.commit("a" * 40, {"README.md": b"x"}, branch="main", parents=[])
        reset = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
        gh.fail_next(1, 403, path="/pulls", message="API rate limit exceeded", headers=headers)
        forge = gh.forge(retries=1)
        with pytest.raises(ForgeError) as raised:
            reconcile(engine, "github", forge, scopes=[REPO])
        assert raised.value.rate_limited
        assert "github" in inbox.forge_holds(engine)
        sent = len(gh.requests)
        assert reconcile(engine, "github", forge, scopes=[REPO]) == []
        assert len(gh.requests) == sent


def test_gerrit_a_change_merged_while_away_is_closed_and_the_late_event_still_counts(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """rest-api-changes.txt ChangeInfo: ``submitted`` ("The timestamp of when the change
    was submitted"), ``submitter`` (AccountInfo), both "only set for merged changes"; no
    merge commit. A change govbot has open that merged while it was away is closed by
    the next sweep (the clock stops re-tallying it); the late real ``change-merged``,
    which carries ``newRev``, is a new event, not a duplicate, and changes nothing more."""
    from govbot.store import reviews

    with running() as fake:
        bot = seeded_gerrit(engine, fake, revisions)
        fake.clock = T0.timestamp()
        fake.add_change(PROJECT, 42, revisions["head1"], {"guidelines/next.yaml": {"status": "M"}},
                        branch="main")  # fmt: skip
        bot.now = T0 + timedelta(minutes=5)
        reconcile(engine, "gerrit", fake.forge(), scopes=[PROJECT], now=lambda: bot.now)
        bot.worker.run(once=True)
        with engine.connect() as conn:
            assert reviews.get(conn, GERRIT_KEY).state == "open"
        # -- away: the change is submitted ---------------------------------------------------
        fake.clock = (T0 + timedelta(minutes=30)).timestamp()
        merge_sha = fake.merge(PROJECT, 42)
        bot.now = T0 + timedelta(hours=1)
        [sweep] = reconcile(engine, "gerrit", fake.forge(), scopes=[PROJECT], now=lambda: bot.now)
        assert sweep.stored == 1
        bot.worker.run(once=True)
        with engine.connect() as conn:
            review = reviews.get(conn, GERRIT_KEY)
        assert (review.state, review.updated_at) == ("merged", T0 + timedelta(minutes=30))
        # -- a second sweep finds nothing; the late real event is processed, harmlessly ----
        [again] = reconcile(engine, "gerrit", fake.forge(), scopes=[PROJECT], now=lambda: bot.now)
        assert again.stored == 0
        late = stream_event(fake, "change-merged", 42, 1, newRev=merge_sha,
                            eventCreatedOn=int(fake.clock),
                            submitter={"name": "chair-alice", "username": "chair-alice"})  # fmt: skip
        assert post_gerrit(bot, late) == "queued"
        bot.worker.run(once=True)
        with engine.connect() as conn:
            assert reviews.get(conn, GERRIT_KEY).state == "merged"
