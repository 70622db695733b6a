"""``govbot timeline``: where the process cycle stands, what is due, what is allowed now.

``--at`` exists because a calendar is only testable, and only explainable to a
committee ("could we still change the criteria last Tuesday?"), when the
instant it is judged at can be chosen. Exit codes: 0 shown, 2 usage error or a
missing or invalid policy file (located as file:line:column).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from govbot.cli.common import EXIT_OK, CliError, repo_arg
from govbot.core.findings import Finding
from govbot.core.layout import TIMELINE as TIMELINE_FILE
from govbot.core.timeline import Due, Milestone, Timeline, TimelineError, format_local
from govbot.core.validate import ValidationPolicy, validate_parsed
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled
from govbot.repo.files import MissingFile, RepoError, read_regular

TIMELINE_SCHEMA = "timeline.schema.json"


class PolicyError(CliError):
    """The timeline policy cannot be used; the message says where and why."""


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "timeline", help="where the process cycle stands: milestones, deadlines, what is allowed"
    )
    p.add_argument("--repo", help="governance repo (default: . if it has policies/, else bundled)")
    p.add_argument(
        "--at",
        type=instant,
        help="judge at this instant instead of now: ISO 8601 with an offset (2027-03-01T12:00Z)",
    )
    p.add_argument("--horizon", type=int, default=30, help="days ahead to list (default: 30)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_timeline)


def instant(value: str) -> datetime:
    """An aware datetime from the command line; a bare date or local time is refused."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 datetime: {value!r}") from None
    if dt.tzinfo is None:
        example = value if "T" in value or " " in value else f"{value}T00:00"
        raise argparse.ArgumentTypeError(
            f"{value!r} has no timezone; add one, e.g. {example}Z or {example}+02:00"
        )
    return dt


def _located(findings: Sequence[Finding]) -> str:
    return "\n".join(f"{f.file}:{f.line}:{f.column}: {f.message}" for f in findings)


def load_timeline(repo: Path) -> tuple[Timeline, Path]:
    """The repo's timeline policy: parsed, checked against its schema, then made a calendar."""
    path = repo / TIMELINE_FILE
    try:
        raw = read_regular(repo, TIMELINE_FILE)  # never through a symlink
    except MissingFile as e:
        raise PolicyError(
            f"{path}: no timeline policy; copy {bundled.root() / TIMELINE_FILE} and adapt it"
        ) from e
    except RepoError as e:
        raise PolicyError(f"{repo}/{e}") from e
    parsed = parse_bytes(str(path), raw)
    findings = validate_parsed(parsed, TIMELINE_SCHEMA, bundled.schema_set(), ValidationPolicy())
    if findings:
        raise PolicyError(_located(findings))
    try:
        return Timeline.from_data(parsed.data), path
    except TimelineError as e:
        line, column = parsed.locate([e.path])[0]
        raise PolicyError(f"{path}:{line}:{column}: {e}") from e


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _point(t: Timeline, m: Milestone | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "cycle": m.cycle,
        "id": m.id,
        "name": m.name,
        "at": _iso(m.at),
        "local": format_local(m.at, t.tz),
        "note": m.note,
    }


def _due_text(d: Due) -> str:
    m = d.milestone
    if d.kind == "reminder":
        days = f"{d.days_before} day{'s' if d.days_before != 1 else ''}"
        return f"reminder: {m.label} in {days}"
    return f"{m.label} takes effect"


def report(t: Timeline, source: Path, now: datetime, horizon: int) -> dict[str, Any]:
    status, due = t.status(now), t.due(now, horizon)
    out: dict[str, Any] = {
        "policy": str(source),
        "timezone": t.timezone,
        "now": _iso(status.now),
        "cycle": {
            "guideline": status.cycle.guideline,
            "summit": status.cycle.summit.isoformat(),
            "phase": status.phase,
        },
        "last": _point(t, status.last),
        "next": _point(t, status.next),
        "allowed": status.allowed,
        "forbidden": status.forbidden,
        "horizon_days": horizon,
        "due": [
            {
                "kind": d.kind,
                "at": _iso(d.at),
                "local": format_local(d.at, t.tz),
                "milestone": _point(t, d.milestone),
                "days_before": d.days_before,
                "text": _due_text(d),
            }
            for d in due
        ],
    }
    if out["next"] is not None and status.left is not None:
        out["next"] |= {"days_left": status.days_left, "left": _left(status.left)}
    return out


def _left(left: timedelta) -> str:
    hours = left.seconds // 3600
    parts = [(n, unit) for n, unit in ((left.days, "day"), (hours, "hour")) if n]
    parts = parts or [(left.seconds // 60, "minute")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts)


_PHASES = {
    "before": "not started; it opens with {first}",
    "during": "in progress",
    "after": "complete; add the next cycle to " + TIMELINE_FILE,
}


def render_text(t: Timeline, data: dict[str, Any]) -> str:
    tz = t.tz
    cycle = next(c for c in t.cycles if c.guideline == data["cycle"]["guideline"])
    phase = _PHASES[data["cycle"]["phase"]].format(first=t.when(cycle.milestones[0]))
    lines = [
        f"timeline: {data['policy']} (times in {t.timezone}, and UTC)",
        f"now:      {format_local(datetime.fromisoformat(data['now']), tz)}",
        f"cycle:    {cycle.guideline} (summit {data['cycle']['summit']}): {phase}",
    ]
    if data["last"]:
        lines.append(
            f"last:     {data['last']['id']} {data['last']['name']}, {data['last']['local']}"
        )
    if data["next"]:
        nxt = data["next"]
        lines.append(f"next:     {nxt['id']} {nxt['name']}, {nxt['local']}, in {nxt['left']}")
    lines.append(f"due within {data['horizon_days']} days:" if data["due"] else "nothing due")
    lines.extend(f"  {d['local']}  {d['text']}" for d in data["due"])
    for title in ("allowed", "forbidden"):
        if data[title]:
            lines.append(f"{title} now:")
            lines.extend(f"  {why}" for why in data[title].values())
    return "\n".join(lines) + "\n"


def cmd_timeline(args: argparse.Namespace) -> int:
    t, source = load_timeline(repo_arg(args.repo))
    if args.horizon < 0:
        raise CliError("--horizon is a number of days, 0 or more")
    data = report(t, source, args.at or datetime.now(UTC), args.horizon)
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(t, data))
    return EXIT_OK
