"""No command follows a symlink out of a repository: each refuses, or skips and says so.

Every command that reads a governance repo (or a policy file, an interop
source, a directory of assets) is run on a repo where a governed file, or a
governed directory, is a symlink to a file outside holding a secret. The
secret never appears in what the command prints or writes, and the command
either fails (exit 2, or exit 1 with a located finding) or skips the link
with a message naming it. ``govbot serve`` is covered in tests/test_site.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from govbot.cli import main
from govbot.cli.common import CliError
from govbot.cli.release import _write_files
from govbot.core.interop import to_interop
from govbot.core.yamlio import dump, parse_bytes
from govbot.repo.snapshots import read_directory, read_git
from tests.conftest import REPO

SECRET = "TOPSECRET-4b1d-never-print-me"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, raw in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(raw)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the bundled governed files."""
    root = tmp_path / "repo"
    write(root, read_directory(REPO))
    return root


def secret_guideline() -> bytes:
    """next.yaml, with the secret in a required capability's description and test ids."""
    g = parse_bytes("next", (REPO / "guidelines/next.yaml").read_bytes()).data
    name = g["components"]["os_powered_compute"]["capabilities"]["required"][0]
    g["capabilities"][name]["description"] = SECRET
    g["capabilities"][name]["tests"][f"tempest.api.{SECRET}"] = {
        "idempotent_id": "id-00000000-0000-4000-8000-000000000000"
    }
    return dump(g).encode()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the repo, each a plausible governed file carrying the secret."""
    root = tmp_path / "outside"
    write(
        root,
        {
            "next.yaml": secret_guideline(),
            "policy.yaml": f"name: {SECRET}\n".encode(),
            "add-ons/dns.next.yaml": f"id: dns.next\nstatus: draft\nsecret: {SECRET}\n".encode(),
            "next.json": json.dumps({"secret": SECRET}).encode(),
        },
    )
    return root


@pytest.mark.parametrize("command", ["render", "mustpass"])
def test_the_secret_would_show_if_the_file_were_read(
    command: str, repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the same bytes as a real file of the repo do print the secret."""
    (repo / "guidelines/next.yaml").write_bytes((outside / "next.yaml").read_bytes())
    assert main([command, "next", "--repo", str(repo)]) == 0
    assert SECRET in capsys.readouterr().out


def link(repo: Path, rel: str, target: Path) -> None:
    path = repo / rel
    if path.is_dir() and not path.is_symlink():
        subprocess.run(["rm", "-r", str(path)], check=True)
    else:
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out + err


def test_validate_reports_a_linked_guideline_as_a_located_error(
    repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "guidelines/next.yaml", outside / "next.yaml")
    link(repo, "policies/committee.yaml", outside / "policy.yaml")
    code, output = run(capsys, "validate", str(repo))
    assert code == 1
    assert "guidelines/next.yaml:1:1: error: [repo.not-read] a symbolic link" in output
    assert "policies/committee.yaml:1:1: error: [repo.not-read] a symbolic link" in output


def test_validate_reports_a_linked_directory(
    repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "guidelines/add-ons", outside / "add-ons")
    code, output = run(capsys, "validate", str(repo), "--format", "json")
    assert code == 1
    [finding] = [f for f in json.loads(output)["findings"] if f["rule"] == "repo.not-read"]
    assert finding["file"] == "guidelines/add-ons" and "symbolic link" in finding["message"]


def test_check_of_directories_blocks_a_change_that_links_a_file(
    repo: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = tmp_path / "head"
    write(head, read_directory(repo))
    link(head, "guidelines/next.yaml", outside / "next.yaml")
    for fmt in ("text", "markdown", "json", "github"):
        code, output = run(
            capsys, "check", "--base", str(repo), "--head", str(head), "--format", fmt
        )
        assert code == 1 and "repo.not-read" in output and "guidelines/next.yaml" in output
    code, output = run(capsys, "diff", "--base", str(repo), "--head", str(head))
    assert code == 0
    assert "govbot: head: guidelines/next.yaml is a symbolic link" in output


def test_check_of_git_revisions_blocks_a_committed_link_and_warns_when_inherited(
    repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "topic")
    link(repo, "guidelines/next.yaml", outside / "next.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    assert read_git(repo, "topic").skipped == {"guidelines/next.yaml": "a symbolic link"}
    code, output = run(capsys, "check", "--repo", str(repo), "--base", "main", "--head", "topic")
    assert code == 1
    # findings are grouped by rule: the rule heads its group, each finding is located
    assert "[repo.not-read]" in output
    assert "guidelines/next.yaml:1:1: error: a symbolic link" in output
    # a later change that keeps the link inherits it: a warning, not a new error
    code, output = run(capsys, "check", "--repo", str(repo), "--base", "topic", "--head", "topic")
    assert "guidelines/next.yaml:1:1: warning: a symbolic link" in output
    assert "error: a symbolic link" not in output and code == 0


def test_timeline_refuses_a_linked_policy(
    repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "policies/timeline.yaml", outside / "policy.yaml")
    code, output = run(capsys, "timeline", "--repo", str(repo))
    assert code == 2
    assert f"{repo}/policies/timeline.yaml: a symbolic link: govbot never follows links" in output


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "next", "--repo", "{repo}"],
        ["mustpass", "next", "--repo", "{repo}"],
        ["export", "interop", "{repo}", "next"],
    ],
    ids=["render", "mustpass", "export"],
)
def test_guideline_commands_refuse_a_linked_guideline(
    argv: list[str], repo: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "guidelines/next.yaml", outside / "next.yaml")
    code, output = run(capsys, *[a.format(repo=repo) for a in argv])
    assert code == 2
    assert "guidelines/next.yaml is a symbolic link: govbot never follows links" in output


def test_release_commands_refuse_a_repo_with_a_link(
    repo: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "policies/committee.yaml", outside / "policy.yaml")
    out = tmp_path / "assets"
    for argv in (
        ["release", "notes", "2020.06", "--repo", str(repo)],
        ["release", "assets", "2020.06", "--repo", str(repo), "-o", str(out)],
        ["release", "prepare", "2031.01", "--repo", str(repo), "--no-branch"],
    ):
        code, output = run(capsys, *argv)
        assert code == 2, argv
        assert "policies/committee.yaml is a symbolic link: govbot never follows links" in output
    assert not out.exists()
    assert not (repo / "guidelines/2031.01.yaml").exists()


def test_release_verify_refuses_a_linked_asset(
    repo: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "assets"
    assert run(capsys, "release", "assets", "2020.06", "--repo", str(repo), "-o", str(out))[0] == 0
    link(out, "notes.md", outside / "policy.yaml")
    code, output = run(
        capsys, "release", "verify", "2020.06", "--repo", str(repo), "--assets", str(out)
    )
    assert code == 2 and "notes.md is a symbolic link" in output


def test_release_files_are_never_written_through_a_linked_directory(
    repo: Path, outside: Path
) -> None:
    link(repo, "guidelines", outside)
    before = sorted(p.name for p in outside.iterdir())
    with pytest.raises(CliError, match="guidelines is a symbolic link"):
        _write_files(repo, {"guidelines/2031.01.yaml": b"id: '2031.01'\n"})
    assert sorted(p.name for p in outside.iterdir()) == before


def test_site_build_skips_a_linked_guideline_and_says_so(
    repo: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "guidelines/next.yaml", outside / "next.yaml")
    site = tmp_path / "site"
    code, output = run(capsys, "site", "build", str(site), "--repo", str(repo))
    assert code == 0
    assert "govbot: guidelines/next.yaml: a symbolic link, skipped" in output
    written = [p for p in site.rglob("*") if p.is_file()]
    assert written and not any(SECRET.encode() in p.read_bytes() for p in written)


def test_tally_refuses_policies_with_a_link(
    repo: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link(repo, "policies/voting.yaml", outside / "policy.yaml")
    votes = tmp_path / "votes.yaml"
    votes.write_text("- {account: chair-alice, value: 1, at: '2026-03-02T09:00:00Z'}\n")
    code, output = run(capsys, "tally", "--votes", str(votes), "--base", str(repo))
    assert code == 2
    assert "policies/voting.yaml is a symbolic link: govbot never follows links" in output


def test_import_refuses_a_linked_source_and_writes_nothing(
    outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dest = tmp_path / "interop", tmp_path / "imported"
    data = parse_bytes("2020.06", (REPO / "guidelines/2020.06.yaml").read_bytes()).data
    write(src, {"2020.06.json": json.dumps(to_interop(data), indent=2).encode()})
    assert run(capsys, "import", "interop", str(src), str(tmp_path / "ok"))[0] == 0  # the control
    os.symlink(outside / "next.json", src / "next.json")
    code, output = run(capsys, "import", "interop", str(src), str(dest))
    assert code == 2
    assert "next.json: a symbolic link: govbot never follows links" in output
    assert not dest.exists()
    os.unlink(src / "next.json")
    os.symlink(outside / "add-ons", src / "add-ons")
    code, output = run(capsys, "import", "interop", str(src), str(dest))
    assert code == 2 and "add-ons: a symbolic link" in output and not dest.exists()


def test_a_snapshot_names_what_it_did_not_read(repo: Path, outside: Path) -> None:
    link(repo, "guidelines/next.yaml", outside / "next.yaml")
    link(repo, "add-ons", outside / "add-ons")  # a governed directory of the interop layout
    os.mkfifo(repo / "policies" / "pipe.yaml")
    expected = {
        "guidelines/next.yaml": "a symbolic link",
        "add-ons": "a symbolic link",
        "policies/pipe.yaml": "not a regular file",
    }
    files = read_directory(repo)
    assert files.skipped == expected and "guidelines/next.yaml" not in files
    assert "guidelines/next.yaml is a symbolic link" in (files.refusal(repo) or "")
    os.unlink(repo / "policies" / "pipe.yaml")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},policies/sub.yaml")
    git(repo, "commit", "-q", "-m", "a submodule")
    committed = read_git(repo, "HEAD")
    assert committed.skipped == {
        "guidelines/next.yaml": "a symbolic link",
        "add-ons": "a symbolic link",
        "policies/sub.yaml": "a submodule",
    }
    assert dict(committed) == dict(read_directory(repo))
