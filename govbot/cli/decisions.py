"""``govbot decisions``: the decision record in the database, read out and checked.

``govbot decisions [REVIEW]`` lists recorded vote results (all, or one
review's) with their ballots, policy commit and tally; ``--format json``
gives the entries as stored, hashes included. ``govbot decisions verify``
checks every repository's chain from its first entry (exit 1, one line per
problem). A release's own copy is checked by ``govbot release verify``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from govbot.cli.common import EXIT_FINDINGS, EXIT_OK, CliError

VERIFY = "verify"


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "decisions",
        help="the decision record: vote results with their ballots, hash-chained "
        "(`decisions verify` checks it)",
    )
    p.add_argument(
        "review",
        nargs="?",
        metavar="REVIEW|verify",
        help="a review key (e.g. github:owner/repo#12), or `verify` to check every chain",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_decisions)


def cmd_decisions(args: argparse.Namespace) -> int:
    from govbot.cli.bot import engine
    from govbot.store import decisions

    with engine(existing=True).connect() as conn:
        if args.review == VERIFY:
            return _verify(decisions.verify(conn), decisions.chains(conn), args.format)
        chains = [args.review.partition("#")[0]] if args.review else decisions.chains(conn)
        found = [
            (chain, e)
            for chain in chains
            for e in decisions.entries(conn, chain=chain, review_key=args.review)
        ]
    if args.review and not found:
        raise CliError(f"no decision on {args.review} is recorded")
    if args.format == "json":
        doc = {"entries": [{"chain": chain, **e.to_json()} for chain, e in found]}
        print(json.dumps(doc, indent=2, sort_keys=True))
        return EXIT_OK
    for chain, e in found:
        print(_describe(chain, e.seq, e.hash, e.record))
    if not found:
        print("no decisions recorded yet", file=sys.stderr)
    return EXIT_OK


def _verify(problems: list[str], chains: list[str], fmt: str) -> int:
    if fmt == "json":
        print(json.dumps({"chains": chains, "problems": problems}, indent=2))
    else:
        for p in problems:
            print(p)
    if not problems:
        print(f"ok: {len(chains)} chain(s) verify from their first entry", file=sys.stderr)
    return EXIT_FINDINGS if problems else EXIT_OK


def _describe(chain: str, seq: int, hash_: str, r: Any) -> str:
    """One entry: the result on one line, then one line per ballot."""
    from govbot.core.decisions import DecisionError, check_record

    try:
        check_record(r)
    except DecisionError as e:
        return f"{chain} {seq}: unreadable ({e}); hash {hash_[:12]}"
    counts = ", ".join(f"{k} {v}" for k, v in sorted(r["tally"].items()))
    head = (r["head_sha"] or "-")[:12]
    policy = (r["policy_commit"] or "-")[:12]
    lines = [
        f"{chain} {seq} {r['decided_at']} {r['review_key']} @ {head}: {r['vote_class']} "
        f"{r['state']} ({counts}); policy {policy}; hash {hash_[:12]}"
    ]
    for b in r["ballots"]:
        value = "" if b["value"] is None else f" {b['value']:+d}"
        actor = f"{b['login']} ({b['actor_id'] or 'no id'})"
        on = (b["revision"] or "any revision")[:12]
        lines.append(f"    {b['kind']}{value} by {actor} on {on} at {b['at']} via {b['source']}")
    return "\n".join(lines)
