"""govbot replay on the whole public history of openstack/interop (600 commits).

The bundle is ../shared/interop-history/openstack-interop.bundle (SOURCE.md
beside it). The commits it must block and pass are found here from the
history itself, not listed by hand: a commit that made a guideline stop
parsing, which a later commit had to make parse again, must be blocked at
that file's line; a commit in which the Board's approval of a guideline is
recorded (its status moves to approved) must pass.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from govbot.cli import main
from govbot.core.replay import Verdict
from govbot.repo.history import ObjectReader, list_commits, replay, snapshot
from tests.conftest import SHARED

BUNDLE = SHARED / "interop-history" / "openstack-interop.bundle"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUNDLE.is_file():
        pytest.skip(f"the interop history bundle is not at {BUNDLE}")
    repo = tmp_path_factory.mktemp("interop") / "repo"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(repo)], check=True)
    return repo


@pytest.fixture(scope="module")
def verdicts(history: Path) -> dict[str, Verdict]:
    return {v.commit: v for v in replay(history)}


@pytest.fixture(scope="module")
def trees(history: Path) -> dict[str, dict[str, bytes]]:
    reader = ObjectReader(history)
    try:
        return {c.sha: snapshot(reader, c.sha) for c in list_commits(history, None, "HEAD")}
    finally:
        reader.close()


def _parses(raw: bytes | None) -> bool:
    try:
        return raw is not None and isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def _status(raw: bytes | None) -> str | None:
    if not _parses(raw):
        return None
    doc = json.loads(raw or b"{}")
    meta = doc.get("metadata")
    approval = meta.get("os_trademark_approval") if isinstance(meta, dict) else doc
    return approval.get("status") if isinstance(approval, dict) else None


def test_the_whole_history_is_judged_and_broken_files_are_blocked_at_their_line(
    history: Path, verdicts: dict[str, Verdict], trees: dict[str, dict[str, bytes]]
) -> None:
    commits = list_commits(history, None, "HEAD")
    assert len(verdicts) == len(commits) == 600  # no crash, one verdict each
    breaks: list[tuple[str, str]] = []
    fixed: set[str] = set()
    for c in commits:
        base = trees[c.parents[0]] if c.parents else {}
        for path, raw in trees[c.sha].items():
            if not path.endswith(".json") or raw == base.get(path):
                continue
            if not _parses(raw) and (path not in base or _parses(base[path])):
                breaks.append((c.sha, path))
            if _parses(raw) and path in base and not _parses(base[path]):
                fixed.add(path)
    # a break counts when a later commit made the file parse again
    had_to_fix = [(sha, path) for sha, path in breaks if path in fixed]
    assert {sha[:7] for sha, _ in had_to_fix} >= {"471c96f", "ccb7c1e", "c1e8b33"}
    for sha, path in had_to_fix:
        v = verdicts[sha]
        at = [f for f in v.error_findings if f.file == path and f.rule == "json.syntax"]
        assert v.blocked and at and at[0].line > 1, (sha[:7], path, v.blocking)
    blocked = [v for v in verdicts.values() if v.blocked]
    by_rule = Counter(rule for v in blocked for rule in v.blocking)
    print(f"\nreplay: {len(blocked)} of {len(verdicts)} commits blocked; by rule: {dict(by_rule)}")
    print(f"syntax errors a later commit fixed: {len(had_to_fix)}, all blocked at file:line")


def test_every_board_approval_passes(
    history: Path, verdicts: dict[str, Verdict], trees: dict[str, dict[str, bytes]]
) -> None:
    approvals = []
    for c in list_commits(history, None, "HEAD"):
        base = trees[c.parents[0]] if c.parents else {}
        for path, raw in trees[c.sha].items():
            before, after = _status(base.get(path)), _status(raw)
            if after == "approved" and before not in (None, "approved"):
                approvals.append(c.sha)
                break
    assert len(approvals) >= 10  # the Board approvals and their merges, 2015.04 to 2020.06
    assert [verdicts[sha].commit[:7] for sha in approvals if verdicts[sha].blocked] == []


def test_replay_cli_reports_each_commit_and_the_summary(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rev = "5f7a8cf"  # "Approve 2020.06, supersede 2018.02", and what its last parents brought
    assert (
        main(
            ["replay", "--repo", str(history), "--from", f"{rev}~3", "--to", rev, "--format", "csv"]
        )
        == 0
    )
    rows = capsys.readouterr().out.splitlines()
    commits = subprocess.run(
        ["git", "rev-list", "--count", f"{rev}~3..{rev}"],
        cwd=history,
        capture_output=True,
        text=True,
    ).stdout
    assert rows[0].startswith("commit,date,era,verdict") and len(rows) == 1 + int(commits)
    assert rows[-1].startswith("5f7a8cf") and ",passed," in rows[-1]
    assert (
        main(
            [
                "replay",
                "--repo",
                str(history),
                "--from",
                f"{rev}~1",
                "--to",
                rev,
                "--format",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["commits"] == 1 and report["verdicts"][0]["era"] == "2017A"
    assert main(["replay", "--repo", str(history), "--from", "c1e8b33~1", "--to", "c1e8b33"]) == 0
    text = capsys.readouterr().out
    assert "c1e8b33" in text and "blocked json.syntax next.json:2838" in text
    assert "1 commit(s): 1 blocked, 0 passed" in text


def test_replay_refuses_an_unknown_revision(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--repo", str(history), "--to", "no-such-rev"]) == 2
    assert "no-such-rev" in capsys.readouterr().err


def test_the_replay_benchmark_reports_its_figures(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Figures only, never timings asserted: they depend on the machine and its load."""
    from bench.replay import main as bench

    assert bench(["--repo", str(history), "--from", "c1e8b33~2", "--to", "c1e8b33"]) == 0
    out = capsys.readouterr().out
    for figure in (
        "machine:",
        "baseline: git cat-file + parse of",
        "govbot replay:",
        "ratio replay / baseline:",
    ):
        assert figure in out
    # b66a7bf (the draft renamed with its old id) and c1e8b33 (next.json broken)
    assert "verdicts: 2 blocked, 0 passed" in out and "json.syntax: 1" in out
