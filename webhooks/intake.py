"""Reading request bodies with bounded memory and bounded time.

Anyone can POST to the receiver, and a body must be read before a GitHub
signature can be checked. So the receiver never holds more than it can
afford, whoever sends:

- a **budget** caps the bodies being read at once and the bytes they hold.
  A body declaring its length reserves it before a byte is read; one sent in
  chunks reserves as it arrives. Bodies over ``LARGE_BODY`` share what is left
  after a reserve kept for small ones, so a few huge bodies (forged or not)
  never crowd out the ordinary deliveries. Beyond the budget the answer is
  503 with ``Retry-After``: nothing was read, nothing is lost that the sender
  cannot send again.
- a sender must keep sending: ``read_timeout`` between two chunks and
  ``body_deadline`` for the whole body, else 408. A slow sender holds its
  share of the budget for that long at most.
- a body over ``max_body_bytes`` is refused with 413 when it says so up front,
  or as soon as it goes past the limit.

Everything here runs on the event loop's thread, so the budget needs no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

LARGE_BODY = 1024 * 1024  # bodies above this come out of the large bodies' share

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    max_bodies: int  # bodies being read at once
    max_buffered_bytes: int  # bytes all of them may hold
    read_timeout: float  # seconds between two chunks
    body_deadline: float  # seconds for a whole body
    retry_after: int = 5  # seconds, in a 503's Retry-After

    @property
    def small_reserve(self) -> int:
        """What large bodies may never take: room for the ordinary deliveries
        (an eighth, less if that would leave no room for one body at the limit)."""
        return max(
            0, min(self.max_buffered_bytes // 8, self.max_buffered_bytes - self.max_body_bytes)
        )


class Refused(Exception):
    """A body the receiver will not read (further): the HTTP status and why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ClientGone(Exception):
    """The sender disconnected before its body was read."""


class Budget:
    """The bodies being read and the bytes they hold."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bodies = 0
        self.bytes = 0
        self.large_bytes = 0

    def admit(self, declared: int | None) -> Ticket | None:
        """A ticket for one more body (holding ``declared`` bytes), or None: come back later."""
        if self.bodies >= self.limits.max_bodies:
            return None
        ticket = Ticket(self)
        if declared and not ticket.cover(declared):
            return None
        self.bodies += 1
        return ticket


class Ticket:
    """One body's share of the budget; ``release`` gives it back (once)."""

    __slots__ = ("budget", "held", "open")

    def __init__(self, budget: Budget) -> None:
        self.budget, self.held, self.open = budget, 0, True

    def cover(self, size: int) -> bool:
        """Hold ``size`` bytes in all (more than held so far), if the budget allows."""
        if size <= self.held:
            return True
        b, limits = self.budget, self.budget.limits
        extra = size - self.held
        if b.bytes + extra > limits.max_buffered_bytes:
            return False
        if size > LARGE_BODY:
            moving = extra if self.held > LARGE_BODY else size  # it joins the large share whole
            if b.large_bytes + moving > limits.max_buffered_bytes - limits.small_reserve:
                return False
            b.large_bytes += moving
        b.bytes += extra
        self.held = size
        return True

    def release(self) -> None:
        if not self.open:
            return
        self.open = False
        b = self.budget
        b.bodies -= 1
        b.bytes -= self.held
        if self.held > LARGE_BODY:
            b.large_bytes -= self.held


async def read_body(
    receive: Receive, ticket: Ticket, limits: Limits, on_chunk: Callable[[bytes], object]
) -> bytes | bytearray:
    """The whole body, each chunk passed to ``on_chunk`` as it comes (a running digest).

    Raises Refused (413 past the limit, 503 past the budget, 408 too slow) or
    ClientGone. A body that comes in one chunk, as small ones do, is returned
    as it came, without a copy.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.body_deadline
    first: bytes | None = None
    buffer: bytearray | None = None
    size = 0
    try:
        async with asyncio.timeout(limits.read_timeout) as timer:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientGone
                chunk: bytes = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > limits.max_body_bytes:
                        raise Refused(413, TOO_LARGE)
                    if not ticket.cover(size):
                        raise Refused(503, BUSY)
                    on_chunk(chunk)
                    if first is None:
                        first = chunk
                    else:
                        if buffer is None:
                            buffer = bytearray(first)
                        buffer += chunk
                if not message.get("more_body", False):
                    break
                timer.reschedule(min(loop.time() + limits.read_timeout, deadline))
    except TimeoutError:
        raise Refused(408, TOO_SLOW) from None
    if buffer is not None:
        return buffer
    return first or b""


TOO_LARGE = "the body is larger than the receiver accepts"
BUSY = "the receiver is busy reading other deliveries; deliver again later"
TOO_SLOW = "the body was not sent in time"
