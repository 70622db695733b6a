"""``/flag-request`` and ``/flag-ack``: vendors' requests to flag a test, and their answer.

2017A C3: a vendor raises a concern with a test (C3.1), the Interop Working
Group may flag it (C3.2) and acknowledges the request within 30 days (C3.3).
A request names a test of a guideline in use on the governed branch and says
why; it is recorded once per review (or issue) and test, whatever the
redeliveries, with its deadline from ``certification.yaml``. The people whose
role may ``acknowledge-flags`` (in ``committee.yaml`` or among the
``certification.yaml`` reviewers) are told at once, reminded by the clock
(``service/deadlines.py``), and answer ``/flag-ack TEST [note]`` on the same
review or issue. A command edited by someone else than its author is refused,
as votes are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from govbot.core.events import CommentCommand
from govbot.core.flag_requests import (
    ACKNOWLEDGED,
    OPEN,
    PERMISSION,
    FlagCommandError,
    FlagRequest,
    ack_text,
    guidelines_holding,
    parse_ack,
    parse_request,
    request_text,
)
from govbot.core.policies import Policies, PolicyUnusable
from govbot.core.policy import Committee
from govbot.forges.base import ForgeError
from govbot.service.context import Context
from govbot.service.governed import governed_branch
from govbot.service.registry import handles
from govbot.service.voting import account_of, plain, same_person
from govbot.store import flags
from govbot.store.effects import Effects

COMMAND_MARKER = "<!-- govbot:flag-command -->"


def marker(test: str) -> str:
    """One comment per request, edited as it is answered."""
    return f"<!-- govbot:flag-request:{hashlib.sha256(test.encode()).hexdigest()[:12]} -->"


def acknowledgers(policies: Policies, forge: str, at: datetime) -> list[str]:
    """Logins of the current members who may acknowledge flag requests, on ``forge``."""
    rosters: tuple[Committee, ...] = (policies.committee, policies.certification.reviewers)
    return sorted(
        {
            login
            for roster in rosters
            for m in roster.members
            if m.standing(at) == "member" and roster.may(m, PERMISSION)
            for login in [m.account(forge)]
            if login
        }
    )


@handles(CommentCommand, command="flag-request")
def on_flag_request(
    event: CommentCommand, ctx: Context, conn: Connection, effects: Effects
) -> None:
    _command(event, ctx, effects, lambda at: _record(event, ctx, conn, effects, at))


@handles(CommentCommand, command="flag-ack")
def on_flag_ack(event: CommentCommand, ctx: Context, conn: Connection, effects: Effects) -> None:
    _command(event, ctx, effects, lambda at: _acknowledge(event, ctx, conn, effects, at))


def _command(
    event: CommentCommand, ctx: Context, effects: Effects, act: Callable[[datetime], None]
) -> None:
    """Audit the command, refuse it when edited by someone else than its author, run it,
    and answer any reason it cannot be done on the review (a passing forge error is retried)."""
    effects.audit.append((type(event).__name__, event.review.key, plain(event)))
    if event.by is not None and not same_person(event.by, event.author):
        _refuse(ctx, event, f"it was edited by @{event.by.login}, not its author", effects)
        return
    try:
        act(ctx.when(event.at))
    except (FlagCommandError, PolicyUnusable) as e:
        _refuse(ctx, event, str(e), effects)
    except ForgeError as e:
        if not e.permanent:
            raise
        _refuse(ctx, event, str(e), effects)


def _record(
    event: CommentCommand, ctx: Context, conn: Connection, effects: Effects, at: datetime
) -> None:
    ref = event.review
    test, reason = parse_request(event.args)
    governed = governed_branch(ctx, ref.repo, event.governed_branch)
    files = ctx.forge.read_files(ref.repo, governed)
    found = guidelines_holding(files, test, at.date())
    if not found:
        raise FlagCommandError(
            f"`{test}` is not a test of a guideline in use on `{governed}` (the latest "
            "approved of each program, or a draft): give its name or its `id-…`"
        )
    policies = Policies.from_files(files)  # a grievance is recorded even under broken rules
    existing = flags.get(conn, f"{ref.key}|{test}")
    request = existing or FlagRequest(
        ref.key,
        test,
        reason,
        event.author.login,
        at,
        policies.certification.flag_ack_due(at),
        governed,
        tuple(found),
    )
    if existing is None:
        effects.flag_requests.append(request)
        detail = {"test": test, "guidelines": found, "due": request.due_at.isoformat()}
        effects.audit.append(("flag-requested", ref.key, {**detail, "by": event.author.login}))
    text = request_text(request) if request.state == OPEN else ack_text(request)
    ctx.forge.upsert_comment(
        ref,
        marker(test),
        text,
        notify=tuple(acknowledgers(policies, ref.forge, at)) if request.state == OPEN else (),
    )


def _acknowledge(
    event: CommentCommand, ctx: Context, conn: Connection, effects: Effects, at: datetime
) -> None:
    ref = event.review
    test, note = parse_ack(event.args)
    request = flags.get(conn, f"{ref.key}|{test}")
    if request is None:
        raise FlagCommandError(f"there is no flag request for `{test}` here")
    if request.state == ACKNOWLEDGED:
        ctx.forge.upsert_comment(ref, marker(test), ack_text(request))
        return
    policies = Policies.load(ctx.forge.read_files(ref.repo, request.governed_branch), ctx.schemas)
    account = account_of(ctx, ref.forge, event.author)
    if not _may_acknowledge(policies, ref.forge, account, at, event.author.login):
        raise FlagCommandError(
            f"@{event.author.login} may not acknowledge flag requests: by the policies of "
            f"`{request.governed_branch}`, only a current member whose role may "
            f"`{PERMISSION}` may"
        )
    login = event.author.login
    effects.flag_acks.append((request.key, at, login, note))
    answered = replace(
        request, state=ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=login, note=note
    )
    ctx.forge.upsert_comment(ref, marker(test), ack_text(answered))
    late = at > request.due_at
    effects.audit.append(
        ("flag-acknowledged", ref.key, {"test": test, "by": login, "note": note, "late": late})
    )


def _may_acknowledge(
    policies: Policies, forge: str, account: str, at: datetime, login: str
) -> bool:
    for roster in (policies.committee, policies.certification.reviewers):
        member = roster.member_for(forge, account, at, login)
        if member is not None and roster.may(member, PERMISSION):
            return True
    return False


def _refuse(ctx: Context, event: CommentCommand, why: str, effects: Effects) -> None:
    ctx.forge.upsert_comment(event.review, COMMAND_MARKER, f"`/{event.command}` not done: {why}.")
    effects.audit.append(
        ("flag-command-refused", event.review.key, {"by": event.author.login, "why": why})
    )
