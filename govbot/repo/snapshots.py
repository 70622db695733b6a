"""Reading a governance repo *snapshot* (its governed files at one state) for the core.

``govbot check --base REV --head REV`` and ``govbot diff`` compare two states
of a repo, each given as a directory or a Git revision. The core only sees a
plain ``dict[str, bytes]`` (repo-relative POSIX path -> bytes), so this module
is the whole I/O boundary. Nothing here parses the files: broken YAML or JSON
is returned as-is so the validator can report it with a location.

Only governed paths are ever read (real repos carry many other files), and
symlinks and submodules are skipped, never followed, so a proposed change
cannot make govbot read anything outside the repo. What was skipped is kept
on the :class:`Snapshot` (``skipped``), so that every command can say so:
``validate`` and ``check`` as findings (:func:`not_read`), the others as an
error or a note.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from govbot.core.findings import Finding, Severity
from govbot.core.layout import GOVERNED_DIRS, PRODUCTS_DIR, is_governed
from govbot.repo.files import NOT_FOLLOWED, RepoError, link_in, read_regular, real_dir

# Regular files only: 120000 (symlink) and 160000 (submodule) are skipped.
_FILE_MODES = (b"100644", b"100755")
_SKIPPED_MODES = {b"120000": "a symbolic link", b"160000": "a submodule"}


class SnapshotError(RepoError):
    """The revision or directory cannot be read; the message is for the user (exit 2)."""


class Snapshot(dict[str, bytes]):
    """The governed files of one state of a repo (path -> bytes), and what was not read.

    ``skipped`` maps each governed path (or governed directory) that is there
    but was not read to what it is: "a symbolic link", "a submodule", "not a
    regular file". It is a dict, so the core takes it as it takes any files.
    """

    def __init__(
        self, files: Mapping[str, bytes] | None = None, skipped: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(files or {})
        self.skipped: dict[str, str] = dict(skipped or {})

    def refusal(self, where: object) -> str | None:
        """One message naming what was not read (None if everything was), for commands that
        must not go on with a partial repo."""
        if not self.skipped:
            return None
        listed = "; ".join(f"{path} is {what}" for path, what in sorted(self.skipped.items()))
        return f"{where}: {listed}: {NOT_FOLLOWED}; replace it with the file itself"


def skipped_of(files: Mapping[str, bytes]) -> dict[str, str]:
    """What a snapshot did not read (nothing, for a plain dict of files)."""
    return files.skipped if isinstance(files, Snapshot) else {}


def not_read(
    files: Mapping[str, bytes],
    severity: Severity = Severity.ERROR,
    inherited: Mapping[str, bytes] | None = None,
) -> list[Finding]:
    """A finding for each governed path a snapshot skipped; one already skipped in
    ``inherited`` (the base of a change) is a warning, like any inherited defect."""
    before = skipped_of(inherited or {})
    return [
        Finding(
            path,
            "repo.not-read",
            f"{what}: not read ({NOT_FOLLOWED}, and govbot judges only the files "
            "themselves); replace it with the file it stands for",
            Severity.WARNING if before.get(path) == what else severity,
        )
        for path, what in sorted(skipped_of(files).items())
    ]


def _read(root: Path, rel: str) -> bytes:
    try:
        return read_regular(root, rel)
    except RepoError as e:
        raise SnapshotError(str(e)) from e


def read_directory(root: Path) -> Snapshot:
    """The governed files of a working tree; symlinked files and directories are skipped
    (and listed in ``skipped``)."""
    if not root.is_dir():
        raise SnapshotError(f"{root}: not a directory")
    files = Snapshot()
    for rel_dir in GOVERNED_DIRS:
        directory = root.joinpath(*rel_dir.split("/")) if rel_dir else root
        if rel_dir and not real_dir(root, rel_dir):
            if (link := link_in(root, rel_dir)) is not None:
                files.skipped[link] = "a symbolic link"
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            raise SnapshotError(f"{rel_dir or '.'}: {e.strerror}") from e
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not is_governed(rel):
                continue
            if entry.is_file(follow_symlinks=False):
                files[rel] = _read(root, rel)
            elif entry.is_symlink():
                files.skipped[rel] = "a symbolic link"
            elif not entry.is_dir(follow_symlinks=False):
                files.skipped[rel] = "not a regular file"
    if real_dir(root, PRODUCTS_DIR):
        _read_products(root, files)
    elif (link := link_in(root, PRODUCTS_DIR)) is not None:
        files.skipped[link] = "a symbolic link"
    return files


def _read_products(root: Path, files: Snapshot) -> None:
    """Product files and their results under products/, at any depth, no link followed."""
    for directory, dirs, names in os.walk(root / PRODUCTS_DIR, followlinks=False):
        rel_dir = Path(directory).relative_to(root).as_posix()
        for d in [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            files.skipped[f"{rel_dir}/{d}"] = "a symbolic link"
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(directory, d)))
        for name in sorted(names):
            rel, path = f"{rel_dir}/{name}", os.path.join(directory, name)
            if not is_governed(rel):
                continue
            if os.path.islink(path):
                files.skipped[rel] = "a symbolic link"
            elif os.path.isfile(path):
                files[rel] = _read(root, rel)
            else:
                files.skipped[rel] = "not a regular file"


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run one git command in repo. The single place git is spawned (tests count calls)."""
    try:
        return subprocess.run(
            ["git", *args], cwd=repo, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError as e:
        raise SnapshotError("git is not installed or not on PATH") from e
    except OSError as e:
        raise SnapshotError(f"cannot run git in {repo}: {e.strerror}") from e


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stderr.decode("utf-8", "replace").strip()


def resolve_commit(repo: Path, rev: str) -> str:
    """The commit id a revision names, pinned (a later move of a branch changes nothing)."""
    if not rev or rev.startswith("-") or "\0" in rev:
        raise SnapshotError(
            f"invalid revision {rev!r}: must be a non-empty name not starting with '-'"
        )
    if not repo.is_dir():
        raise SnapshotError(f"{repo}: not a directory")
    proc = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if proc.returncode == 128:
        # git's fatal exit: no repository, dubious ownership, corruption...
        raise SnapshotError(f"{repo}: not a readable git repository ({_stderr(proc)})")
    if proc.returncode != 0:
        # --quiet silences "no such name"; a name of a non-commit object still explains itself.
        why = _stderr(proc).removeprefix("error: ") or "no such commit, branch or tag"
        raise SnapshotError(f"unknown revision {rev!r} in {repo} ({why})")
    return proc.stdout.decode("ascii").strip()


def current_branch(repo: Path) -> str | None:
    """The branch checked out in ``repo``, None when detached or not a repository."""
    proc = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    return proc.stdout.decode("utf-8", "replace").strip() or None if proc.returncode == 0 else None


def read_git(repo: Path, rev: str) -> Snapshot:
    """The governed files at a Git revision, using a constant three git processes.

    ``rev-parse`` pins the revision to a commit id (so later commands cannot
    misread it), ``ls-tree`` lists the whole tree once, and one
    ``cat-file --batch`` reads every wanted blob, however many there are.
    """
    commit = resolve_commit(repo, rev)
    proc = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--")
    if proc.returncode != 0:
        raise SnapshotError(f"cannot list {rev!r} in {repo}: {_stderr(proc)}")
    wanted: dict[str, str] = {}  # path -> blob id
    skipped: dict[str, str] = {}
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, obj = meta.split(b" ")
        # surrogateescape: the same str a directory listing of that name would give.
        path = raw_path.decode("utf-8", "surrogateescape")
        if kind == b"blob" and mode in _FILE_MODES and is_governed(path):
            wanted[path] = obj.decode("ascii")
        elif mode in _SKIPPED_MODES and (is_governed(path) or path in GOVERNED_DIRS):
            skipped[path] = _SKIPPED_MODES[mode]
    if not wanted:
        return Snapshot(skipped=skipped)

    blobs = _cat_blobs(repo, sorted(set(wanted.values())))
    return Snapshot({path: blobs[obj] for path, obj in sorted(wanted.items())}, skipped)


def _cat_blobs(repo: Path, ids: list[str]) -> dict[str, bytes]:
    """Read blobs with one ``git cat-file --batch``: "<id> blob <size>\\n<bytes>\\n" each."""
    proc = _git(repo, "cat-file", "--batch", stdin="".join(f"{i}\n" for i in ids).encode())
    if proc.returncode != 0:
        raise SnapshotError(f"cannot read objects in {repo}: {_stderr(proc)}")
    out, pos, blobs = proc.stdout, 0, {}
    for _ in ids:
        eol = out.find(b"\n", pos)
        header = out[pos:eol].split(b" ") if eol >= 0 else [b""]
        if len(header) != 3 or header[1] != b"blob":
            got = header[0].decode("ascii", "replace")
            raise SnapshotError(f"cannot read object {got} in {repo}: missing or not a blob")
        size = int(header[2])
        if eol + 1 + size >= len(out):
            raise SnapshotError(f"cannot read objects in {repo}: truncated git output")
        blobs[header[0].decode("ascii")] = out[eol + 1 : eol + 1 + size]
        pos = eol + 1 + size + 1  # skip the content and its trailing newline
    return blobs


def read_snapshot(repo: Path, rev: str) -> Snapshot:
    """``rev`` as a directory (absolute or relative to cwd) if one exists, else a revision of repo.

    The directory wins so a checked-out tree can always be named explicitly,
    even if a branch of the same name exists.
    """
    if rev and Path(rev).is_dir():
        return read_directory(Path(rev))
    try:
        return read_git(repo, rev)
    except SnapshotError as e:
        raise SnapshotError(f"{e} (and {rev!r} is not a directory either)") from e


def commit_time(repo: Path, rev: str) -> datetime | None:
    """When ``rev`` was committed (committer date), or None if it is not a commit of ``repo``.

    A change is judged by the process in force when it was made; a directory
    snapshot has no such date.
    """
    if not rev or rev.startswith("-") or Path(rev).is_dir() or not repo.is_dir():
        return None
    proc = _git(repo, "log", "-1", "--format=%ct", f"{rev}^{{commit}}", "--")
    try:
        return (
            datetime.fromtimestamp(int(proc.stdout.strip()), UTC) if proc.returncode == 0 else None
        )
    except ValueError:
        return None


def read_tag(repo: Path, tag: str) -> tuple[str, str] | None:
    """The commit a local tag names and its annotation message ("" if lightweight), or None."""
    ref = f"refs/tags/{tag}"
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        return None
    message = _git(repo, "for-each-ref", "--format=%(contents)", ref)
    return commit.stdout.decode().strip(), message.stdout.decode("utf-8", "replace")


def first_parent_log(repo: Path, rev: str, under: str) -> list[tuple[str, list[str]]]:
    """(committer date ISO 8601, changed paths) of each first-parent commit touching ``under``.

    Newest first. On a governed branch each first-parent commit is a merge
    (or a direct push), so its date is when a change was accepted there.
    Empty when ``repo`` is not a Git repository or ``rev`` names no commit.
    """
    if not rev or rev.startswith("-"):
        raise SnapshotError(
            f"invalid revision {rev!r}: must be a non-empty name not starting with '-'"
        )
    proc = _git(
        repo,
        "log",
        "--first-parent",
        "-m",
        "--no-renames",
        "-z",
        "--format=%x01%cI",
        "--name-only",
        rev,
        "--",
        under,
    )
    if proc.returncode != 0:
        return []
    out: list[tuple[str, list[str]]] = []
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        head, _, names = record.partition("\n")
        out.append(
            (head.strip("\0\n"), [n.strip("\n") for n in names.split("\0") if n.strip("\n")])
        )
    return out
