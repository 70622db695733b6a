"""Which handler acts on which event: modules register, the worker dispatches.

Adding a behaviour means adding a module that registers its handlers with
:func:`handles`, as CPython's bots do with gidgethub's router, instead of
editing a dispatcher. Comment commands are routed by their word too
(``/release`` to releasing, every other command to voting).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from govbot.core.events import CommentCommand, Event
from govbot.service.context import Context
from govbot.store.effects import Effects

Handler = Callable[[Any, Context, Connection, Effects], None]
_HANDLERS: dict[tuple[type, str | None], list[Handler]] = {}


def handles(*types: type, command: str | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function for events of ``types`` (and one command word)."""

    def register(handler: Handler) -> Handler:
        for t in types:
            _HANDLERS.setdefault((t, command), []).append(handler)
        return handler

    return register


def handlers_for(event: Event) -> list[Handler]:
    if isinstance(event, CommentCommand):
        specific = _HANDLERS.get((CommentCommand, event.command))
        if specific:
            return specific
    return _HANDLERS.get((type(event), None), [])


def handle(event: Event, ctx: Context, conn: Connection) -> Effects:
    """Run every handler of ``event``; ``conn`` is for reads, the effects are written later."""
    effects = Effects()
    for handler in handlers_for(event):
        handler(event, ctx, conn, effects)
    return effects
