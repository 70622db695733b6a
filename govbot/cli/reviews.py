"""``govbot reviews``: the committee dashboard in a terminal (``/reviews`` in a browser)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from govbot.cli.common import EXIT_OK, add_format, instant


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "reviews",
        help="open reviews: vote class, tally, deadlines, what blocks them, the check's verdict",
    )
    p.add_argument("--at", type=instant, help="judge at this time (default: now)")
    add_format(p)
    p.set_defaults(func=cmd_reviews)


def load_board(at: Any = None) -> dict[str, Any]:
    from govbot.cli.bot import engine
    from govbot.forges.registry import forge_factory
    from govbot.repo import bundled
    from govbot.service.dashboard import board

    return board(
        engine(existing=True),
        forge_factory(),
        bundled.schema_set(),
        local_policies=lambda: policy_files(bundled.local_repo()),
        now=at,
    )


def policy_files(root: Any) -> dict[str, bytes]:
    """The served repo's policies (the timeline the clock keeps), never through a symlink."""
    from govbot.core.layout import POLICY_SCHEMAS
    from govbot.repo.files import read_regular

    out = {}
    for rel in POLICY_SCHEMAS:
        try:
            out[rel] = read_regular(root, rel)
        except Exception:  # absent, or a symlink: the timeline is then unknown
            continue
    return out


def cmd_reviews(args: argparse.Namespace) -> int:
    data = load_board(args.at)
    if args.format == "json":
        print(json.dumps(data))
        return EXIT_OK
    sys.stdout.write(render_text(data))
    return EXIT_OK


def render_text(data: dict[str, Any]) -> str:
    lines = []
    t = data.get("timeline")
    if t:
        nxt = t["next"]
        phase = {"before": "has not started", "during": "is in progress", "after": "is complete"}
        lines.append(
            f"timeline: the {t['guideline']} cycle {phase[t['phase']]}"
            + (f"; next {nxt['id']} {nxt['name']} on {nxt['at']}" if nxt else "")
        )
    reviews = data["reviews"]
    lines.append(f"{len(reviews)} open review(s) at {data['now']}")
    for r in reviews:
        lines.append("")
        lines.append(f"{r['key']}  {r['title']}")
        lines.append(f"  class {r['class'] or '-'}, vote {r['state']}: {r['explanation']}")
        if r["earliest_decision"]:
            lines.append(f"  earliest decision {r['earliest_decision']}")
        if r["closes_at"]:
            lines.append(f"  closes {r['closes_at']}")
        check = r["check"]
        if check:
            lines.append(
                f"  check {check['conclusion']}: {check['errors']} error(s), "
                f"{check['warnings']} warning(s)"
            )
        tally = r["tally"]
        if tally:
            c = tally["counts"]
            lines.append(f"  votes +1 {c['yes']}, -1 {c['no']}, 0 {c['abstain']}")
            for row in tally["rows"]:
                mark = "binding" if row["binding"] else "not binding"
                veto = ", VETO" if row["veto"] else ""
                lines.append(f"    {row['name']:<24} {row['vote']:>3}  {mark}{veto}: {row['why']}")
        for b in r["blockers"]:
            lines.append(f"  blocked: {b}")
    return "\n".join(lines) + "\n"
