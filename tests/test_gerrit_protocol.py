"""The Gerrit adapter against Gerrit's documented answers: authenticated gitiles, tag objects.

The fake Gerrit in tests/fakes answers as the documentation and the plugins'
source say; each test quotes its source.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govbot.core.events import TagPushed
from govbot.forges.base import ForgeError
from govbot.forges.gerrit import GerritForge
from govbot.forges.gerrit_events import normalise
from govbot.forges.gerrit_rest import GerritRest
from tests.fakes.gerrit_server import FakeGerrit, running

PROJECT = "openstack/interop"
SHA = "1" * 40
FILES = {"guidelines/2020.06.yaml": b"id: 2020.06\n", "next.json": b"{}", "README.md": b"x"}


@pytest.fixture
def gerrit() -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.add_commit(PROJECT, SHA, FILES, branch="master")
        yield fake


@pytest.fixture
def forge(gerrit: FakeGerrit) -> Iterator[GerritForge]:
    forge = (
        gerrit.forge()
    )  # configured as users do: GOVBOT_GERRIT_GITILES_URL=<gerrit>/plugins/gitiles
    yield forge
    forge.rest.close()


def gitiles_calls(gerrit: FakeGerrit) -> list[str]:
    return [r.path for r in gerrit.requests if "/plugins/gitiles/" in r.path]


def test_gitiles_is_read_authenticated_so_a_private_project_is_read_whole(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    """Gerrit, Documentation/rest-api.txt, "Authentication": "By default all REST
    endpoints assume anonymous access and filter results to correspond to what
    anonymous users can read (which may be nothing at all). [...] To authenticate,
    prefix the endpoint URL with /a/." The gitiles plugin is served at
    /plugins/gitiles/ and, authenticated, at /a/plugins/gitiles/."""
    gerrit.private.add(PROJECT)

    files = forge.read_files(PROJECT, "master")

    assert files == {p: c for p, c in FILES.items() if p != "README.md"}
    listings = [r for r in gerrit.requests if "/plugins/gitiles/" in r.path]
    assert listings and all(r.path.startswith("/a/plugins/gitiles/") for r in listings)
    assert all(r.authorized for r in listings)


def test_a_project_the_account_cannot_read_is_an_error_not_an_empty_tree(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    """The gitiles plugin's Resolver (plugins/gitiles, Resolver.java) answers a
    project the caller may not read as one that does not exist: "Avoid leaking
    information by not distinguishing between project not existing and no access
    rights". A 404 there must stop the check, not judge an empty tree."""
    gerrit.hidden.add(PROJECT)
    with pytest.raises(ForgeError, match="not readable by govbot") as caught:
        forge.read_files(PROJECT, SHA)
    assert caught.value.permanent


def test_an_unknown_commit_is_an_error_too(forge: GerritForge) -> None:
    with pytest.raises(ForgeError, match="not found") as caught:
        forge.read_files(PROJECT, "9" * 40)
    assert caught.value.permanent


def test_a_governed_directory_the_tree_lacks_is_never_asked_for(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    """Only directories the parent listing shows are listed, so every 404 is real."""
    assert "next.json" in forge.read_files(PROJECT, SHA)
    paths = gitiles_calls(gerrit)
    assert len(paths) == 2  # the root and guidelines/; no add-ons/, policies/
    assert paths[1].endswith(f"/+/{SHA}/guidelines")


def test_an_empty_repository_root_is_read_as_empty(gerrit: FakeGerrit, forge: GerritForge) -> None:
    gerrit.add_commit(PROJECT, "2" * 40, {})
    assert forge.read_files(PROJECT, "2" * 40) == {}


@pytest.mark.parametrize(
    ("configured", "used"),
    [
        ("https://review.example.org/r/plugins/gitiles/", "https://review.example.org/r/a/plugins/gitiles"),
        ("https://review.example.org/r/a/plugins/gitiles", "https://review.example.org/r/a/plugins/gitiles"),
        ("https://gitiles.example.org/", "https://gitiles.example.org"),  # standalone: no password
    ],
)  # fmt: skip
def test_the_gitiles_url_is_put_on_the_authenticated_path_of_its_gerrit(
    configured: str, used: str
) -> None:
    rest = GerritRest("https://review.example.org/r/", "govbot", "pw", gitiles_url=configured)
    assert rest.gitiles_url == used
    rest.close()


def test_an_annotated_tags_ref_updated_is_recorded_as_the_commit_it_tags(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    """Gerrit, cmd-stream-events.txt, ref-updated: "refUpdate:: Information about a
    ref that was updated" (json.txt, refUpdate: "newRev:: The new value the ref was
    updated to"): for an annotated tag that is the tag object. TagInfo
    (rest-api-projects.txt): "revision [...] For annotated/signed tags this is the
    SHA-1 of the tag object"; "object: The SHA-1 of the object tagged. Only set for
    annotated tags"."""
    gerrit.add_tag(PROJECT, "2025.06", SHA, message="Guideline 2025.06")
    tag_object = gerrit.tags[PROJECT, "2025.06"]["revision"]
    assert tag_object != SHA
    event = {
        "type": "ref-updated",
        "submitter": {"name": "Chair", "username": "chair"},
        "refUpdate": {"oldRev": "0" * 40, "newRev": tag_object,
                      "refName": "refs/tags/2025.06", "project": PROJECT},
        "eventCreatedOn": 1750000000,
    }  # fmt: skip

    [pushed] = normalise(event) or []

    assert pushed == TagPushed(PROJECT, "2025.06", tag_object)
    assert forge.tag_commit(PROJECT, "2025.06", pushed.sha) == SHA


def test_a_lightweight_tag_is_its_own_commit(gerrit: FakeGerrit, forge: GerritForge) -> None:
    gerrit.add_tag(PROJECT, "light", SHA)
    assert forge.tag_commit(PROJECT, "light", SHA) == SHA


def test_a_tag_moved_or_gone_since_the_event_is_not_guessed(
    gerrit: FakeGerrit, forge: GerritForge
) -> None:
    with pytest.raises(ForgeError, match="is gone") as gone:
        forge.tag_commit(PROJECT, "nope", SHA)
    gerrit.add_tag(PROJECT, "moved", "3" * 40)
    with pytest.raises(ForgeError, match="now on") as moved:
        forge.tag_commit(PROJECT, "moved", SHA)
    assert gone.value.permanent and moved.value.permanent
