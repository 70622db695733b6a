"""One tally at a time per review, across threads, processes and machines.

A tally reads the whole stored ballot set, posts the result and stores it;
two of them interleaved could post a result computed from fewer ballots after
one computed from more. Holding a per-review lock around the three steps
makes the result posted last the tally of everything stored before it. The
lock is not a database write lock: the receiver keeps storing deliveries
(on SQLite too) while a tally waits on the forge.

* PostgreSQL: a session advisory lock on a hash of the review key, held on a
  connection of its own; it dies with the session, so a killed worker never
  leaves a review locked.
* SQLite (one machine): ``flock`` on a file per review beside the database;
  the kernel releases it when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


@contextmanager
def review_lock(engine: Engine, review_key: str) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = {"k": review_key}
            conn.execute(text("SELECT pg_advisory_lock(hashtextextended(:k, 0))"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), key)
                conn.commit()
        return
    path = _lock_file(engine, review_key)
    if path is None:  # an in-memory database lives in one process: a thread lock will do
        with _GUARD:
            lock = _MEMORY_LOCKS.setdefault(review_key, threading.Lock())
        with lock:
            yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _lock_file(engine: Engine, review_key: str) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    name = hashlib.sha256(review_key.encode("utf-8")).hexdigest()[:32]
    return Path(database).with_name(Path(database).name + ".locks") / name
