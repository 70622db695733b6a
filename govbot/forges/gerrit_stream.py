"""Gerrit's events over SSH: ``gerrit stream-events`` through gerritlib, kept connected.

The alternative to Gerrit's webhooks plugin (``govbot gerrit-listen``); it is
the only part of the Gerrit adapter that needs SSH and paramiko.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)


class GerritStreamListener:
    """Raw ``gerrit stream-events`` dicts over SSH, reconnecting for as long as it runs.

    gerritlib's watcher thread reconnects with a fixed delay while it can and
    dies when it gives up (or, in older gerritlib, when the stream drops);
    ``getEvent`` then blocks forever. So this reads the watcher's queue with a
    timeout, notices a dead thread, and starts a new gerritlib client after an
    exponential backoff. Events sent while disconnected are lost: stream-events
    has no replay, so ``on_gap`` is called after every reconnect and for every
    ``dropped-output`` event (Gerrit's notice that it dropped events for a slow
    reader, cmd-stream-events.txt), and reconciliation reads Gerrit back.
    """

    def __init__(
        self,
        hostname: str,
        username: str,
        port: int = 29418,
        keyfile: str | None = None,
        *,
        factory: Callable[[], Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 1.0,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
        connection_attempts: int = 3,
    ) -> None:
        self.hostname = hostname
        self.factory = factory or functools.partial(
            _gerritlib_client, hostname, username, port, keyfile
        )
        self.sleep, self.poll = sleep, poll
        self.backoff, self.max_backoff = backoff, max_backoff
        self.connection_attempts = connection_attempts

    def events(
        self,
        stop: threading.Event | None = None,
        on_gap: Callable[[str], object] | None = None,
    ) -> Iterator[dict[str, Any]]:
        stop = stop or threading.Event()
        delay = self.backoff
        connections = 0
        while not stop.is_set():
            client = self.factory()
            client.startWatching(
                connection_attempts=self.connection_attempts, retry_delay=self.backoff
            )
            connections += 1
            if connections > 1 and on_gap is not None:
                on_gap("reconnected")  # what was sent while disconnected is lost
            delivered = False
            for event in self._drain(client, stop):
                delivered = True
                if event.get("type") == "dropped-output":
                    log.warning("gerrit stream-events from %s dropped events", self.hostname)
                    if on_gap is not None:
                        on_gap("dropped-output")
                    continue
                yield event
            if stop.is_set():
                return
            delay = self.backoff if delivered else delay
            log.warning(
                "gerrit stream-events from %s ended; reconnecting in %.0fs", self.hostname, delay
            )
            self.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    def _drain(self, client: Any, stop: threading.Event) -> Iterator[dict[str, Any]]:
        """The client's events until its watcher thread is dead and its queue empty."""
        while not stop.is_set():
            try:
                event = client.event_queue.get(timeout=self.poll)
            except queue.Empty:
                thread = client.watcher_thread
                if thread is None or not thread.is_alive():
                    return
                continue
            if isinstance(event, dict):
                yield event


def _gerritlib_client(hostname: str, username: str, port: int, keyfile: str | None) -> Any:
    from gerritlib.gerrit import Gerrit  # paramiko is only loaded by the listener

    # Keepalives make a silently dead TCP connection fail instead of hanging forever.
    return Gerrit(hostname, username, port=port, keyfile=keyfile, keep_alive_interval=30)
