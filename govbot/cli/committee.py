"""``govbot committee ids``: fill in the members' immutable account ids from the forges.

Each login of ``policies/committee.yaml`` is asked of its forge, through the
same adapters the bot uses: GitHub ``GET /users/{username}`` (its ``id``),
Gerrit ``GET /accounts/{username}`` (its ``_account_id``, only when the answer's
username is the one asked). Missing ids are written into the file in place
(comments and order kept); an id on record that the forge contradicts is
reported and left alone unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError, add_format

COMMITTEE = "policies/committee.yaml"
SETUP = {
    "github": "GOVBOT_GITHUB_TOKEN (or the GitHub App variables) and GOVBOT_GITHUB_API_URL",
    "gerrit": "GOVBOT_GERRIT_URL, GOVBOT_GERRIT_USER and GOVBOT_GERRIT_HTTP_PASSWORD",
}
SAID = {
    "added": "id added",
    "same": "id already on record",
    "mismatch": "MISMATCH: the forge gives another id; left as it is (use --force to replace)",
    "replaced": "MISMATCH: replaced (--force)",
    "not-found": "NOT FOUND on the forge",
}


def add_commands(sub: Any) -> None:
    p = sub.add_parser("committee", help="the committee roster: fill in the members' account ids")
    actions = p.add_subparsers(dest="committee_action", required=True, metavar="ACTION")
    q = actions.add_parser(
        "ids",
        help="fill in github_id/gerrit_id of policies/committee.yaml from the forges' logins",
        description="Asks each forge for the immutable account id of every member's login "
        "(GitHub: GET /users/{login}; Gerrit: GET /accounts/{username}) and writes the ids "
        "missing from the roster into it, keeping its comments and order. An id on record "
        "that the forge contradicts is reported (exit 1) and replaced only with --force.",
    )
    q.add_argument("--repo", default=".", help="the governance repository (default: .)")
    q.add_argument("--file", help=f"the roster to edit (default: REPO/{COMMITTEE})")
    q.add_argument(
        "--forge",
        choices=["github", "gerrit", "all"],
        default="all",
        help="which forge's ids to fill in (default: every forge the roster names logins for)",
    )
    q.add_argument(
        "--dry-run",
        "--print",
        dest="dry_run",
        action="store_true",
        help="print the edited roster instead of writing it",
    )
    q.add_argument(
        "--force", action="store_true", help="replace an id on record that the forge contradicts"
    )
    add_format(q)
    q.set_defaults(func=cmd_ids)


def _lookups(forges: list[str]) -> Callable[[str, str], str | None]:
    """forge, login -> the account id the forge gives; each forge from its environment."""
    from govbot.forges.gerrit import GerritForge
    from govbot.forges.github import GitHubForge

    adapters: dict[str, Any] = {}
    for forge in forges:
        made = (GitHubForge if forge == "github" else GerritForge).from_env(os.environ)
        if made is None:
            raise CliError(f"{forge} is not configured: set {SETUP[forge]} (or pass --forge)")
        adapters[forge] = made

    def lookup(forge: str, login: str) -> str | None:
        return adapters[forge].account_id(login)

    return lookup


def cmd_ids(args: argparse.Namespace) -> int:
    from govbot.core import committee_ids
    from govbot.repo.files import read_regular

    if args.file:
        path = Path(args.file)
        root, rel = path.parent, path.name
    else:
        root, rel = Path(args.repo), COMMITTEE
        path = root / rel
    try:
        text = read_regular(root, rel).decode("utf-8")  # never through a symlink
        members = committee_ids.members_of(text)
    except (committee_ids.RosterError, UnicodeDecodeError, ValueError) as err:
        raise CliError(f"{path}: {err}") from err
    named = [f for f in committee_ids.FORGES if any(m.get(f) for m in members)]
    forges = named if args.forge == "all" else [args.forge]
    entries = committee_ids.plan(text, _lookups(forges), forges, force=args.force)
    try:
        edited = committee_ids.apply(text, entries)
    except committee_ids.RosterError as err:
        raise CliError(f"{path}: {err}") from err
    written = edited != text and not args.dry_run
    if written:
        path.write_text(edited, encoding="utf-8")
    problems = [e for e in entries if e.status in ("mismatch", "not-found")]
    report = sys.stderr if args.dry_run and args.format == "text" else sys.stdout
    if args.format == "json":
        items = [
            {"member": e.name, "forge": e.forge, "login": e.login, "recorded": e.recorded,
             "found": e.found, "status": e.status}
            for e in entries
        ]  # fmt: skip
        doc: dict[str, Any] = {"file": str(path), "written": written, "members": items}
        if args.dry_run:
            doc["yaml"] = edited
        print(json.dumps(doc))
    else:
        for e in entries:
            ids = f"{e.found or '?'}" + (
                f" (on record: {e.recorded})" if e.recorded not in (None, e.found) else ""
            )
            print(f"{e.name}: {e.forge} {e.login}: {ids}: {SAID[e.status]}", file=report)
        if args.dry_run:
            sys.stdout.write(edited)
        else:
            print(f"{path}: {'updated' if written else 'unchanged'}", file=report)
    return EXIT_FINDINGS if problems else EXIT_OK
