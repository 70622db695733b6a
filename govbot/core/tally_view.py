"""A tally as data: what the dashboard, ``govbot reviews`` and ``govbot tally --format json`` show.

:func:`govbot.core.votes.render_markdown` is the tally as a forge comment;
this is the same tally as a JSON-ready mapping, so a page or a script reads
each row (binding or not, and why: stale, withdrawn, not a member), the
counts, what is still needed and every deadline without parsing Markdown.
Pure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from govbot.core.timeline import Milestone, Timeline
from govbot.core.votes import Tally


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tally_data(t: Tally) -> dict[str, Any]:
    rule = t.rule
    return {
        "state": t.state,
        "explanation": t.explanation,
        "counts": {"yes": t.counts.yes, "no": t.counts.no, "abstain": t.counts.abstain},
        "rows": [
            {
                "name": r.name,
                "account": r.account,
                "roles": list(r.roles),
                "vote": r.vote,
                "binding": r.binding,
                "why": r.why,
                "member": r.member,
                "stale": r.why.startswith("stale"),
                # a binding -1 from a role that may veto
                "veto": r.binding
                and r.vote.startswith("-")
                and bool(rule.veto.intersection(r.roles)),
            }
            for r in t.rows
        ],
        "needed": {
            "quorum": t.needed.quorum,
            "yes": t.needed.threshold,
            "approvals": [{"role": r, "more": n} for r, n in t.needed.approvals],
        },
        "missing": list(t.missing),
        "holds": list(t.holds),
        "blocked_by": list(t.blocked_by),
        "ignored": [
            {"account": i.account, "kind": i.kind, "at": iso(i.at), "why": i.why} for i in t.ignored
        ],
        "earliest_decision": iso(t.earliest_decision),
        "decision_from": iso(t.decision_from),
        "closes_at": iso(t.closes_at),
        "rule": {
            "quorum": rule.quorum,
            "threshold": rule.describe_threshold(),
            "approvals": [{"role": r, "count": n} for r, n in rule.approvals],
            "veto": sorted(rule.veto),
            "min_days_open": rule.min_days_open,
            "closes_after_days": rule.closes_after_days,
            "business_days": rule.business_days,
            "stale_on_change": rule.stale_on_change,
        },
    }


def blockers(t: Tally) -> list[str]:
    """What stands between this vote and a decision, in words, most blocking first."""
    out = []
    if t.holds:
        out.append(f"on hold by {', '.join(t.holds)}")
    if t.blocked_by:
        out.append(f"vetoed by {', '.join(t.blocked_by)}")
    if t.earliest_decision is not None:
        out.append(f"minimum review time runs until {iso(t.earliest_decision)}")
    n = t.needed
    if n.quorum:
        out.append(f"{n.quorum} more binding vote(s) for the quorum of {t.rule.quorum}")
    if n.threshold:
        out.append(f"{n.threshold} more binding +1 ({t.rule.describe_threshold()})")
    elif n.threshold is None:
        out.append(f"new +1 votes alone cannot reach {t.rule.describe_threshold()}")
    out += [f"{more} more +1 from a {role}" for role, more in n.approvals]
    return out


def timeline_data(t: Timeline, now: datetime) -> dict[str, Any]:
    """Where the program's cycle stands: the phase, the last and next milestones, what is
    allowed now (the dashboard's header)."""
    s = t.status(now)

    def point(m: Milestone | None) -> dict[str, Any] | None:
        return None if m is None else {"id": m.id, "name": m.name, "at": iso(m.at)}

    return {
        "guideline": s.cycle.guideline,
        "phase": s.phase,
        "last": point(s.last),
        "next": point(s.next),
        "days_left": s.days_left,
        "allowed": sorted(s.allowed),
        "forbidden": sorted(s.forbidden),
    }
