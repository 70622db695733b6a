"""``govbot committee ids``: the members' account ids filled in from the forges.

Against the fake GitHub (the real adapter: PyGithub, ``GET /users/{username}``,
GitHub REST "Get a user": "Provides publicly available information about
someone with a GitHub account", with its ``id``) and the fake Gerrit (the real
REST client: rest-api-accounts.txt "Get Account", an AccountInfo with
``_account_id``). The bundled roster with its ids taken out comes back byte
for byte: comments, order and layout kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from govbot.cli import main
from govbot.core import committee_ids
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_server import TOKEN, FakeGitHub, github_server

ROSTER = (REPO / "policies/committee.yaml").read_text()
WITHOUT_IDS = re.sub(r"(?m)^\s+(github|gerrit)_id: \d+\n", "", ROSTER)
GITHUB = {"chair-alice": 1000001, "chair-bob": 1000002, "member-carol": 1000003,
          "member-dave": 1000004, "member-frank": 1000006}  # fmt: skip
GERRIT = {"chair-alice": 1000001, "chair-bob": 1000002, "member-carol": 1000003,
          "member-erin": 1000005, "member-frank": 1000006}  # fmt: skip


@pytest.fixture
def forges(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitHub, FakeGerrit]]:
    with github_server() as gh, running() as gerrit:
        gh.tokens.add(TOKEN)
        gh.user_ids.update(GITHUB)
        gerrit.accounts.update(GERRIT)
        for name, value in {
            "GOVBOT_GITHUB_TOKEN": TOKEN,
            "GOVBOT_GITHUB_API_URL": gh.url,
            "GOVBOT_GITHUB_THROTTLE": "off",
            "GOVBOT_GERRIT_URL": gerrit.url,
            "GOVBOT_GERRIT_USER": gerrit.user,
            "GOVBOT_GERRIT_HTTP_PASSWORD": gerrit.password,
        }.items():
            monkeypatch.setenv(name, value)
        yield gh, gerrit


def repo_with(tmp_path: Path, roster: str) -> Path:
    (tmp_path / "repo/policies").mkdir(parents=True)
    (tmp_path / "repo/policies/committee.yaml").write_text(roster)
    return tmp_path / "repo"


def ids(tmp_path: Path, repo: Path, *more: str) -> int:
    return main(
        ["--data-dir", str(tmp_path / "home"), "committee", "ids", "--repo", str(repo), *more]
    )


def test_the_ids_are_filled_in_keeping_comments_and_order(
    forges: tuple[FakeGitHub, FakeGerrit], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert WITHOUT_IDS != ROSTER and "# Every current member's vote is binding." in WITHOUT_IDS
    repo = repo_with(tmp_path, WITHOUT_IDS)
    assert ids(tmp_path, repo) == 0
    assert (repo / "policies/committee.yaml").read_text() == ROSTER  # byte for byte
    out = capsys.readouterr().out
    assert "Alice Example: github chair-alice: 1000001: id added" in out
    assert "Erin Example: gerrit member-erin: 1000005: id added" in out
    gh, gerrit = forges
    assert len(gh.calls("GET", "/users/")) == 5 and len(gerrit.calls("GET", "/accounts/")) == 5
    # run again: nothing to do, nothing written
    assert ids(tmp_path, repo) == 0
    assert "id already on record" in capsys.readouterr().out


def test_a_login_now_answering_with_another_id_is_reported_not_overwritten(
    forges: tuple[FakeGitHub, FakeGerrit], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alice's GitHub login now belongs to account 999 (renamed, then taken over): the id on
    record stays, the command says so and exits 1; ``--force`` replaces it."""
    gh, _ = forges
    gh.user_ids["chair-alice"] = 999
    repo = repo_with(tmp_path, ROSTER)
    assert ids(tmp_path, repo) == 1
    assert (repo / "policies/committee.yaml").read_text() == ROSTER
    out = capsys.readouterr().out
    assert "github chair-alice: 999 (on record: 1000001): MISMATCH" in out
    assert ids(tmp_path, repo, "--force") == 0
    forced = (repo / "policies/committee.yaml").read_text()
    assert forced == ROSTER.replace("github_id: 1000001", "github_id: 999")


def test_print_leaves_the_file_and_an_unknown_login_is_a_finding(
    forges: tuple[FakeGitHub, FakeGerrit], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, gerrit = forges
    del gerrit.accounts["member-erin"]
    repo = repo_with(tmp_path, WITHOUT_IDS)
    assert ids(tmp_path, repo, "--print") == 1
    assert (repo / "policies/committee.yaml").read_text() == WITHOUT_IDS
    captured = capsys.readouterr()
    assert captured.out == ROSTER.replace("    gerrit_id: 1000005\n", "")
    assert "Erin Example: gerrit member-erin: ?: NOT FOUND on the forge" in captured.err


def test_a_gerrit_username_resolving_to_another_account_is_not_found(
    forges: tuple[FakeGitHub, FakeGerrit], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rest-api-accounts.txt, {account-id}: Get Account also resolves "a bare account ID";
    a member whose Gerrit username reads as another account's id gets no id from it."""
    roster = WITHOUT_IDS.replace("gerrit: member-erin", "gerrit: '1000001'")
    repo = repo_with(tmp_path, roster)
    assert ids(tmp_path, repo, "--forge", "gerrit", "--format", "json") == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "committee ids" and doc["exit_code"] == 1
    erin = next(m for m in doc["members"] if m["member"] == "Erin Example")
    assert erin == {"member": "Erin Example", "forge": "gerrit", "login": "1000001",
                    "recorded": None, "found": None, "status": "not-found"}  # fmt: skip
    assert "github_id" not in (repo / "policies/committee.yaml").read_text()


def test_an_unconfigured_forge_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("GOVBOT_GITHUB_TOKEN", "GOVBOT_GITHUB_APP_ID", "GOVBOT_GITHUB_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    repo = repo_with(tmp_path, WITHOUT_IDS)
    assert ids(tmp_path, repo, "--forge", "github") == 2
    assert "github is not configured" in capsys.readouterr().err


def test_a_flow_style_roster_is_rewritten_whole() -> None:
    """A roster the text edit cannot place ids in is dumped again (same data, ids added)."""
    text = "members:\n  - {name: A, github: a}\n"
    entries = committee_ids.plan(text, lambda forge, login: "7")
    edited = committee_ids.apply(text, entries)
    assert committee_ids.members_of(edited) == [{"name": "A", "github": "a", "github_id": 7}]
