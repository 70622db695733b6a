"""Judging a range of a repo's history, commit by commit, in one process (``govbot replay``).

Each commit is checked against its first parent (a merge, against the branch
it was merged into: what it brought in), as of its committer date, so the
process era of the time applies. Git is read through two processes for the
whole range: ``git rev-list`` for the commits, and one long-lived
``git cat-file --batch`` for every commit, tree and blob object, each object
read once and each file parsed once (by content) however many commits hold it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from govbot.core.check import Memo, check
from govbot.core.findings import Finding
from govbot.core.layout import GOVERNED_DIRS, is_governed
from govbot.core.replay import Verdict
from govbot.repo import bundled
from govbot.repo.snapshots import SnapshotError

_FILE_MODES = (b"100644", b"100755")


class MemoryCache:
    """Findings by content for the length of a replay (nothing written to disk)."""

    def __init__(self) -> None:
        self._data: dict[str, list[Finding]] = {}

    def get(self, key: str) -> list[Finding] | None:
        return self._data.get(key)

    def put(self, key: str, findings: list[Finding]) -> None:
        self._data[key] = findings


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    when: datetime
    subject: str


class ObjectReader:
    """One ``git cat-file --batch`` for every object a replay reads, each read once."""

    def __init__(self, repo: Path) -> None:
        try:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as e:
            raise SnapshotError(f"cannot run git in {repo}: {e.strerror}") from e
        self._trees: dict[str, list[tuple[bytes, str, str]]] = {}
        self._blobs: dict[str, bytes] = {}
        self.reads = 0
        self.bytes_read = 0

    def read(self, sha: str) -> tuple[str, bytes]:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            raise SnapshotError(
                f"cannot read object {sha}: {b' '.join(header).decode(errors='replace')}"
            )
        size = int(header[2])
        body = _read_exactly(stdout, size)
        stdout.read(1)  # the newline after the content
        self.reads += 1
        self.bytes_read += size
        return header[1].decode(), body

    def tree(self, sha: str) -> list[tuple[bytes, str, str]]:
        """(mode, name, object id) of each entry; trees are parsed once."""
        if sha not in self._trees:
            _, body = self.read(sha)
            entries, pos = [], 0
            while pos < len(body):
                space = body.index(b" ", pos)
                nul = body.index(b"\0", space)
                mode, name = (
                    body[pos:space],
                    body[space + 1 : nul].decode("utf-8", "surrogateescape"),
                )
                entries.append((mode, name, body[nul + 1 : nul + 21].hex()))
                pos = nul + 21
            self._trees[sha] = entries
        return self._trees[sha]

    def blob(self, sha: str) -> bytes:
        if sha not in self._blobs:
            self._blobs[sha] = self.read(sha)[1]
        return self._blobs[sha]

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise SnapshotError("git cat-file ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def list_commits(repo: Path, start: str | None, end: str) -> list[Commit]:
    """Commits reachable from ``end`` and not from ``start``, parents before children."""
    for rev in (start, end):
        if rev is not None and (not rev or rev.startswith("-")):
            raise SnapshotError(f"invalid revision {rev!r}")
    spec = [f"{start}..{end}"] if start else [end]
    proc = subprocess.run(
        [
            "git",
            "rev-list",
            "--reverse",
            "--topo-order",
            "--parents",
            "--format=%ct %s",
            *spec,
            "--",
        ],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SnapshotError(
            f"cannot list commits of {repo}: {proc.stderr.decode(errors='replace').strip()}"
        )
    commits = []
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    for header, detail in zip(lines[::2], lines[1::2], strict=False):
        shas = header.removeprefix("commit ").split()
        stamp, _, subject = detail.partition(" ")
        commits.append(
            Commit(shas[0], tuple(shas[1:]), datetime.fromtimestamp(int(stamp), UTC), subject)
        )
    return commits


def governed_blobs(reader: ObjectReader, commit: str) -> dict[str, str]:
    """path -> blob id of a commit's governed files, read through the governed directories' trees."""
    _, body = reader.read(commit)
    root = body[5:45].decode() if body.startswith(b"tree ") else ""
    blobs: dict[str, str] = {}
    trees = {"": root}
    for directory in sorted(GOVERNED_DIRS, key=len):
        sha = trees.get(directory)
        if sha is None:
            continue
        for mode, name, obj in reader.tree(sha):
            rel = f"{directory}/{name}" if directory else name
            if mode == b"40000" and rel in GOVERNED_DIRS:
                trees[rel] = obj
            elif mode in _FILE_MODES and is_governed(rel):
                blobs[rel] = obj
    return blobs


def snapshot(reader: ObjectReader, commit: str) -> dict[str, bytes]:
    """The governed files of a commit: a snapshot as the core takes it."""
    return {path: reader.blob(obj) for path, obj in governed_blobs(reader, commit).items()}


def replay(repo: Path, start: str | None = None, end: str = "HEAD") -> Iterator[Verdict]:
    """Check every commit of the range against its first parent, as of its date."""
    commits = list_commits(repo, start, end)
    schemas, cache, memo = bundled.schema_set(), MemoryCache(), Memo()
    reader = ObjectReader(repo)
    snapshots: dict[str, dict[str, bytes]] = {}

    def files(sha: str) -> dict[str, bytes]:
        if sha not in snapshots:
            snapshots[sha] = snapshot(reader, sha)
        return snapshots[sha]

    try:
        for c in commits:
            base = files(c.parents[0]) if c.parents else {}
            result = check(
                base, files(c.sha), schemas, cache, when=c.when, memo=memo, locate_inherited=False
            )
            yield Verdict.of(c.sha, c.parents, c.when, c.subject, result)
    finally:
        reader.close()
