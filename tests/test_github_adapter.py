"""GitHubForge through real PyGithub, over real HTTP, against the fake GitHub in tests/fakes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from govbot.core.events import ReviewRef
from govbot.forges.base import Annotation, CheckReport, ForgeError
from govbot.forges.github import GitHubForge
from tests.fakes.github_server import TOKEN, FakeGitHub, FakeRepo, github_server

BASE, HEAD = "b" * 40, "c" * 40
REVIEW = ReviewRef("github", "org/gov", "7")
MARKER = "<!-- govbot:check -->"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.tokens.add(TOKEN)
        yield server


@pytest.fixture
def repo(gh: FakeGitHub) -> FakeRepo:
    repo = gh.add_repo("org/gov")
    base = {
        "guidelines/2024.01.yaml": b"version: 2024.01\n",
        "policies/release.yaml": b"quorum: 3\n",
        "2023.11.json": b"{}\n",
        "README.md": b"not governed\n",
        "guidelines/drafts/2025.01.yaml": b"too deep\n",
        "guidelines/evil.yaml": b"/etc/passwd",
    }
    symlink = {"guidelines/evil.yaml": "120000"}
    repo.commit(BASE, base, modes=symlink, branch="main")
    repo.commit(
        HEAD, {**base, "guidelines/2024.01.yaml": b"version: 2024.01\nnew: true\n"}, symlink
    )
    return repo


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(gh: FakeGitHub, sleeps: list[float]) -> GitHubForge:
    return GitHubForge(gh.url, token=TOKEN, sleep=sleeps.append, throttle=False)


def report(conclusion: str = "success", notes: int = 0, title: str = "All good") -> CheckReport:
    annotations = tuple(
        Annotation(f"guidelines/{i}.yaml", i, "failure", "bad", f"problem {i}")
        for i in range(notes)
    )
    return CheckReport(REVIEW, HEAD, "govbot/check", conclusion, title, "## Summary", annotations)


# -- reading -------------------------------------------------------------------


def test_read_files_returns_governed_files_and_fetches_each_blob_once(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    base = forge.read_files("org/gov", BASE)
    head = forge.read_files("org/gov", HEAD)

    assert base == {
        "2023.11.json": b"{}\n",
        "guidelines/2024.01.yaml": b"version: 2024.01\n",
        "policies/release.yaml": b"quorum: 3\n",
    }  # no README, nothing too deep, no symlink
    assert head["guidelines/2024.01.yaml"].endswith(b"new: true\n")
    assert head.keys() == base.keys()
    blob_paths = [r.path for r in gh.calls("GET", "/git/blobs/")]
    assert len(blob_paths) == len(set(blob_paths)) == 4  # 3 at base + the one head changed


def test_read_files_by_branch_name(repo: FakeRepo, forge: GitHubForge) -> None:
    assert forge.read_files("org/gov", "main") == forge.read_files("org/gov", BASE)


def test_read_files_walks_governed_directories_when_the_listing_is_truncated(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.truncate_trees = True
    assert sorted(forge.read_files("org/gov", BASE)) == [
        "2023.11.json",
        "guidelines/2024.01.yaml",
        "policies/release.yaml",
    ]
    walked = [r for r in gh.calls("GET", "/git/trees/") if "recursive" not in r.query]
    assert len(walked) == 3  # the root, guidelines/ and policies/ (never guidelines/drafts/)


def test_changed_files_pages_through_the_list_and_keeps_both_names_of_a_rename(
    repo: FakeRepo, gh: FakeGitHub, forge: GitHubForge
) -> None:
    files: list[str | dict[str, str]] = [f"guidelines/{i:03}.yaml" for i in range(144)]
    files.append(
        {
            "filename": "policies/new.yaml",
            "status": "renamed",
            "previous_filename": "policies/old.yaml",
        }
    )
    repo.add_pull(7, HEAD, BASE, files)

    changed = forge.changed_files(REVIEW)

    assert changed[:144] == files[:144]
    assert changed[144:] == ["policies/new.yaml", "policies/old.yaml"]
    assert len(gh.calls("GET", "/pulls/7/files")) == 2  # 100 a page, GitHub's maximum


# -- check runs and statuses ---------------------------------------------------------


def test_post_check_creates_then_edits_the_same_run(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    first = forge.post_check(report("failure", title="1 problem"))
    second = forge.post_check(report("success"))
    again = forge.post_check(report("success"))  # a retried event

    assert first == second == again
    [run] = repo.check_runs
    assert (run["conclusion"], run["status"], run["output"]["title"]) == (
        "success",
        "completed",
        "All good",
    )
    assert len(gh.calls("POST", "/check-runs")) == 1
    assert len(gh.calls("PATCH", "/check-runs/")) == 1  # the retry wrote nothing


def test_more_than_50_annotations_go_in_batches(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.post_check(report("failure", notes=120))

    [run] = repo.check_runs
    assert len(run["annotations"]) == 120
    writes = gh.calls("POST", "/check-runs") + gh.calls("PATCH", "/check-runs/")
    assert [len(w.json["output"]["annotations"]) for w in writes] == [50, 50, 20]
    assert all(w.json["output"]["title"] and w.json["output"]["summary"] for w in writes)
    assert run["annotations"][0] == {
        "path": "guidelines/0.yaml",
        "start_line": 1,  # line 0 (the whole file) goes on the first line
        "end_line": 1,
        "annotation_level": "failure",
        "title": "bad",
        "message": "problem 0",
    }


def test_a_run_with_annotations_is_replaced_not_appended_to(
    repo: FakeRepo, forge: GitHubForge
) -> None:
    old = forge.post_check(report("failure", notes=3))
    new = forge.post_check(report("failure", notes=2))

    assert new != old
    assert [len(r["annotations"]) for r in repo.check_runs] == [3, 2]


def test_an_app_edits_its_own_run_and_leaves_another_apps_alone(
    gh: FakeGitHub, repo: FakeRepo
) -> None:
    gh.app_id = 99  # the fake attributes new runs to this app
    ours = GitHubForge(
        gh.url, app_id=99, private_key=_private_key(), installation_id=5, throttle=False
    )
    other = GitHubForge(
        gh.url, app_id=7, private_key=_private_key(), installation_id=5, throttle=False
    )

    first = ours.post_check(report())
    assert ours.post_check(report("failure")) == first
    gh.app_id = 7
    assert other.post_check(report("failure")) != first
    assert [r["conclusion"] for r in repo.check_runs] == ["failure", "failure"]


def test_forbidden_check_runs_fall_back_to_a_commit_status(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    gh.checks_forbidden = True  # what a plain token gets

    assert forge.post_check(report("failure", title="x" * 300)) == "status:govbot/check"
    assert forge.post_check(report("neutral")) == "status:govbot/check"

    failed, neutral = repo.statuses
    assert (failed["state"], failed["context"], failed["sha"]) == ("failure", "govbot/check", HEAD)
    assert len(failed["description"]) == 140
    assert neutral["state"] == "success"
    assert len(gh.calls("POST", "/check-runs")) == 1  # not asked again once refused


# -- comments and tags ---------------------------------------------------------------


def test_upsert_comment_edits_its_comment_instead_of_posting_again(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.add_comment(7, "LGTM")
    repo.add_comment(7, f"quoting the bot: {MARKER}")  # not govbot's: the marker must lead

    first = forge.upsert_comment(REVIEW, MARKER, "1 problem")
    second = forge.upsert_comment(REVIEW, MARKER, "all good")
    forge.upsert_comment(REVIEW, MARKER, "all good")

    assert first == second
    bodies = [c["body"] for c in repo.comments[7]]
    assert bodies == ["LGTM", f"quoting the bot: {MARKER}", f"{MARKER}\nall good"]
    assert len(gh.calls("POST", "/comments")) == 1
    assert len(gh.calls("PATCH", "/comments/")) == 1


def test_labels_are_the_issues_added_created_and_removed_idempotently(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    """GitHub REST "Labels": a pull request's labels are its issue's; "Add labels to an
    issue" creates a label the repository lacks; "Remove a label from an issue" answers 404
    when the issue lacks it, which is what removing asked for."""
    repo.add_labels(7, ["bug"])
    assert forge.labels(REVIEW) == {"bug"}
    forge.edit_labels(REVIEW, ["tests-verified-2020.06", "missing-tests"], [])
    assert repo.issue_labels[7] == ["bug", "tests-verified-2020.06", "missing-tests"]
    assert repo.labels["missing-tests"]["color"] == "ededed"  # made by GitHub on first use
    forge.edit_labels(REVIEW, [], ["missing-tests", "guideline-not-valid"])
    assert forge.labels(REVIEW) == {"bug", "tests-verified-2020.06"}
    assert len(gh.calls("DELETE", "/labels/")) == 2
    forge.edit_labels(REVIEW, [], [])
    assert len(gh.calls("POST", "/labels")) == 1  # nothing to do: no request


def test_a_refused_label_is_permanent_and_a_5xx_retried(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    gh.fail_next(1, 502, path="/issues/7/labels")
    forge.edit_labels(REVIEW, ["missing-tests"], [])
    assert repo.issue_labels[7] == ["missing-tests"] and len(sleeps) == 1
    gh.labels_forbidden = True
    with pytest.raises(ForgeError) as refused:
        forge.edit_labels(REVIEW, ["submission-invalid"], [])
    assert refused.value.permanent and "403" in str(refused.value)


def test_create_tag_is_idempotent_and_never_moves_a_tag(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    assert forge.create_tag("org/gov", "2024.01", HEAD, "Guideline 2024.01") == "refs/tags/2024.01"
    assert forge.create_tag("org/gov", "2024.01", HEAD, "Guideline 2024.01") == "refs/tags/2024.01"
    assert len(gh.calls("POST", "/git/tags")) == 1
    [tag] = repo.tag_objects.values()
    assert (tag["tag"], tag["object"], tag["type"]) == ("2024.01", HEAD, "commit")

    with pytest.raises(ForgeError) as caught:
        forge.create_tag("org/gov", "2024.01", BASE, "Guideline 2024.01")
    assert caught.value.permanent
    assert repo.refs["refs/tags/2024.01"] in repo.tag_objects  # unchanged


def test_create_tag_accepts_an_existing_lightweight_tag_and_a_lost_race(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.add_tag("light", HEAD, annotated=False)
    assert forge.create_tag("org/gov", "light", HEAD, "m") == "refs/tags/light"

    repo.add_tag("raced", HEAD)  # someone else creates it between our look-up and our write
    gh.fail_next(1, 404, message="Not Found", path="/git/ref/tags/raced")
    assert forge.create_tag("org/gov", "raced", HEAD, "m") == "refs/tags/raced"
    assert len(gh.calls("POST", "/git/refs")) == 1  # refused with 422, then accepted as ours


# -- failures, retries, secrets ----------------------------------------------------------


def test_server_errors_are_retried_with_exponential_backoff(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    gh.fail_next(2, 500)
    assert "policies/release.yaml" in forge.read_files("org/gov", BASE)
    assert sleeps == [0.5, 1.0]


def test_an_exhausted_rate_limit_is_handed_back_until_the_reset(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    reset = int(time.time()) + 30
    headers = {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    gh.fail_next(1, 403, headers, message="API rate limit exceeded for installation ID 5.")
    with pytest.raises(ForgeError) as caught:
        forge.post_check(report())
    wait = caught.value.retry_after
    assert caught.value.rate_limited and wait is not None and 28 <= wait <= 32
    assert sleeps == []  # the worker reschedules; nothing sleeps


def test_retry_after_is_honoured(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    gh.fail_next(1, 429, {"Retry-After": "7"}, message="slow down")
    with pytest.raises(ForgeError) as caught:
        forge.upsert_comment(REVIEW, MARKER, "hi")
    assert caught.value.retry_after == 7.0 and sleeps == []
    gh.fail_next(1, 429, {"Retry-After": "1"}, message="slow down")
    forge = GitHubForge(gh.url, token=TOKEN, sleep=sleeps.append, throttle=False)
    forge.upsert_comment(REVIEW, MARKER, "hi")  # a second's wait is short enough to wait here
    assert sleeps == [1.0]


def test_transient_failures_that_persist_are_left_to_the_worker(
    gh: FakeGitHub, repo: FakeRepo, sleeps: list[float]
) -> None:
    forge = GitHubForge(gh.url, token=TOKEN, retries=2, sleep=sleeps.append, throttle=False)
    gh.fail_next(3, 502, message="Bad Gateway")
    with pytest.raises(ForgeError) as caught:
        forge.changed_files(REVIEW)
    assert not caught.value.permanent and caught.value.retry_after
    assert sleeps == [0.5, 1.0]

    sleeps.clear()  # an hour-long rate limit: no point in sleeping through it here
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)}
    gh.fail_next(1, 403, headers, message="API rate limit exceeded")
    with pytest.raises(ForgeError) as caught:
        forge.changed_files(REVIEW)
    assert sleeps == [] and caught.value.retry_after and caught.value.retry_after > 3500


def test_not_found_is_permanent(gh: FakeGitHub, forge: GitHubForge, sleeps: list[float]) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.read_files("org/missing", BASE)
    assert caught.value.permanent and caught.value.retry_after is None
    assert "404" in str(caught.value)
    assert sleeps == []


def test_the_token_never_appears_in_errors_logs_or_reprs(
    gh: FakeGitHub, repo: FakeRepo, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")  # PyGithub logs whole requests at DEBUG
    gh.tokens = {"the-only-valid-token"}
    forge = GitHubForge(gh.url, token=TOKEN, sleep=sleeps.append, throttle=False)

    gh.fail_next(1, 500, message=f"echoing {TOKEN}")
    with pytest.raises(ForgeError) as caught:
        forge.read_files("org/gov", BASE)

    assert caught.value.permanent  # 401 Bad credentials, after one retried 500
    for text in (str(caught.value), repr(caught.value), repr(forge), caplog.text):
        assert TOKEN not in text
    assert "GET" in caplog.text  # PyGithub's debug log did run


def test_a_github_app_installation_token_is_used_and_kept_out_of_logs(
    gh: FakeGitHub, repo: FakeRepo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="github")
    gh.tokens = {"placeholder"}  # only minted installation tokens are accepted
    key = _private_key()
    forge = GitHubForge(gh.url, app_id=99, private_key=key, installation_id=5, throttle=False)

    assert "policies/release.yaml" in forge.read_files("org/gov", BASE)

    [minted] = gh.installation_tokens
    assert gh.calls("GET", "/git/trees/")[0].authorization == f"token {minted}"
    assert minted not in caplog.text and "PRIVATE KEY" not in caplog.text
    assert "PRIVATE" not in repr(forge) and "99" in repr(forge)


def test_from_env(tmp_path: Path) -> None:
    assert GitHubForge.from_env({}) is None
    token_forge = GitHubForge.from_env({"GOVBOT_GITHUB_TOKEN": TOKEN})
    assert token_forge is not None and TOKEN not in repr(token_forge)

    key_file = tmp_path / "key.pem"
    key_file.write_text(_private_key())
    app = GitHubForge.from_env(
        {
            "GOVBOT_GITHUB_APP_ID": "99",
            "GOVBOT_GITHUB_PRIVATE_KEY_FILE": str(key_file),
            "GOVBOT_GITHUB_INSTALLATION_ID": "5",
            "GOVBOT_GITHUB_API_URL": "https://ghe.example/api/v3",
        }
    )
    assert repr(app) == "GitHubForge('https://ghe.example/api/v3', auth=app 99)"
    one_line = _private_key().replace("\n", "\\n")  # how env files often carry a PEM
    app_vars = {"GOVBOT_GITHUB_APP_ID": "99", "GOVBOT_GITHUB_INSTALLATION_ID": "5"}
    assert GitHubForge.from_env({**app_vars, "GOVBOT_GITHUB_PRIVATE_KEY": one_line}) is not None

    with pytest.raises(ValueError, match="App id, private key and installation id"):
        GitHubForge.from_env({"GOVBOT_GITHUB_APP_ID": "99"})
    with pytest.raises(ValueError) as caught:
        GitHubForge.from_env(
            {
                "GOVBOT_GITHUB_APP_ID": "9",
                "GOVBOT_GITHUB_PRIVATE_KEY": "sekrit-not-a-key",
                "GOVBOT_GITHUB_INSTALLATION_ID": "5",
            }
        )
    assert "sekrit" not in str(caught.value) and caught.value.__cause__ is None
    with pytest.raises(ValueError, match="not both"):
        GitHubForge(token=TOKEN, app_id=1, private_key=_private_key(), installation_id=2)


_KEY: list[str] = []


def _private_key() -> str:
    if not _KEY:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        _KEY.append(pem.decode())
    return _KEY[0]
