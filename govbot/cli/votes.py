"""``govbot tally``: a review's vote table from the database, or a what-if from a file."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "tally", help="a review's vote table (from the database), or a what-if from a votes file"
    )
    p.add_argument("review", nargs="?", help="a review key, e.g. github:owner/repo#12")
    p.add_argument(
        "--votes", help="YAML/JSON list of ballots {account, forge, kind, value, at, head_sha}"
    )
    p.add_argument(
        "--base", default="HEAD", help="the revision (or directory) whose policies apply"
    )
    p.add_argument("--repo", default=".")
    p.add_argument(
        "--class", dest="vote_class", help="the vote class (default: the policy's default)"
    )
    p.add_argument("--opened", help="when the review opened (ISO 8601; default now)")
    p.add_argument("--now", help="evaluate at this time (ISO 8601; default now)")
    p.add_argument("--head", help="the current head revision (stale votes)")
    p.set_defaults(func=cmd_tally)


def cmd_tally(args: argparse.Namespace) -> int:
    if args.votes is None:
        return _stored(args)
    from govbot.core.policies import Policies
    from govbot.core.votes import Ballot, render_markdown, tally
    from govbot.core.yamlio import parse_bytes
    from govbot.repo.snapshots import read_snapshot

    parsed = parse_bytes(args.votes, Path(args.votes).read_bytes())
    if parsed.findings or not isinstance(parsed.data, list):
        raise CliError(f"tally: {args.votes}: expected a list of ballots")

    def when(text: str | None) -> datetime:
        return datetime.fromisoformat(text).astimezone(UTC) if text else datetime.now(UTC)

    base = read_snapshot(Path(args.repo), args.base)
    if refusal := base.refusal(args.base):  # a policy file left out would change the rules
        raise CliError(refusal)
    policies = Policies.from_files(base)

    def account(forge: str, who: object) -> str:
        """A what-if may name members by login: it is the author's own scenario, so the
        login is taken as that member's account id (a real vote never is)."""
        text = str(who)
        for m in policies.committee.members:
            if m.account(forge) == text and m.account_id(forge):
                return str(m.account_id(forge))
        return text

    ballots = [
        Ballot(
            b.get("forge", "github"),
            account(b.get("forge", "github"), b["account"]),
            b.get("kind", "vote"),
            b.get("value"),
            when(b.get("at")),
            b.get("head_sha"),
            b.get("source", "file"),
            str(b["account"]),
        )
        for b in parsed.data
    ]
    vote_class = (
        next((c for c in policies.voting.classes if c.name == args.vote_class), None)
        or policies.voting.default
    )
    outcome = tally(
        ballots, policies.committee, vote_class.rule, when(args.now), when(args.opened), args.head
    )
    print(f"Vote class **{vote_class.name}**.\n")
    print(render_markdown(outcome, policies.committee))
    return EXIT_OK if outcome.state == "passed" else EXIT_FINDINGS


def _stored(args: argparse.Namespace) -> int:
    if not args.review:
        raise CliError("tally: give a REVIEW key, or --votes FILE --base REV")
    from govbot.cli.bot import engine
    from govbot.store import votes

    with engine().connect() as conn:
        result = votes.get(conn, args.review)
    if result is None:
        raise CliError(f"tally: no vote on {args.review} yet")
    print(result.summary)
    return EXIT_OK
