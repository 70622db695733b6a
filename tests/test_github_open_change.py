"""GitHubForge.open_change and .published through real PyGithub, over real HTTP, against the fake GitHub."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests
from github.Repository import Repository

from govbot.forges.base import ForgeError, ProposedChange
from govbot.forges.github import GitHubForge
from tests.fakes.github_server import TOKEN, FakeGitHub, FakeRepo, Recorded, github_server

HEAD = "c" * 40
OTHER = "d" * 40
BRANCH = "govbot/release-2024.02"
BASE_FILES = {
    "guidelines/2024.01.yaml": b"version: 2024.01\n",
    "guidelines/old.yaml": b"version: old\n",
    "policies/release.yaml": b"quorum: 3\n",
    "README.md": b"not governed\n",
}
CHANGE = ProposedChange(
    repo="org/gov",
    base="main",
    branch=BRANCH,
    message="Release guideline 2024.02\n\nVoted on in #7.\nQuorum reached.",
    files={
        "guidelines/2024.01.yaml": b"version: 2024.01\nsuperseded: true\n",  # changed
        "guidelines/2024.02.yaml": b"version: 2024.02\n\xff\x00 not UTF-8\n",  # added
        "guidelines/old.yaml": None,  # deleted
        "guidelines/never-there.yaml": None,  # deleting what is not there: nothing to do
    },
)
EXPECTED = {
    "guidelines/2024.01.yaml": b"version: 2024.01\nsuperseded: true\n",
    "guidelines/2024.02.yaml": b"version: 2024.02\n\xff\x00 not UTF-8\n",
    "policies/release.yaml": b"quorum: 3\n",
}
TAG = "2024.01"
ASSETS = {
    "guideline.json": b'{"version": "2024.01"}\n',
    "NOTES.md": b"# Guideline 2024.01\n",
    "guideline.tar.gz": os.urandom(150_000),
}


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.tokens.add(TOKEN)
        yield server


@pytest.fixture
def repo(gh: FakeGitHub) -> FakeRepo:
    repo = gh.add_repo("org/gov")
    repo.commit(HEAD, BASE_FILES, branch="main")
    repo.commit(OTHER, {"guidelines/2024.01.yaml": b"stale\n"})
    return repo


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(gh: FakeGitHub, sleeps: list[float]) -> GitHubForge:
    return gh.forge(sleeps.append)


def pull_creates(gh: FakeGitHub) -> list[Recorded]:
    return [r for r in gh.calls("POST") if r.path == "/repos/org/gov/pulls"]


def ref_creates(gh: FakeGitHub) -> list[Recorded]:
    return [r for r in gh.calls("POST") if r.path == "/repos/org/gov/git/refs"]


# -- open_change -----------------------------------------------------------------


def test_opens_one_pull_request_with_exactly_the_files(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    opened = forge.open_change(CHANGE)

    assert opened.created
    [(number, pull)] = repo.pulls.items()
    assert opened.number == number
    assert opened.url == f"https://github.com/org/gov/pull/{number}"
    assert (pull["head_ref"], pull["base_ref"], pull["state"]) == (BRANCH, "main", "open")
    assert pull["title"] == "Release guideline 2024.02"
    assert pull["body"] == "Voted on in #7.\nQuorum reached."
    assert forge.read_files("org/gov", BRANCH) == EXPECTED
    assert repo.files(BRANCH)["README.md"] == b"not governed\n"  # untouched, ungoverned
    assert forge.read_files("org/gov", "main") == {  # the base is left alone
        k: v for k, v in BASE_FILES.items() if k != "README.md"
    }
    commit = repo.refs[f"refs/heads/{BRANCH}"]
    assert repo.commit_meta[commit] == {"message": CHANGE.message, "parents": [HEAD]}
    assert {f["filename"]: f["status"] for f in pull["files"]} == {
        "guidelines/2024.01.yaml": "modified",
        "guidelines/2024.02.yaml": "added",
        "guidelines/old.yaml": "removed",
    }

    [create] = pull_creates(gh)
    assert create.json == {
        "base": "main",
        "head": BRANCH,
        "title": "Release guideline 2024.02",
        "body": "Voted on in #7.\nQuorum reached.",
    }
    [ref] = ref_creates(gh)
    assert ref.json == {"ref": f"refs/heads/{BRANCH}", "sha": commit}
    blobs = gh.calls("POST", "/git/blobs")
    assert len(blobs) == 2 and all(b.json["encoding"] == "base64" for b in blobs)
    [tree] = gh.calls("POST", "/git/trees")
    assert tree.json["base_tree"] == repo.commits[HEAD]
    deletions = [e for e in tree.json["tree"] if "sha" in e and e["sha"] is None]
    assert deletions == [
        {"path": "guidelines/old.yaml", "mode": "100644", "type": "blob", "sha": None}
    ]
    [commit_call] = gh.calls("POST", "/git/commits")
    assert commit_call.json["parents"] == [HEAD]
    assert [r.query for r in gh.calls("GET", "/pulls")] == [
        {"state": "open", "head": f"org:{BRANCH}", "base": "main", "per_page": "100"}
    ]


def test_an_executable_file_stays_executable(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.commit(HEAD, {"tools/bump.sh": b"#!/bin/sh\n"}, modes={"tools/bump.sh": "100755"})
    change = ProposedChange("org/gov", "main", BRANCH, "Bump", {"tools/bump.sh": b"#!/bin/sh\n:\n"})

    forge.open_change(change)

    [tree] = gh.calls("POST", "/git/trees")
    assert [e["mode"] for e in tree.json["tree"]] == ["100755"]


def test_opening_again_returns_the_same_pull_request(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    first = forge.open_change(CHANGE)
    ref = repo.refs[f"refs/heads/{BRANCH}"]
    writes = len(gh.calls("POST")) + len(gh.calls("PATCH"))

    again = forge.open_change(CHANGE)

    assert (again.number, again.url, again.created) == (first.number, first.url, False)
    assert len(repo.pulls) == 1
    assert len(pull_creates(gh)) == 1
    assert len(ref_creates(gh)) == 1
    assert len(gh.calls("POST")) + len(gh.calls("PATCH")) == writes  # nothing written again
    assert repo.refs[f"refs/heads/{BRANCH}"] == ref


def test_a_merged_pull_request_does_not_count_as_open(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    first = forge.open_change(CHANGE)
    head = repo.refs[f"refs/heads/{BRANCH}"]
    merge = repo.merge_pull(first.number)
    pull = repo.pulls[first.number]
    assert (pull["state"], pull["merged"], pull["merge_commit_sha"]) == ("closed", True, merge)
    assert repo.refs["refs/heads/main"] == merge
    assert repo.commit_meta[merge]["parents"] == [HEAD, head]
    assert forge.read_files("org/gov", "main") == EXPECTED

    change = ProposedChange("org/gov", "main", BRANCH, "Next", {"guidelines/2024.02.yaml": None})
    second = forge.open_change(change)

    assert second.created and second.number != first.number
    assert repo.commit_meta[repo.refs[f"refs/heads/{BRANCH}"]]["parents"] == [merge]
    assert set(forge.read_files("org/gov", BRANCH)) == {
        "guidelines/2024.01.yaml",
        "policies/release.yaml",
    }


def test_a_branch_left_by_a_crash_is_moved_and_its_pull_request_opened(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.refs[f"refs/heads/{BRANCH}"] = OTHER  # the previous attempt died after creating the ref

    opened = forge.open_change(CHANGE)

    assert opened.created
    assert len(repo.pulls) == 1
    commit = repo.refs[f"refs/heads/{BRANCH}"]
    assert commit != OTHER
    assert repo.commit_meta[commit]["parents"] == [HEAD]
    assert forge.read_files("org/gov", BRANCH) == EXPECTED
    [move] = gh.calls("PATCH", "/git/refs/")
    assert move.path == f"/repos/org/gov/git/refs/heads/{BRANCH}"
    assert move.json == {"sha": commit, "force": True}


def test_a_pull_request_opened_meanwhile_is_found_not_duplicated(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker opens it between our look-up and our create: GitHub's 422 means found."""
    real = forge._open_pull
    lookups: list[object] = []

    def racing(r: Repository, change: ProposedChange) -> object:
        lookups.append(change)
        if len(lookups) == 1:  # our first look-up sees nothing; then the other worker wins
            repo.refs[f"refs/heads/{BRANCH}"] = OTHER
            repo.open_pull(BRANCH, "main", "Release guideline 2024.02")
            return None
        return real(r, change)

    monkeypatch.setattr(forge, "_open_pull", racing)

    opened = forge.open_change(CHANGE)

    [(number, _)] = repo.pulls.items()
    assert (opened.number, opened.created) == (number, False)
    [create] = pull_creates(gh)
    assert create.json["head"] == BRANCH
    assert len(lookups) == 2


def test_a_pull_request_refused_for_another_reason_is_an_error(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    untitled = ProposedChange("org/gov", "main", BRANCH, "", {"guidelines/old.yaml": None})

    with pytest.raises(ForgeError, match="HTTP 422") as e:
        forge.open_change(untitled)

    assert e.value.permanent
    assert repo.pulls == {}
    assert len(pull_creates(gh)) == 1
    assert len(gh.calls("GET", "/pulls")) == 2  # looked for one opened meanwhile: none


def test_a_missing_base_branch_is_a_permanent_error(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    change = ProposedChange("org/gov", "nope", BRANCH, "Release", {"a.yaml": b"a\n"})

    with pytest.raises(ForgeError, match="HTTP 404") as e:
        forge.open_change(change)

    assert e.value.permanent
    assert gh.calls("POST") == []


@pytest.mark.parametrize(
    "path", ["/pulls", "/git/blobs", "/git/trees", "/git/commits", "/git/refs"]
)
def test_a_transient_failure_is_retried(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float], path: str
) -> None:
    gh.fail_next(1, 502, message="Bad Gateway", path=path)

    opened = forge.open_change(CHANGE)

    assert opened.created
    assert sleeps == [0.5]
    assert len(repo.pulls) == 1
    assert forge.read_files("org/gov", BRANCH) == EXPECTED


# -- published ---------------------------------------------------------------------


def test_published_returns_the_tagged_commit_and_the_exact_asset_bytes(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    repo.add_release(TAG, "Guideline 2024.01", "Notes", ASSETS)

    published = forge.published("org/gov", TAG)

    assert (published.tag, published.sha) == (TAG, HEAD)
    assert published.assets == ASSETS
    # through the redirect GitHub answers the asset's API URL with
    assert len(gh.calls("GET", "/releases/assets/")) == len(ASSETS)
    assert len(gh.calls("GET", "/releases/download/")) == len(ASSETS)


def test_published_assets_are_real_downloads(gh: FakeGitHub, repo: FakeRepo) -> None:
    release = repo.add_release(TAG, assets=ASSETS)
    asset = gh.asset_json(repo, release, "guideline.tar.gz")

    direct = requests.get(asset["browser_download_url"], timeout=10)
    api = requests.get(
        asset["url"],
        headers={"Accept": "application/octet-stream", "Authorization": f"token {TOKEN}"},
        timeout=10,
    )
    meta = requests.get(asset["url"], headers={"Authorization": f"token {TOKEN}"}, timeout=10)

    assert direct.content == api.content == ASSETS["guideline.tar.gz"]
    assert meta.json()["size"] == 150_000


def test_a_failed_download_is_retried(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    repo.add_tag(TAG, HEAD)
    repo.add_release(TAG, assets={"NOTES.md": ASSETS["NOTES.md"]})
    gh.fail_next(1, 502, message="Bad Gateway", path="/releases/download/")

    assert forge.published("org/gov", TAG).assets == {"NOTES.md": ASSETS["NOTES.md"]}
    assert sleeps == [0.5]


def test_a_missing_asset_is_a_permanent_error(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.add_tag(TAG, HEAD)
    repo.add_release(TAG, assets={"NOTES.md": ASSETS["NOTES.md"]})
    gh.fail_next(1, 404, message="Not Found", path="/releases/download/")

    with pytest.raises(ForgeError, match="HTTP 404") as e:
        forge.published("org/gov", TAG)

    assert e.value.permanent


def test_a_tag_without_a_release_has_no_assets(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    repo.add_tag(TAG, HEAD, annotated=False)

    published = forge.published("org/gov", TAG)

    assert (published.tag, published.sha, dict(published.assets)) == (TAG, HEAD, {})


def test_no_tag_is_a_permanent_error(gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge) -> None:
    repo.add_release(TAG, assets=ASSETS)  # a release alone proves nothing

    with pytest.raises(ForgeError, match="does not exist") as e:
        forge.published("org/gov", TAG)

    assert e.value.permanent
    assert gh.calls("GET", "/releases/download/") == []
