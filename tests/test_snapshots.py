"""Reading snapshots from directories and from real Git revisions (scratch repos in tmp_path)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from govbot.repo import snapshots
from govbot.repo.snapshots import (
    SnapshotError,
    is_governed,
    read_directory,
    read_git,
    read_snapshot,
)

INTEROP = Path(__file__).resolve().parents[2] / "shared" / "interop"


@pytest.fixture(autouse=True)
def _isolated_git(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the host's git config nor a surrounding git environment (hooks) may matter."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(Path(tmp_path_factory.getbasetemp()).parent))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode()


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    return root


GOVBOT_V1 = {
    "guidelines/2020.06.yaml": b"id: '2020.06'\n",
    "guidelines/next.yaml": b"id: next\nstatus: draft\n",
    "guidelines/add-ons/dns.next.yaml": b"id: dns.next\n",
    "policies/validation.yaml": b"max_bytes: 10\n",
}
UNGOVERNED = {
    "README.md": b"# hello\n",
    "docs/x.yaml": b"not: governed\n",
    "guidelines/notes.txt": b"stray\n",
    "guidelines/old/2015.03.yaml": b"too deep\n",
    "tools/next.json": b"{}\n",
}


# --- is_governed -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "guidelines/2020.06.yaml",
        "guidelines/next.yaml",
        "guidelines/add-ons/dns.2020.06.yaml",
        "policies/validation.yaml",
        "2019.11.json",
        "next.json",
        "add-ons/dns.next.json",
        "add-ons/shared_file-system.2020.06.json",
    ],
)
def test_governed(path: str) -> None:
    assert is_governed(path)


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "docs/x.yaml",
        "guidelines/next.yml",
        "guidelines/x/y/z.yaml",
        "guidelines/old/2015.03.yaml",
        "policies/add-ons/x.yaml",
        "/guidelines/next.yaml",
        "guidelines/next.yaml\n",
        "2019.11.yaml",
        "2019.1.json",
        "doc/next.json",
        "add-ons/criteria.txt",
        "add-ons/DNS.next.json",
        "add-ons/dns.json",
        "add-ons/x/dns.next.json",
        "next.json.orig",
    ],
)
def test_not_governed(path: str) -> None:
    assert not is_governed(path)


# --- read_git -------------------------------------------------------------------


def test_two_commits_govbot_layout(repo: Path) -> None:
    write(repo, GOVBOT_V1 | UNGOVERNED)
    commit(repo, "one")
    v2 = GOVBOT_V1 | {
        "guidelines/next.yaml": b"id: next\nstatus: approved\n",
        "guidelines/add-ons/orchestration.next.yaml": b"id: orchestration.next\n",
    }
    write(repo, v2)
    commit(repo, "two")

    assert read_git(repo, "HEAD~1") == GOVBOT_V1
    assert read_git(repo, "HEAD") == v2
    assert read_git(repo, "main") == v2
    # The working tree agrees with HEAD, and ignores the same files.
    assert read_directory(repo) == v2


def test_subdirectory_of_repo_reads_whole_tree(repo: Path) -> None:
    write(repo, GOVBOT_V1)
    commit(repo, "one")
    assert read_git(repo / "guidelines", "HEAD") == GOVBOT_V1


def test_interop_layout_rename(repo: Path) -> None:
    if not INTEROP.is_dir():
        pytest.skip(f"the interop reference data is not at {INTEROP}")
    real = {
        rel: (INTEROP / rel).read_bytes()
        for rel in ("2019.11.json", "2020.06.json", "next.json", "add-ons/dns.next.json")
    }
    # Before the 2020.06 release, next.json held what became 2020.06.json.
    v1 = {
        "2019.11.json": real["2019.11.json"],
        "next.json": real["2020.06.json"],
        "add-ons/dns.next.json": real["add-ons/dns.next.json"],
    }
    write(repo, v1)
    write(repo, {"setup.cfg": b"[metadata]\n", "doc/source/next.json": b"{}\n"})
    shutil.copy(INTEROP / "add-ons" / "criteria.txt", repo / "add-ons" / "criteria.txt")
    commit(repo, "one")
    git(repo, "mv", "next.json", "2020.06.json")
    write(repo, {"next.json": real["next.json"]})
    commit(repo, "release 2020.06")

    assert read_git(repo, "HEAD~1") == v1
    after = read_git(repo, "HEAD")
    assert after == {
        "2019.11.json": real["2019.11.json"],
        "2020.06.json": real["2020.06.json"],
        "next.json": real["next.json"],
        "add-ons/dns.next.json": real["add-ons/dns.next.json"],
    }
    assert after["2020.06.json"] == read_git(repo, "HEAD~1")["next.json"]


def test_invalid_content_returned_verbatim(repo: Path) -> None:
    odd = {
        "guidelines/bad.yaml": b"key: [unclosed\n\t- : :",
        "2021.01.json": b"{not json",
        "next.json": b"\xff\xfe\x00 binary\n\n",
        "policies/empty.yaml": b"",
        "policies/same.yaml": b"{not json",  # same blob as 2021.01.json
    }
    write(repo, odd)
    commit(repo, "odd")
    assert read_git(repo, "HEAD") == odd
    assert read_directory(repo) == odd


def test_large_file_is_read(repo: Path) -> None:
    big = b"x: " + b"a" * (11 * 1024 * 1024) + b"\n"
    write(repo, {"guidelines/big.yaml": big, "guidelines/next.yaml": b"id: next\n"})
    commit(repo, "big")
    files = read_git(repo, "HEAD")
    assert files["guidelines/big.yaml"] == big
    assert files["guidelines/next.yaml"] == b"id: next\n"


def test_symlinks_are_not_followed(repo: Path, tmp_path: Path) -> None:
    write(repo, GOVBOT_V1)
    (repo / "guidelines" / "passwd.yaml").symlink_to("/etc/passwd")
    (repo / "next.json").symlink_to("/etc/passwd")
    outside = tmp_path / "outside"
    write(outside, {"secret.yaml": b"secret\n"})
    (repo / "add-ons").symlink_to(outside)  # a symlinked governed directory
    write(repo, {"guidelines/real.yaml": b"real\n"})
    commit(repo, "symlinks")

    expected = GOVBOT_V1 | {"guidelines/real.yaml": b"real\n"}
    assert read_git(repo, "HEAD") == expected
    assert read_directory(repo) == expected


def test_submodule_is_skipped(repo: Path, tmp_path: Path) -> None:
    write(repo, GOVBOT_V1)
    commit(repo, "one")
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},policies/sub.yaml")
    git(repo, "commit", "-q", "-m", "gitlink")
    assert "160000" in git(repo, "ls-tree", "-r", "HEAD")
    assert read_git(repo, "HEAD") == GOVBOT_V1


def test_constant_number_of_git_processes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading 50 files spawns as many git processes as reading 1 (no per-file process)."""
    calls: list[tuple[str, ...]] = []
    real_git = snapshots._git

    def counting(repo: Path, *args: str, stdin: bytes | None = None):
        calls.append(args)
        return real_git(repo, *args, stdin=stdin)

    monkeypatch.setattr(snapshots, "_git", counting)
    write(repo, {"guidelines/one.yaml": b"1\n"})
    commit(repo, "one")
    assert len(read_git(repo, "HEAD")) == 1
    one = len(calls)

    write(repo, {f"guidelines/g{i:02}.yaml": f"id: {i}\n".encode() for i in range(50)})
    commit(repo, "many")
    calls.clear()
    assert len(read_git(repo, "HEAD")) == 51
    assert len(calls) == one <= 3
    assert [args[0] for args in calls] == ["rev-parse", "ls-tree", "cat-file"]


def test_empty_snapshot(repo: Path) -> None:
    write(repo, {"README.md": b"x\n"})
    commit(repo, "nothing governed")
    assert read_git(repo, "HEAD") == {}


# --- errors ---------------------------------------------------------------------


def test_unknown_revision(repo: Path) -> None:
    write(repo, GOVBOT_V1)
    commit(repo, "one")
    with pytest.raises(SnapshotError, match=r"unknown revision 'no-such-branch'"):
        read_git(repo, "no-such-branch")
    blob = git(repo, "rev-parse", "HEAD:guidelines/next.yaml").strip()
    with pytest.raises(SnapshotError, match="unknown revision"):
        read_git(repo, blob)  # exists, but is not a commit


@pytest.mark.parametrize("rev", ["--output=/tmp/pwned", "-h", "", "HEAD\0x"])
def test_option_like_revision_rejected(repo: Path, rev: str) -> None:
    calls: list[object] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshots, "_git", lambda *a, **k: calls.append(a))
        with pytest.raises(SnapshotError, match="invalid revision"):
            read_git(repo, rev)
    assert calls == []  # rejected before git ever sees it


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, GOVBOT_V1)
    with pytest.raises(SnapshotError, match="not a readable git repository"):
        read_git(plain, "HEAD")
    with pytest.raises(SnapshotError, match="not a directory"):
        read_git(tmp_path / "missing", "HEAD")


def test_git_missing(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SnapshotError, match="git is not installed"):
        read_git(repo, "HEAD")


def test_read_directory_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not a directory"):
        read_directory(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(SnapshotError, match="not a directory"):
        read_directory(tmp_path / "file")


# --- read_snapshot ----------------------------------------------------------------


def test_read_snapshot_directory_or_git(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, GOVBOT_V1)
    commit(repo, "one")
    tree = tmp_path / "tree"
    write(tree, {"policies/validation.yaml": b"from the directory\n"})
    from_dir = {"policies/validation.yaml": b"from the directory\n"}

    assert read_snapshot(repo, "HEAD") == GOVBOT_V1
    assert read_snapshot(repo, str(tree)) == from_dir
    monkeypatch.chdir(tmp_path)
    assert read_snapshot(repo, "tree") == from_dir  # relative to cwd
    (tmp_path / "main").mkdir()
    assert read_snapshot(repo, "main") == {}  # the directory wins over the branch
    assert read_snapshot(repo, "main~0") == GOVBOT_V1
    with pytest.raises(SnapshotError, match="not a directory either"):
        read_snapshot(repo, "nope")
