"""``govbot release``: approve a draft on a branch, write release notes, publish assets.

The decisions live in :mod:`govbot.core.release` (pure); this module only
reads and writes files and runs git. ``prepare`` commits on a new branch so the release goes through
the same review as any change (``govbot check`` judges it), and it refuses a
dirty tree so the commit holds the release and nothing else. git runs with
explicit argument lists, never through a shell. Exit codes: 0 done,
1 ``verify`` found mismatches, 2 usage error or a release that cannot be made.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError, add_format
from govbot.core import release
from govbot.core.rules import predecessors, split_key
from govbot.forges.base import Forge
from govbot.repo.files import NOT_FOLLOWED, link_in, read_regular
from govbot.repo.snapshots import Snapshot, read_directory

EXIT_MISMATCH = EXIT_FINDINGS
MANIFEST = release.MANIFEST


def add_commands(sub: Any) -> None:
    p = sub.add_parser("release", help="approve a draft guideline, its notes and published assets")
    actions = p.add_subparsers(dest="release_action", required=True, metavar="ACTION")

    pr = actions.add_parser("prepare", help="approve next as ID on a new branch, superseding OLD")
    pr.add_argument("id", help="the release id, YYYY.MM")
    pr.add_argument(
        "--supersede", nargs="+", action="extend", default=[], metavar="OLD", help="ids to retire"
    )
    pr.add_argument("--date", type=_date, help="approval date, YYYY-MM-DD (default: today)")
    pr.add_argument("--repo", default=".", help="governance repo (default: .)")
    pr.add_argument("--branch", help="branch to commit on (default: release/ID)")
    pr.add_argument("--no-branch", action="store_true", help="only write the files, never commit")
    pr.add_argument(
        "--force",
        action="store_true",
        help="prepare it even when govbot's check of the release finds errors",
    )
    add_format(pr)
    pr.set_defaults(func=cmd_prepare)

    n = actions.add_parser("notes", help="release notes: ID compared with its predecessor")
    n.add_argument("id")
    n.add_argument("--repo", default=".", help="governance repo (default: .)")
    add_format(n, "markdown", default="markdown")
    n.set_defaults(func=cmd_notes)

    a = actions.add_parser("assets", help="write the published files of ID and manifest.json")
    a.add_argument("id")
    a.add_argument("--repo", default=".", help="governance repo (default: .)")
    a.add_argument("-o", "--output", required=True, metavar="DIR")
    add_format(a)
    a.set_defaults(func=cmd_assets)

    v = actions.add_parser("verify", help="check published assets against manifest.json and repo")
    v.add_argument("id")
    v.add_argument("--assets", metavar="DIR", help="a downloaded copy (default: the forge's)")
    v.add_argument("--repo", default=".", help="governance repo for --assets (default: .)")
    _forge_arguments(v)
    add_format(v)
    v.set_defaults(func=cmd_verify)

    pu = actions.add_parser("publish", help="tag COMMIT as ID and publish its release and assets")
    pu.add_argument("id")
    pu.add_argument("--commit", required=True, help="the merged release commit (a full sha)")
    pu.add_argument(
        "--review",
        help="the release change (e.g. github:org/repo#7): publish its decision record "
        "(decisions.json) from the database",
    )
    _forge_arguments(pu)
    add_format(pu)
    pu.set_defaults(func=cmd_publish)


def _forge_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--forge",
        choices=("github", "gerrit", "dry-run"),
        default="dry-run",
        help="where the release lives; credentials come from the environment (default: dry-run, "
        "the local clone GOVBOT_REPO_PATH, changing nothing)",
    )
    p.add_argument("--project", help="org/repo on GitHub, the project on Gerrit")


def _date(value: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} ({e})") from None


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except OSError as e:
        raise CliError(f"cannot run git in {repo}: {e.strerror or e}") from e


def _git_ok(repo: Path, *args: str) -> str:
    proc = _git(repo, *args)
    if proc.returncode != 0:
        raise CliError(f"git {' '.join(args[:2])} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def _is_git(repo: Path) -> bool:
    proc = _git(repo, "rev-parse", "--is-inside-work-tree")
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def _start_branch(repo: Path, branch: str) -> None:
    """Refuse a dirty tree, a bad or existing branch name; nothing is changed when refusing."""
    if branch.startswith("-") or _git(repo, "check-ref-format", "--branch", branch).returncode:
        raise CliError(f"{branch!r} is not a valid branch name")
    dirty = _git_ok(repo, "status", "--porcelain", "--untracked-files=all")
    if dirty.strip():
        first = dirty.splitlines()[0].strip()
        raise CliError(f"{repo}: the working tree is dirty ({first} ...); commit or stash first")
    if _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0:
        raise CliError(f"branch {branch} exists already")


def _write_files(root: Path, files: Mapping[str, bytes | None]) -> None:
    """Each file replaced atomically: a symlink in its place is replaced, never followed,
    and a directory that is a symlink is refused (writing through it could leave ``root``)."""
    for rel, data in sorted(files.items()):
        target = root.joinpath(*rel.split("/"))
        link = link_in(root, rel.rpartition("/")[0])
        if link is not None:
            raise CliError(f"{root}: {link} is a symbolic link: {NOT_FOLLOWED}")
        if data is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _current_branch(repo: Path) -> str:
    proc = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    return proc.stdout.strip() if proc.returncode == 0 else _git_ok(repo, "rev-parse", "HEAD")[:12]


def _judge(before: Snapshot, prepared: release.Prepared, when: date) -> tuple[int, int, list[str]]:
    """govbot's check of the release as a change made on its approval day (what the bot
    will say on its pull request): (errors, warnings, the first error lines)."""
    from govbot.core.check import check
    from govbot.core.findings import Severity, sort_findings
    from govbot.repo import bundled
    from govbot.repo.cache import DiskCache

    after = release.apply(before, prepared.files)
    result = check(before, after, bundled.schema_set(), DiskCache(), when=when)
    findings = sort_findings(result.findings)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    lines = [f"  {f.file}:{f.line}: {f.rule}: {f.message}" for f in errors[:10]]
    return len(errors), len(warnings), lines


def cmd_prepare(args: argparse.Namespace) -> int:
    """Check the release first, then write it on a new branch (named, and switched to)."""
    repo = Path(args.repo)
    if not repo.is_dir():
        raise CliError(f"{repo}: not a directory")
    use_git = not args.no_branch and _is_git(repo)
    if args.branch and not use_git:
        raise CliError(f"--branch needs {repo} to be a git repository (and no --no-branch)")
    branch = args.branch or release.branch_name(args.id)
    if use_git:
        _start_branch(repo, branch)
    before = _whole(read_directory(repo), repo)
    approved_on = args.date or date.today()
    prepared = release.prepare(before, args.id, args.supersede, approved_on)
    errors, warnings, first = _judge(before, prepared, approved_on)
    verdict = f"govbot's check of the release: {errors} error(s), {warnings} warning(s)"
    if errors and not args.force:
        more = "" if errors <= len(first) else f"\n  ... and {errors - len(first)} more"
        raise CliError(
            f"{verdict}; nothing was changed. Fix them on the draft first, or use --force:\n"
            + "\n".join(first)
            + more
        )
    print(verdict + (" (prepared anyway: --force)" if errors else ""), file=sys.stderr)
    started_from = _current_branch(repo) if use_git else None
    if use_git:
        _git_ok(repo, "switch", "--create", branch)
    _write_files(repo, prepared.files)
    if args.format != "json":
        for path, what in prepared.changes:
            print(f"{path}: {what}")
    commit = None
    if use_git:
        _git_ok(repo, "add", "--all", "--", *sorted(prepared.files))
        message = release.commit_message(args.id, args.supersede, prepared.changes)
        _git_ok(repo, "commit", "--quiet", "--message", message)
        commit = _git_ok(repo, "rev-parse", "HEAD").strip()
        print(
            f"created branch {branch} from {started_from} and switched to it; committed "
            f"{commit[:12]}: {message.splitlines()[0]}\n"
            f"next: open a pull request from {branch}, or `git switch {started_from}` to go back",
            file=sys.stderr,
        )
    if args.format == "json":
        doc = {
            "release": args.id,
            "branch": branch if use_git else None,
            "from": started_from,
            "commit": commit,
            "check": {"errors": errors, "warnings": warnings},
            "changes": [{"path": p, "change": w} for p, w in prepared.changes],
        }
        print(json.dumps(doc))
    return EXIT_OK


def _load(repo: Path, guideline_id: str) -> tuple[release.Doc, str]:
    """The guideline and its release notes (against its predecessor) from a repo."""
    if split_key(guideline_id) is None:
        raise CliError(f"{guideline_id!r} is not a guideline id (YYYY.MM, next, dns.YYYY.MM)")
    docs = release.guidelines(_whole(read_directory(repo), repo))
    if guideline_id not in docs:
        raise CliError(f"no guideline {guideline_id!r} under {repo}")
    previous = predecessors({k: d.data for k, d in docs.items()}).get(guideline_id)
    before = docs[previous].data if previous else None
    notes = release.release_notes(before, docs[guideline_id].data, previous, guideline_id)
    return docs[guideline_id], notes


def _assets(repo: Path, guideline_id: str) -> dict[str, bytes]:
    doc, notes = _load(repo, guideline_id)
    source = doc.raw if doc.path.endswith(".yaml") else None
    return release.assets(doc.data, guideline_id, notes, source=source)


def cmd_notes(args: argparse.Namespace) -> int:
    notes = _load(Path(args.repo), args.id)[1]
    if args.format == "json":
        print(json.dumps({"release": args.id, "notes": notes}))
    else:
        sys.stdout.write(notes)
    return EXIT_OK


def _whole(files: Snapshot, repo: Path) -> Snapshot:
    """A release is made from every governed file or not at all: none may be a symlink."""
    refusal = files.refusal(repo)
    if refusal:
        raise CliError(refusal)
    return files


def _read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (a directory of assets); a symlink anywhere is refused."""
    if not root.is_dir():
        raise CliError(f"{root}: not a directory")
    found: dict[str, bytes] = {}
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        for entry in sorted(os.scandir(root.joinpath(*rel_dir.split("/"))), key=lambda e: e.name):
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                raise CliError(f"{root}: {rel} is a symbolic link: {NOT_FOLLOWED}")
            if entry.is_dir(follow_symlinks=False):
                pending.append(rel)
            else:
                found[rel] = read_regular(root, rel)
    return dict(sorted(found.items()))


def cmd_assets(args: argparse.Namespace) -> int:
    files = _assets(Path(args.repo), args.id)
    out = Path(args.output)
    stray = sorted(set(_read_tree(out) if out.exists() else {}) - set(files) - {MANIFEST})
    if stray:
        raise CliError(f"{out} holds other files ({', '.join(stray[:3])}); use an empty directory")
    _write_files(out, {**files, MANIFEST: release.manifest(files, args.id)})
    print(f"wrote {len(files)} asset(s) and {MANIFEST} to {out}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps({"release": args.id, "directory": str(out), "assets": sorted(files)}))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Published assets against their manifest and against the repo at the release.

    With ``--assets DIR``, a downloaded copy and the local repo; otherwise the
    release on the forge and the forge's repository at its tag. A decision
    record (``decisions.json``) is checked against the manifest and by its
    own hash chain (govbot.core.decisions.verify_export).
    """
    if args.assets:
        found = _read_tree(Path(args.assets))
        problems = release.audit(_assets(Path(args.repo), args.id), found, args.id)
        what = f"{len(found)} file(s) in {args.assets} match their manifest and {args.repo}"
    else:
        forge, dry_run = _forge(args)
        from govbot.service import releasing

        problems = releasing.audit(forge, _project(args, dry_run), args.id)
        what = f"release {args.id} on {forge.name} matches its manifest and the tagged commit"
    if args.format == "json":
        print(json.dumps({"release": args.id, "problems": problems}))
    else:
        for p in problems:
            print(p)
    if not problems:
        print(f"ok: {what}", file=sys.stderr)
    return EXIT_MISMATCH if problems else EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """What the bot does when a release change merges, for a merge it missed."""
    forge, dry_run = _forge(args)
    project = _project(args, dry_run)
    files = forge.read_files(project, args.commit)
    record = _record(args.review) if args.review else None
    if dry_run:
        assets, _ = release.publication(files, args.id, record)
        if args.format == "json":
            sizes = {name: len(data) for name, data in assets.items()}
            print(
                json.dumps(
                    {"dry_run": True, "tag": args.id, "commit": args.commit, "assets": sizes}
                )
            )
            return EXIT_OK
        print(f"dry run: would tag {args.commit} as {args.id} and publish, on no forge:")
        for name, data in assets.items():
            print(f"  {name} ({len(data)} bytes)")
        return EXIT_OK
    from govbot.forges.recording import RecordingForge
    from govbot.service import releasing

    # through the one gate every post takes (no @mention in the notes notifies anyone)
    ident = releasing.publish(
        RecordingForge(forge, dry_run), project, args.id, args.commit, files, record
    )
    if args.format == "json":
        print(json.dumps({"dry_run": False, "tag": args.id, "release": ident, "project": project}))
    else:
        print(f"published {args.id} on {forge.name} ({project} at {args.commit}): release {ident}")
    return EXIT_OK


def _record(review_key: str) -> bytes:
    """The review's decision record for its release, from the configured database."""
    from govbot.cli.bot import engine
    from govbot.service import releasing

    with engine().connect() as conn:
        record = releasing.record_of(conn, review_key)
    if record is None:
        raise CliError(f"no decision on {review_key} is recorded in the database")
    return record


def _forge(args: argparse.Namespace) -> tuple[Forge, bool]:
    """The forge from the environment (credentials never on the command line)."""
    from govbot.forges.registry import forge_factory

    forge, dry_run = forge_factory()(args.forge)
    if dry_run and args.forge != "dry-run":
        raise CliError(f"no {args.forge} credentials in the environment (see the README)")
    return forge, dry_run


def _project(args: argparse.Namespace, dry_run: bool) -> str:
    if args.project:
        return str(args.project)
    if dry_run:
        return "local"
    raise CliError("which repository? give --project (org/repo on GitHub, the Gerrit project)")
