"""GitHubForge.publish_release through real PyGithub, over real HTTP, against the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govbot.forges.base import ForgeError
from govbot.forges.github import GitHubForge
from tests.fakes.github_server import TOKEN, FakeGitHub, FakeRepo, github_server

HEAD = "c" * 40
TAG = "2024.01"
ASSETS = {
    "guideline.json": b'{"version": "2024.01"}\n',
    "NOTES.md": b"# Guideline 2024.01\n",
    "guideline.tar.gz": bytes(range(256)) * 4,
}


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.tokens.add(TOKEN)
        yield server


@pytest.fixture
def repo(gh: FakeGitHub) -> FakeRepo:
    repo = gh.add_repo("org/gov")
    repo.commit(HEAD, {"guidelines/2024.01.yaml": b"version: 2024.01\n"}, branch="main")
    return repo


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(gh: FakeGitHub, sleeps: list[float]) -> GitHubForge:
    return gh.forge(sleeps.append)


def publish(forge: GitHubForge, assets: dict[str, bytes] = ASSETS) -> str:
    return forge.publish_release("org/gov", TAG, "Guideline 2024.01", "Notes", assets)


def creates(gh: FakeGitHub) -> list[str]:
    """The release-create requests (not the uploads, whose paths contain the same words)."""
    return [r.json["tag_name"] for r in gh.calls("POST") if r.path == "/repos/org/gov/releases"]


def uploads(gh: FakeGitHub) -> list[str]:
    return [r.query["name"] for r in gh.calls("POST", "/uploads/")]


def test_publish_creates_one_release_with_every_asset(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")

    release_id = publish(forge)

    [release] = repo.releases
    assert release_id == str(release["id"])
    assert (release["tag_name"], release["name"], release["body"]) == (
        TAG,
        "Guideline 2024.01",
        "Notes",
    )
    assert not release["draft"]
    assert release["assets"] == ASSETS
    types = {n: m["content_type"] for n, m in release["asset_meta"].items()}
    assert types == {
        "guideline.json": "application/json",
        "NOTES.md": "text/plain",
        "guideline.tar.gz": "application/octet-stream",
    }


def test_publishing_again_changes_nothing(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    first = publish(forge)
    assert sorted(uploads(gh)) == sorted(ASSETS)

    assert publish(forge) == first

    assert len(repo.releases) == 1
    assert len(creates(gh)) == 1
    assert len(uploads(gh)) == len(ASSETS)
    assert repo.releases[0]["assets"] == ASSETS


def test_a_release_left_without_its_assets_is_completed(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    seeded = repo.add_release(TAG, "Guideline 2024.01", "Notes")  # a crash right after creating it

    assert publish(forge) == str(seeded["id"])

    assert len(repo.releases) == 1
    assert creates(gh) == []
    assert seeded["assets"] == ASSETS


def test_a_failed_upload_is_finished_by_the_next_call(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, sleeps: list[float]
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    gh.fail_next(3, 502, message="Bad Gateway", path="/uploads/")  # 1 try + 2 retries

    with pytest.raises(ForgeError) as e:
        publish(forge)
    assert not e.value.permanent and e.value.retry_after
    assert len(repo.releases) == 1
    assert repo.releases[0]["assets"] == {}

    publish(forge)

    assert len(repo.releases) == 1
    assert repo.releases[0]["assets"] == ASSETS
    assert len(creates(gh)) == 1


def test_an_asset_uploaded_meanwhile_is_checked_not_uploaded_again(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker (or a lost answer) put an asset there after we listed: its 422 means done."""
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    release = repo.add_release(TAG)
    repo.add_asset(release, "NOTES.md", ASSETS["NOTES.md"])
    listings = [{}]  # the first listing predates the other worker's upload
    real = forge._assets
    monkeypatch.setattr(forge, "_assets", lambda *a: listings.pop() if listings else real(*a))

    publish(forge)

    assert release["assets"] == ASSETS
    assert uploads(gh).count("NOTES.md") == 1  # tried once, answered 422, then checked


def test_an_upload_refused_for_another_reason_is_an_error(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    gh.fail_next(1, 422, message="Validation Failed", path="/uploads/")

    with pytest.raises(ForgeError, match="HTTP 422") as e:
        publish(forge)

    assert e.value.permanent


def test_a_release_created_meanwhile_is_fetched_not_duplicated(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    seeded = repo.add_release(TAG, "Guideline 2024.01", "Notes")
    gh.fail_next(1, 404, message="Not Found", path="/releases/tags/")  # another worker's race

    assert publish(forge) == str(seeded["id"])

    assert len(creates(gh)) == 1  # answered 422 already_exists
    assert len(repo.releases) == 1
    assert seeded["assets"] == ASSETS


def test_an_asset_of_another_size_is_never_replaced(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    seeded = repo.add_release(TAG, assets={"NOTES.md": b"something else entirely\n"})

    with pytest.raises(ForgeError, match="never replaces") as e:
        publish(forge)

    assert e.value.permanent
    assert seeded["assets"]["NOTES.md"] == b"something else entirely\n"
    assert "NOTES.md" not in uploads(gh)


@pytest.mark.parametrize("digests", [True, False], ids=["digest", "no-digest"])
def test_an_asset_of_the_same_size_and_other_bytes_is_never_taken(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge, digests: bool
) -> None:
    """GitHub's asset ``digest`` (sha256 computed at upload) is compared; an asset without
    one (uploaded before GitHub had digests) is downloaded and compared."""
    gh.asset_digests = digests
    forge.create_tag("org/gov", TAG, HEAD, "Guideline 2024.01")
    planted = b"# Guideline 2099.01\n"
    assert len(planted) == len(ASSETS["NOTES.md"])
    repo.add_release(TAG, assets={"NOTES.md": planted})

    with pytest.raises(ForgeError, match=r"NOTES\.md of SHA-256 .*never replaces") as e:
        publish(forge)

    assert e.value.permanent
    assert "NOTES.md" not in uploads(gh)
    repo.releases[0]["assets"]["NOTES.md"] = ASSETS["NOTES.md"]  # the true bytes: accepted
    publish(forge)


def test_a_missing_tag_is_refused_and_nothing_is_created(
    gh: FakeGitHub, repo: FakeRepo, forge: GitHubForge
) -> None:
    with pytest.raises(ForgeError, match="does not exist") as e:
        publish(forge)

    assert e.value.permanent
    assert repo.releases == []
    assert f"refs/tags/{TAG}" not in repo.refs
    assert gh.calls("POST") == []
