"""GitHubForge against GitHub's documented answers: rate limits, permissions, caps, tokens.

Each test's fake answers as GitHub documents (or, where GitHub's reference
is silent, as GitHub is recorded answering); the docstring quotes the source.
The adapter runs through real PyGithub over HTTP against tests/fakes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from govbot.core.events import ReviewRef
from govbot.forges import github as github_forge
from govbot.forges.base import CheckReport
from govbot.forges.github import COMMENT_LIMIT, GitHubForge
from govbot.forges.github_client import GitHubError, _redact
from tests.fakes.github_server import TOKEN, FakeGitHub, FakeRepo, github_server
from tests.test_github_adapter import _private_key

BASE, HEAD = "b" * 40, "c" * 40
REVIEW = ReviewRef("github", "org/gov", "7")
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:1111."
)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.tokens.add(TOKEN)
        yield server


@pytest.fixture
def repo(gh: FakeGitHub) -> FakeRepo:
    repo = gh.add_repo("org/gov")
    repo.commit(BASE, {"guidelines/2024.01.yaml": b"id: 2024.01\n"}, branch="main")
    repo.commit(HEAD, {"guidelines/2024.01.yaml": b"id: 2024.01\nx: 1\n"}, parents=[BASE])
    return repo


@pytest.fixture
def sleeps() -> list[float]:
    return []


class Clock:
    """The client's monotonic clock, moved by the test (a rate limit ends when it says)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forge(gh: FakeGitHub, sleeps: list[float], clock: Clock) -> GitHubForge:
    return GitHubForge(
        gh.url, token=TOKEN, sleep=sleeps.append, throttle=False, retries=3, clock=clock
    )


def handed_back(forge: GitHubForge, call: object) -> GitHubError:
    """The call's rate-limit error: raised for the worker to reschedule, never slept here."""
    with pytest.raises(GitHubError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.rate_limited and not caught.value.permanent
    return caught.value


def report() -> CheckReport:
    return CheckReport(REVIEW, HEAD, "govbot/check", "success", "All good", "## Summary")


# -- 1. a rate limit on check-run creation is not a missing permission ------------------


def test_a_primary_rate_limit_on_check_run_creation_is_retried_later_not_a_fallback(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float], clock: Clock
) -> None:
    """GitHub, "Rate limits for the REST API" > "Exceeding the rate limit":

    "If you exceed your primary rate limit, you will receive a 403 or 429
    response, and the x-ratelimit-remaining header will be 0. You should not
    retry your request until after the time specified by the
    x-ratelimit-reset header."

    An hour-long limit is handed back (retry_after), and no commit status is
    posted instead: the required check is the App's check run.
    """
    reset = int(time.time()) + 3600
    limit = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
             "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"}  # fmt: skip
    gh.fail_next(1, 403, limit, "API rate limit exceeded for installation ID 5.", "/gov/check-runs")

    with pytest.raises(GitHubError) as caught:
        forge.post_check(report())

    assert caught.value.rate_limited and not caught.value.permanent
    assert caught.value.retry_after is not None and caught.value.retry_after > 3500
    assert sleeps == [] and repo.statuses == [] and repo.check_runs == []
    sent = len(gh.requests)
    handed_back(forge, lambda: forge.post_check(report()))  # not before the reset
    assert len(gh.requests) == sent

    clock.t += 3602
    run_id = forge.post_check(report())  # the limit is over: a check run, not a status
    assert [r["id"] for r in repo.check_runs] == [int(run_id)] and repo.statuses == []


def test_a_secondary_rate_limit_on_check_run_creation_is_not_a_fallback_either(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float], clock: Clock
) -> None:
    """GitHub, "Exceeding the rate limit": "If you exceed a secondary rate limit, you
    will receive a 403 or 429 response and an error message that indicates that you
    exceeded a secondary rate limit. [...] Otherwise, wait for at least one minute
    before retrying. If your request continues to fail due to a secondary rate
    limit, wait for an exponentially increasing amount of time between retries"."""
    gh.fail_next(1, 403, {"x-ratelimit-remaining": "4000"}, SECONDARY, "/gov/check-runs")

    caught = handed_back(forge, lambda: forge.post_check(report()))

    assert sleeps == [] and caught.retry_after == 60.0  # at least a minute: handed back
    assert repo.statuses == []
    clock.t += 61
    forge.post_check(report())
    assert len(repo.check_runs) == 1 and repo.statuses == []


def test_a_real_permission_refusal_falls_back_for_a_while_then_asks_again(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What GitHub answers a token that is not a GitHub App's (recorded: issues of
    EnricoMi/publish-unit-test-result-action #53, actions/github-script #118):
    403 {"message": "You must authenticate via a GitHub App.", "documentation_url":
    ".../checks#create-a-check-run"}. That is a permission: statuses instead, and
    the refusal is not trusted forever (an App may be granted checks:write)."""
    gh.checks_forbidden = True
    assert forge.post_check(report()) == "status:govbot/check"
    assert forge.post_check(report()) == "status:govbot/check"
    assert len(gh.calls("POST", "/gov/check-runs")) == 1

    later = time.monotonic() + github_forge.CHECKS_REFUSAL_MEMORY + 1
    monkeypatch.setattr(github_forge.time, "monotonic", lambda: later)
    gh.checks_forbidden = False
    assert forge.post_check(report()) != "status:govbot/check"
    assert len(repo.check_runs) == 1 and len(repo.statuses) == 2


# -- 3. 429 and secondary limits honour GitHub's headers ------------------------------------


def test_a_429_waits_for_the_reset_not_a_short_backoff(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    """ "[...] you will receive a 403 or 429 response, and the x-ratelimit-remaining
    header will be 0. You should not retry your request until after the time
    specified by the x-ratelimit-reset header" ("x-ratelimit-reset: The time at
    which the current rate limit window resets in UTC epoch seconds")."""
    reset = int(time.time()) + 40
    gh.fail_next(1, 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                 "API rate limit exceeded")  # fmt: skip
    wait = handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after
    assert wait is not None and 39 <= wait <= 43  # not 0.5 s: the whole window
    assert sleeps == []


def test_the_reset_is_read_against_the_servers_own_clock(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    """x-ratelimit-reset is an absolute time on GitHub's clock; every answer carries
    that clock in its Date header (RFC 9110 §6.6.1). A local clock 1,000 s fast
    must not make the client retry at once."""
    gh.clock_skew = -1000.0
    reset = int(time.time() - 1000) + 30
    gh.fail_next(1, 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                 "API rate limit exceeded for installation ID 5.")  # fmt: skip
    wait = handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after
    assert wait is not None and 29 <= wait <= 32


def test_a_429_without_headers_waits_at_least_a_minute(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    """A 429 that is not the primary limit is a secondary one: "Otherwise, wait for
    at least one minute before retrying"."""
    gh.fail_next(1, 429, {}, SECONDARY)
    assert handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after == 60.0
    assert sleeps == []


def test_retry_after_of_a_secondary_limit_is_obeyed(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    """ "If the retry-after response header is present, you should not retry your
    request until after that many seconds has elapsed.\""""
    gh.fail_next(1, 403, {"retry-after": "7"}, SECONDARY)
    assert handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after == 7.0
    assert sleeps == []


def test_secondary_limits_in_a_row_wait_longer_each_time_until_one_succeeds(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float], clock: Clock
) -> None:
    """ "If your request continues to fail due to a secondary rate limit, wait for an
    exponentially increasing amount of time between retries"."""
    waits = []
    for _ in range(3):
        gh.fail_next(1, 403, {}, SECONDARY)
        waits.append(handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after)
        clock.t += waits[-1] or 0
    assert waits == [60.0, 120.0, 240.0] and sleeps == []

    forge.read_files("org/gov", BASE)  # a success ends the run of failures
    gh.fail_next(1, 403, {}, SECONDARY)
    assert handed_back(forge, lambda: forge.read_files("org/gov", BASE)).retry_after == 60.0
    assert sleeps == []


def test_a_403_that_is_no_rate_limit_is_final(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    gh.fail_next(
        1, 403, {"x-ratelimit-remaining": "4999"}, "Resource not accessible by integration"
    )
    with pytest.raises(GitHubError) as caught:
        forge.read_files("org/gov", BASE)
    assert caught.value.permanent and not caught.value.rate_limited and sleeps == []


# -- 4. new-format installation tokens never reach a log ---------------------------------


def test_stateless_installation_tokens_are_redacted_whole(
    gh: FakeGitHub, repo: FakeRepo, caplog: pytest.LogCaptureFixture
) -> None:
    """GitHub changelog, "Notice about upcoming new format for GitHub App installation
    tokens" (2026-04-24): "The token format for installation tokens (ghs_ tokens)
    will be changing to ghs_APPID_JWT", "longer (~520 characters)". PyGithub's DEBUG
    log prints the access_tokens answer; no part of the JWT may survive."""
    caplog.set_level(logging.DEBUG, logger="github")
    gh.tokens = {"placeholder"}
    forge = GitHubForge(gh.url, app_id=99, private_key=_private_key(), installation_id=5,
                        throttle=False)  # fmt: skip

    assert forge.read_files("org/gov", BASE)

    [minted] = gh.installation_tokens
    assert len(minted) > 450 and minted.count(".") == 2
    header, payload, signature = minted.split("_", 2)[2].split(".")
    assert '"token":' in caplog.text.replace(" ", "")  # the answer was logged...
    for part in (minted, header, payload, signature):  # ...without any part of the token
        assert part not in caplog.text


def test_redaction_of_tokens_and_jwts_in_any_layout() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJnaXRodWIifQ.c2lnbmF0dXJlLXBhcnQtd2l0aC1kYXNo-_x"
    text = (f'{{"token":"ghs_42_{jwt}","expires_at":"2026"}} Bearer {jwt} '
            f"ghp_{'a' * 36} github_pat_{'b' * 60}")  # fmt: skip
    clean = _redact(text, set())
    assert "eyJ" not in clean and "c2lnbmF0dXJl" not in clean
    assert "aaaa" not in clean and "bbbb" not in clean and '"expires_at":"2026"' in clean


# -- 5. more than 3,000 files ------------------------------------------------------------------


def test_a_pull_request_over_3000_files_is_read_from_the_trees(
    gh: FakeGitHub, forge: GitHubForge
) -> None:
    """GitHub, "List pull requests files": "Responses include a maximum of 3000
    files." Past the cap the list ends silently; the PR's diff is from the merge
    base ("Compare two commits": merge_base_commit) to the head, so the two trees
    (git trees API, recursive) give every path."""
    repo = gh.add_repo("org/big")
    old = {f"data/{i:04}.txt": b"a" for i in range(3100)} | {"guidelines/gone.yaml": b"x"}
    new = {f"data/{i:04}.txt": b"b" for i in range(3100)} | {"guidelines/new.yaml": b"x"}
    repo.commit(BASE, old, branch="main")
    repo.commit(HEAD, new, branch="topic", parents=[BASE])
    pull = repo.open_pull("topic", "main", "big")
    assert len(pull["files"]) == 3102
    moved = "d" * 40  # main moves on; its change is not the PR's
    repo.commit(moved, {**old, "unrelated.txt": b"1"}, branch="main", parents=[BASE])
    pull["base"] = moved

    changed = forge.changed_files(ReviewRef("github", "org/big", str(pull["number"])))

    assert sorted(changed) == sorted(p["filename"] for p in pull["files"])
    assert "unrelated.txt" not in changed and "guidelines/gone.yaml" in changed
    assert len(gh.calls("GET", "/compare/")) == 1
    assert len(gh.calls("GET", "/git/trees/")) == 2


def test_a_pull_request_under_the_cap_is_not_compared(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.add_pull(7, HEAD, BASE, ["guidelines/2024.01.yaml"])
    assert forge.changed_files(REVIEW) == ["guidelines/2024.01.yaml"]
    assert gh.calls("GET", "/compare/") == [] and gh.calls("GET", "/git/trees/") == []


# -- 6. comments over GitHub's limit ----------------------------------------------------------


def test_a_comment_over_githubs_limit_is_clipped_with_a_note(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    """GitHub answers a longer comment 422 {"message": "Validation Failed", "errors":
    [{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body
    is too long (maximum is 65536 characters)"}]} (recorded: danger/danger #424,
    suzuki-shunsuke/github-comment #124); the report would be lost."""
    marker = "<!-- govbot:check -->"
    body = "x" * 70_000

    first = forge.upsert_comment(REVIEW, marker, body)
    again = forge.upsert_comment(REVIEW, marker, body)

    [comment] = repo.comments[7]
    assert first == again == str(comment["id"])
    assert len(comment["body"]) == COMMENT_LIMIT
    assert comment["body"].startswith(marker) and comment["body"].endswith("allows in a comment)")
    assert gh.calls("PATCH", "/comments/") == []  # the same clipped text: nothing to edit


def test_a_comment_at_the_limit_is_left_whole(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    marker = "<!-- m -->"
    body = "y" * (COMMENT_LIMIT - len(marker) - 1)
    forge.upsert_comment(REVIEW, marker, body)
    assert repo.comments[7][0]["body"] == f"{marker}\n{body}"
