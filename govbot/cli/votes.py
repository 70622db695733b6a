"""``govbot tally``: a review's vote table from the database, or a what-if from a file."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError, add_format, instant

BALLOT_KINDS = ("vote", "withdraw", "hold", "unhold")


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
    p.add_argument(
        "--opened",
        type=instant,
        help="when the review opened (ISO 8601, or yesterday…; default now)",
    )
    p.add_argument(
        "--now", type=instant, help="evaluate at this time (ISO 8601, or tomorrow…; default now)"
    )
    p.add_argument("--head", help="the current head revision (stale votes)")
    add_format(p, "markdown")
    p.set_defaults(func=cmd_tally)


def _ballot_time(where: str, value: object) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp as one
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return instant(str(value))
    except argparse.ArgumentTypeError as e:
        raise CliError(f"{where}: at: {e}") from None


def read_ballots(path: str) -> list[dict[str, Any]]:
    """The ballots of a votes file, each checked: a located message for the first bad one."""
    from govbot.core.yamlio import parse_bytes

    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise CliError(f"{path}: {e.strerror or e}") from e
    parsed = parse_bytes(path, raw)
    if parsed.findings:
        f = parsed.findings[0]
        raise CliError(f"{path}:{f.line}:{f.column}: {f.message}")
    if not isinstance(parsed.data, list):
        raise CliError(f"{path}: expected a list of ballots, e.g. - {{account: alice, value: 1}}")
    for i, b in enumerate(parsed.data):
        problem = _problem(b)
        if problem:
            line = parsed.locate([(i,)])[0][0]
            raise CliError(f"{path}:{line}: ballot {i + 1}: {problem}")
    return parsed.data


def _problem(b: object) -> str | None:
    if not isinstance(b, dict):
        return "expected a mapping with account and value"
    if "account" not in b:
        return "no account"
    kind = b.get("kind", "vote")
    if kind not in BALLOT_KINDS:
        return f"kind {kind!r} is not one of {', '.join(BALLOT_KINDS)}"
    value = b.get("value")
    if kind == "vote" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"a vote's value is a whole number (+1, 0, -1), not {value!r}"
    return None


def cmd_tally(args: argparse.Namespace) -> int:
    if args.votes is None:
        return _stored(args)
    from govbot.core.policies import Policies
    from govbot.core.tally_view import tally_data
    from govbot.core.votes import Ballot, render_markdown, tally
    from govbot.repo.snapshots import read_snapshot

    data = read_ballots(args.votes)
    now = args.now or datetime.now(UTC)
    base = read_snapshot(Path(args.repo), args.base)
    if refusal := base.refusal(args.base):  # a policy file left out would change the rules
        raise CliError(refusal)
    policies = Policies.from_files(base)
    names = [c.name for c in policies.voting.classes]
    if args.vote_class is not None and args.vote_class not in names:
        raise CliError(
            f"--class {args.vote_class!r} is not a vote class of {args.base}'s policies/voting.yaml; "
            f"choose from {', '.join(names) or '(none: the built-in default applies)'}"
        )

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
            _ballot_time(f"{args.votes}: ballot {i + 1}", b.get("at")),
            b.get("head_sha"),
            b.get("source", "file"),
            str(b["account"]),
        )
        for i, b in enumerate(data)
    ]
    vote_class = (
        next((c for c in policies.voting.classes if c.name == args.vote_class), None)
        or policies.voting.default
    )
    outcome = tally(
        ballots, policies.committee, vote_class.rule, now, args.opened or now, args.head
    )
    if args.format == "json":
        print(json.dumps({"class": vote_class.name, "tally": tally_data(outcome)}))
    else:
        print(f"Vote class **{vote_class.name}**.\n")
        print(render_markdown(outcome, policies.committee))
    return EXIT_OK if outcome.state == "passed" else EXIT_FINDINGS


def _stored(args: argparse.Namespace) -> int:
    if not args.review:
        raise CliError("tally: give a REVIEW key, or --votes FILE --base REV")
    from govbot.cli.bot import engine
    from govbot.store import votes

    with engine(existing=True).connect() as conn:
        result = votes.get(conn, args.review)
    if result is None:
        raise CliError(f"tally: no vote on {args.review} yet (`govbot reviews` lists them)")
    if args.format == "json":
        print(
            json.dumps(
                {
                    "review": result.review_key,
                    "class": result.vote_class,
                    "state": result.state,
                    "head": result.head_sha,
                    "earliest_decision": result.earliest_decision,
                    "summary": result.summary,
                },
                default=str,
            )
        )
    else:
        print(result.summary)
    return EXIT_OK
