"""The Gerrit adapter over real HTTP against the fake Gerrit, and the SSH listener's reconnects."""

from __future__ import annotations

import base64
import logging
import queue
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from govbot.core.events import ReviewRef
from govbot.forges.base import Annotation, CheckReport, ForgeError
from govbot.forges.gerrit import MESSAGE_LIMIT, GerritForge, plain_text
from govbot.forges.gerrit_rest import GerritRest, _retry_after, parse_json
from govbot.forges.gerrit_stream import GerritStreamListener
from tests.fakes.gerrit_server import FakeGerrit, Sleeps, running

PROJECT = "openstack/interop"
SHA = "1" * 40
HEAD = "2" * 40
REVIEW = ReviewRef("gerrit", PROJECT, "4242")
CHANGE_PATH = "/a/changes/openstack%2Finterop~4242/revisions"


@pytest.fixture
def gerrit() -> Iterator[FakeGerrit]:
    with running() as fake:
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def forge(gerrit: FakeGerrit, sleeps: Sleeps) -> Iterator[GerritForge]:
    forge = gerrit.forge(sleeps)
    yield forge
    forge.rest.close()


def report(conclusion: str = "success", **kwargs: Any) -> CheckReport:
    return CheckReport(
        review=REVIEW,
        head_sha=HEAD,
        name="govbot/check",
        conclusion=conclusion,
        title="2 findings" if conclusion == "failure" else "all good",
        summary="## Result\n\nSee [the rules](https://example.org/rules) and **fix** `next.json`.",
        **kwargs,
    )


# -- reading ---------------------------------------------------------------


def test_read_files_reads_every_governed_file_at_one_commit(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    governed = {
        "guidelines/2020.06.yaml": b"id: 2020.06\n",
        "guidelines/add-ons/dns.2020.06.yaml": b"id: dns\n",
        "policies/interop.yaml": b"rules: []\n",
        "2020.06.json": b"{}",
        "next.json": b'{"a": 1}',
        "add-ons/dns.2020.06.json": b"{}",
    }
    other = {"README.md": b"hi", "guidelines/deep/x.yaml": b"no", "guidelines/link.yaml": b"../x"}
    gerrit.add_commit(
        PROJECT, SHA, governed | other, branch="master", modes={"guidelines/link.yaml": "symlink"}
    )
    assert forge.read_files(PROJECT, "master") == governed
    contents = [r.path for r in gerrit.requests if r.path.endswith("/content")]
    assert len(contents) == len(governed)
    assert all(f"/commits/{SHA}/files/" in p for p in contents)  # pinned to the resolved sha
    assert "/a/projects/openstack%2Finterop/commits/" in contents[0]
    assert "guidelines%2F2020.06.yaml" in " ".join(contents)  # a path is one segment


def test_read_files_at_a_sha_skips_branch_lookup(gerrit: FakeGerrit, forge: GerritForge) -> None:
    gerrit.add_commit(PROJECT, SHA, {"next.json": b"{}"})
    assert forge.read_files(PROJECT, SHA) == {"next.json": b"{}"}
    assert not [r for r in gerrit.requests if "/branches/" in r.path]


def test_read_files_without_gitiles_says_what_is_missing(gerrit: FakeGerrit) -> None:
    gerrit.add_commit(PROJECT, SHA, {"next.json": b"{}"})
    forge = GerritForge(GerritRest(gerrit.url, gerrit.user, gerrit.password))
    with pytest.raises(ForgeError, match="GOVBOT_GERRIT_GITILES_URL") as e:
        forge.read_files(PROJECT, SHA)
    assert e.value.permanent


def test_unknown_branch_is_permanent(forge: GerritForge) -> None:
    with pytest.raises(ForgeError, match="not found") as e:
        forge.read_files(PROJECT, "nope")
    assert e.value.permanent


def test_changed_files_drop_magic_files_and_keep_renamed_sources(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    gerrit.add_change(
        PROJECT,
        4242,
        HEAD,
        {
            "next.json": {"status": "M"},
            "guidelines/2021.01.yaml": {"status": "R", "old_path": "guidelines/2020.11.yaml"},
        },
    )
    assert forge.changed_files(REVIEW) == [
        "guidelines/2020.11.yaml",
        "guidelines/2021.01.yaml",
        "next.json",
    ]
    assert gerrit.requests[-1].path == f"{CHANGE_PATH}/current/files/"


# -- answering -------------------------------------------------------------


@pytest.mark.parametrize(("conclusion", "vote"), [("success", 1), ("failure", -1), ("neutral", 0)])
def test_post_check_votes_and_posts_a_plain_text_message(
    gerrit: FakeGerrit,
    forge: GerritForge,
    conclusion: str,
    vote: int,
) -> None:
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    found = Annotation("next.json", 3, "failure", "schema", "missing id")
    assert forge.post_check(report(conclusion, annotations=(found,))) == f"{REVIEW.key}@{HEAD}"
    [posted] = gerrit.reviews
    assert posted.path == f"{CHANGE_PATH}/{HEAD}/review"
    assert posted.authorized
    assert posted.body["labels"] == {"Verified": vote}
    assert posted.body["tag"] == "autogenerated:govbot"
    assert posted.body["notify"] == "OWNER"
    message = posted.body["message"]
    assert message.startswith(f"govbot/check: {conclusion}: ")
    assert "Result\n\nSee the rules (https://example.org/rules) and fix next.json." in message
    assert "* next.json:3: failure: schema: missing id" in message


def test_upsert_comment_posts_a_message_without_votes(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    forge.upsert_comment(REVIEW, "govbot:status", "<!-- govbot:status -->\n**2** votes")
    [posted] = gerrit.reviews
    assert posted.path == f"{CHANGE_PATH}/current/review"
    assert posted.body == {
        "message": "2 votes",
        "tag": "autogenerated:govbot:govbot-status",
        "notify": "OWNER",
    }


def test_labels_are_hashtags(gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps) -> None:
    """rest-api-changes.txt: "Get Hashtags" (a list of strings) and "Set Hashtags" (a
    HashtagsInput: ``add`` and ``remove``, both optional), in one call."""
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    gerrit.change(PROJECT, 4242)["hashtags"] = ["wip"]
    assert forge.labels(REVIEW) == {"wip"}
    gerrit.fail_next(1, 503, path="/hashtags")
    forge.edit_labels(REVIEW, ["tests-verified-2020.06"], ["missing-tests"])
    assert forge.labels(REVIEW) == {"wip", "tests-verified-2020.06"}
    posts = [r.body for r in gerrit.calls("POST", "/hashtags")]
    assert posts[-1] == {"add": ["tests-verified-2020.06"], "remove": ["missing-tests"]}
    assert len(posts) == 2 and len(sleeps) == 1  # the 503 was retried
    forge.edit_labels(REVIEW, [], [])
    assert len(gerrit.calls("POST", "/hashtags")) == 2  # nothing to do: no request


def test_conflict_on_review_is_permanent(gerrit: FakeGerrit, forge: GerritForge) -> None:
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    gerrit.fail_next(1, 409, body="change is closed")
    with pytest.raises(ForgeError, match="conflict: change is closed") as e:
        forge.post_check(report())
    assert e.value.permanent


# -- retries and errors ------------------------------------------------------


def test_503_then_ok_is_retried(gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps) -> None:
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    gerrit.fail_next(2, 503)
    forge.post_check(report())
    assert sleeps == [0.5, 1.0]  # exponential backoff, as long as the waits are short
    assert len(gerrit.reviews) == 3


def test_429_retry_after_is_honoured(
    gerrit: FakeGerrit, forge: GerritForge, sleeps: Sleeps
) -> None:
    """A wait over a second is the worker's to schedule (no worker sleeps), and the
    account's quota holds every request off until it ends."""
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    gerrit.fail_next(1, 429, {"Retry-After": "7"})
    with pytest.raises(ForgeError) as e:
        forge.post_check(report())
    assert (e.value.retry_after, e.value.rate_limited, sleeps) == (7.0, True, [])
    with pytest.raises(ForgeError, match="not sent"):
        forge.post_check(report())
    gerrit.fail_next(1, 429, {"Retry-After": "1"})
    forge.rest._held_until = 0.0  # as if the 7 s were over
    forge.post_check(report())
    assert sleeps == [1.0]


def test_long_retry_after_is_handed_back_not_slept(
    gerrit: FakeGerrit,
    forge: GerritForge,
    sleeps: Sleeps,
) -> None:
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    gerrit.fail_next(1, 429, {"Retry-After": "3600"})
    with pytest.raises(ForgeError) as e:
        forge.post_check(report())
    assert (e.value.permanent, e.value.retry_after, sleeps) == (False, 3600.0, [])


def test_persistent_5xx_gives_up_retryable(
    gerrit: FakeGerrit,
    forge: GerritForge,
    sleeps: Sleeps,
) -> None:
    gerrit.fail_next(5, 502)
    with pytest.raises(ForgeError, match="HTTP 502 after 3 attempt") as e:
        forge.changed_files(REVIEW)
    assert not e.value.permanent and e.value.retry_after == 2.0  # the worker's to wait
    assert sleeps == [0.5, 1.0]


def test_connection_errors_are_retried(sleeps: Sleeps) -> None:
    rest = GerritRest("http://127.0.0.1:9", "u", "p", sleep=sleeps, attempts=2)
    with pytest.raises(ForgeError, match="ConnectError after 2 attempt") as e:
        rest.resolve(PROJECT, "master")
    assert not e.value.permanent and sleeps == [0.5]


def test_401_is_permanent_and_never_shows_the_password(
    gerrit: FakeGerrit,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "correct-horse-battery-staple"
    rest = GerritRest(gerrit.url, gerrit.user, secret, sleep=sleeps)
    gerrit.fail_next(1, 503)  # a logged retry first
    with pytest.raises(ForgeError, match="authentication failed") as e:
        rest.resolve(PROJECT, "master")
    assert e.value.permanent and sleeps == [0.5]
    assert not gerrit.requests[-1].authorized
    assert secret not in str(e.value) and secret not in repr(rest)
    assert "retry 1" in caplog.text
    basic = base64.b64encode(f"{gerrit.user}:{secret}".encode()).decode()
    assert secret not in caplog.text and basic not in caplog.text


def test_error_bodies_echoing_the_password_are_scrubbed(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    gerrit.fail_next(1, 403, body=f"denied for {gerrit.password}")
    with pytest.raises(ForgeError, match="forbidden") as e:
        forge.changed_files(REVIEW)
    assert gerrit.password not in str(e.value) and "***" in str(e.value)


def test_credentials_go_to_the_gerrit_origin_only() -> None:
    rest = GerritRest("https://review.example.org", "u", "p", gitiles_url="https://git.example.org")
    assert rest._auth_for("https://review.example.org/a/projects/x") is not None
    assert rest._auth_for("https://git.example.org/x/+/HEAD/?format=JSON") is None


# -- tags --------------------------------------------------------------------


def test_create_tag_is_idempotent_and_never_moves_a_tag(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    assert forge.create_tag(PROJECT, "2025.06", SHA, "Guideline 2025.06") == "refs/tags/2025.06"
    [put] = [r for r in gerrit.requests if r.method == "PUT"]
    assert put.path == "/a/projects/openstack%2Finterop/tags/2025.06"
    assert put.body == {"revision": SHA, "message": "Guideline 2025.06"}

    assert forge.create_tag(PROJECT, "2025.06", SHA, "Guideline 2025.06") == "refs/tags/2025.06"
    with pytest.raises(ForgeError, match="another revision") as e:
        forge.create_tag(PROJECT, "2025.06", HEAD, "moved")
    assert e.value.permanent
    assert len([r for r in gerrit.requests if r.method == "PUT"]) == 1
    assert gerrit.tags[PROJECT, "2025.06"]["object"] == SHA


def test_create_tag_lost_race_on_the_same_revision_is_success(
    gerrit: FakeGerrit,
    forge: GerritForge,
) -> None:
    gerrit.add_tag(PROJECT, "2025.06", SHA)  # lightweight, created by someone else
    gerrit.fail_next(1, 404)  # ...just after our lookup
    assert forge.create_tag(PROJECT, "2025.06", SHA, "") == "refs/tags/2025.06"
    assert [r.method for r in gerrit.requests] == ["GET", "PUT", "GET"]


# -- configuration and formats ----------------------------------------------


def test_from_env() -> None:
    assert GerritForge.from_env({}) is None
    assert GerritForge.from_env({"GOVBOT_GERRIT_URL": "https://r.example.org"}) is None
    env = {
        "GOVBOT_GERRIT_URL": "https://r.example.org/",
        "GOVBOT_GERRIT_USER": "govbot",
        "GOVBOT_GERRIT_HTTP_PASSWORD": "pw",
        "GOVBOT_GERRIT_LABEL": "Governance",
    }
    forge = GerritForge.from_env(env)
    assert (
        forge is not None
        and forge.label == "Governance"
        and forge.rest.url == "https://r.example.org"
    )
    assert forge.rest.gitiles_url is None
    with pytest.raises(ValueError, match="credentials") as e:
        GerritForge.from_env(env | {"GOVBOT_GERRIT_URL": "https://govbot:pw@r.example.org"})
    assert "pw@" not in str(e.value)


def test_parse_json_strips_the_xssi_prefix() -> None:
    assert parse_json(')]}\'\n{"a": 1}') == {"a": 1}
    assert parse_json("[1]") == [1]
    with pytest.raises(ForgeError):
        parse_json(")]}'\n<html>")


def test_retry_after_forms() -> None:
    assert _retry_after("12") == 12.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (_retry_after(later) or 0) <= 30


def test_plain_text_and_long_messages(gerrit: FakeGerrit, forge: GerritForge) -> None:
    assert plain_text("```yaml\nid: 1\n```\n\n\n\n__x__") == "id: 1\n\nx"
    gerrit.add_change(PROJECT, 4242, HEAD, {})
    forge.upsert_comment(REVIEW, "m", "x" * (MESSAGE_LIMIT * 2))
    message = gerrit.reviews[0].body["message"]
    assert len(message) <= MESSAGE_LIMIT and message.endswith(
        "[truncated: the message was too long]"
    )


# -- the SSH listener ----------------------------------------------------------


class FakeWatcher:
    def __init__(self, alive: bool) -> None:
        self.alive = alive

    def is_alive(self) -> bool:
        return self.alive


class FakeGerritlib:
    """gerritlib.gerrit.Gerrit's watching surface: startWatching, event_queue, watcher_thread."""

    def __init__(self, events: list[Any], stays_alive: bool) -> None:
        self.events, self.stays_alive = events, stays_alive
        self.started: dict[str, Any] = {}

    def startWatching(self, **kwargs: Any) -> None:  # gerritlib's name
        self.started = kwargs
        self.event_queue: queue.Queue[Any] = queue.Queue()
        for event in self.events:
            self.event_queue.put(event)
        self.watcher_thread = FakeWatcher(self.stays_alive)


def test_listener_reconnects_when_the_stream_ends(sleeps: Sleeps) -> None:
    clients = [
        FakeGerritlib(
            [{"type": "patchset-created", "n": 1}, "not a dict", {"type": "x", "n": 2}], False
        ),
        FakeGerritlib([], False),  # connects, gives up at once
        FakeGerritlib([{"type": "comment-added", "n": 3}], True),
    ]
    made = iter(clients)
    listener = GerritStreamListener(
        "review.example.org", "govbot", factory=lambda: next(made), sleep=sleeps, poll=0.01
    )
    stop = threading.Event()
    got = []
    for event in listener.events(stop):
        got.append(event["n"])
        if len(got) == 3:
            stop.set()
    assert got == [1, 2, 3]
    assert sleeps == [1.0, 2.0]  # backoff grows while reconnects deliver nothing
    assert clients[0].started == {"connection_attempts": 3, "retry_delay": 1.0}


def test_listener_backoff_is_capped() -> None:
    stop, sleeps = threading.Event(), Sleeps()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 5:
            stop.set()

    listener = GerritStreamListener(
        "h", "u", factory=lambda: FakeGerritlib([], False), sleep=sleep, poll=0.01, max_backoff=4.0
    )
    assert list(listener.events(stop)) == []
    assert sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_listener_restarts_a_real_gerritlib_watcher_that_died() -> None:
    """gerritlib's own thread gives up on a refused connection; the listener starts anew."""
    stop, sleeps = threading.Event(), Sleeps()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            stop.set()

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        listener = GerritStreamListener(
            "127.0.0.1", "govbot", port, sleep=sleep, poll=0.01, connection_attempts=1
        )
        assert list(listener.events(stop)) == []
    assert sleeps == [1.0, 2.0]


def test_listener_default_factory_builds_a_gerritlib_client() -> None:
    listener = GerritStreamListener("review.example.org", "govbot", 29419, "/keys/id_ed25519")
    client = listener.factory()  # builds, does not connect
    conn = client.connection
    assert (conn.hostname, conn.username, conn.port, conn.keyfile) == (
        "review.example.org",
        "govbot",
        29419,
        "/keys/id_ed25519",
    )
    assert conn.keep_alive == 30
