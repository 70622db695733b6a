"""Reading a governance repo *snapshot* (its governed files at one state) for the core.

``govbot check --base REV --head REV`` and ``govbot diff`` compare two states
of a repo, each given as a directory or a Git revision. The core only sees a
plain ``dict[str, bytes]`` (repo-relative POSIX path -> bytes), so this module
is the whole I/O boundary. Nothing here parses the files: broken YAML or JSON
is returned as-is so the validator can report it with a location.

Only governed paths are ever read (real repos carry many other files), and
symlinks and submodules are skipped, never followed, so a proposed change
cannot make govbot read anything outside the repo.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from govbot.core import products

# Both layouts: govbot's own YAML, and openstack/interop's top-level JSON
# (govbot must also check the history of the real interop repo).
GOVERNED: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?:guidelines|guidelines/add-ons|policies)/[^/]+\.yaml"),
    re.compile(r"(?:\d{4}\.\d{2}|next)\.json"),
    re.compile(r"add-ons/[a-z][a-z0-9_-]*\.(?:\d{4}\.\d{2}|next)\.json"),
    products.PRODUCT_FILE,  # products/<vendor>/<product>.yaml
    products.RESULTS_FILE,  # and the results beside them, at any depth under the vendor
)

# The only directories a governed path can live in ("" is the top level),
# besides the products tree (PRODUCTS_DIR), which is read recursively.
GOVERNED_DIRS = ("", "add-ons", "guidelines", "guidelines/add-ons", "policies")

PRODUCTS_DIR = "products"

# Regular files only: 120000 (symlink) and 160000 (submodule) are skipped.
_FILE_MODES = (b"100644", b"100755")


class SnapshotError(Exception):
    """The revision or directory cannot be read; the message is for the user (exit 2)."""


def is_governed(path: str) -> bool:
    """Whether a repo-relative POSIX path is one govbot validates (full match, exact depth)."""
    return any(p.fullmatch(path) for p in GOVERNED)


def read_directory(root: Path) -> dict[str, bytes]:
    """The governed files of a working tree; symlinked files and directories are skipped."""
    if not root.is_dir():
        raise SnapshotError(f"{root}: not a directory")
    files: dict[str, bytes] = {}
    for rel_dir in GOVERNED_DIRS:
        directory = root.joinpath(*rel_dir.split("/")) if rel_dir else root
        if rel_dir and not _real_dir(root, rel_dir):
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            raise SnapshotError(f"{rel_dir or '.'}: {e.strerror}") from e
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if is_governed(rel) and entry.is_file(follow_symlinks=False):
                files[rel] = _read_no_follow(entry.path, rel)
    if _real_dir(root, PRODUCTS_DIR):
        files.update(_read_products(root))
    return files


def _read_products(root: Path) -> dict[str, bytes]:
    """Product files and their results under products/, never following a symlink."""
    files: dict[str, bytes] = {}
    for directory, dirs, names in os.walk(root / PRODUCTS_DIR, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(directory, d)))
        rel_dir = Path(directory).relative_to(root).as_posix()
        for name in sorted(names):
            rel, path = f"{rel_dir}/{name}", os.path.join(directory, name)
            if is_governed(rel) and not os.path.islink(path) and os.path.isfile(path):
                files[rel] = _read_no_follow(path, rel)
    return files


def _real_dir(root: Path, rel_dir: str) -> bool:
    """True if every component of rel_dir under root is a directory and not a symlink."""
    path = root
    for part in rel_dir.split("/"):
        path = path / part
        try:
            if not stat.S_ISDIR(path.lstat().st_mode):
                return False
        except OSError:
            return False
    return True


def _read_no_follow(path: str, rel: str) -> bytes:
    """Read a file, refusing a symlink swapped in after the directory was listed."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            return f.read()
    except OSError as e:
        raise SnapshotError(f"{rel}: {e.strerror}") from e


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


def read_git(repo: Path, rev: str) -> dict[str, bytes]:
    """The governed files at a Git revision, using a constant three git processes.

    ``rev-parse`` pins the revision to a commit id (so later commands cannot
    misread it), ``ls-tree`` lists the whole tree once, and one
    ``cat-file --batch`` reads every wanted blob, however many there are.
    """
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
    commit = proc.stdout.decode("ascii").strip()

    proc = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--")
    if proc.returncode != 0:
        raise SnapshotError(f"cannot list {rev!r} in {repo}: {_stderr(proc)}")
    wanted: dict[str, str] = {}  # path -> blob id
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, obj = meta.split(b" ")
        # surrogateescape: the same str a directory listing of that name would give.
        path = raw_path.decode("utf-8", "surrogateescape")
        if kind == b"blob" and mode in _FILE_MODES and is_governed(path):
            wanted[path] = obj.decode("ascii")
    if not wanted:
        return {}

    blobs = _cat_blobs(repo, sorted(set(wanted.values())))
    return {path: blobs[obj] for path, obj in sorted(wanted.items())}


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


def read_snapshot(repo: Path, rev: str) -> dict[str, bytes]:
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
