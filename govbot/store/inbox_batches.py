"""The receiver's write path: each batch of deliveries in one autocommitted INSERT.

The receiver acknowledges a delivery only once its row is committed, and its
writer runs in a thread beside the event loop that reads the requests. Every
time that thread calls into the database driver it lets go of the
interpreter's lock, and every time it comes back it must wait for the event
loop to let go in turn: measured with the event loop busy, a batch of 16
rows written as BEGIN, an INSERT ... RETURNING stepped row by row, and
COMMIT took 20 ms, against 0.8 ms idle. So a batch here is a single
statement on a connection kept between batches, in autocommit: one call
into the driver, one wait for the lock. A single statement is atomic on
both databases, so the batch is stored whole or not at all, as before.

Which rows were new (a redelivery or a replay is skipped by ``ON CONFLICT
DO NOTHING``): PostgreSQL's ``RETURNING`` comes back with the statement.
SQLite's would be stepped row by row, so there the statement returns
nothing: when it inserted every row, all are new; when it skipped some, the
rows it inserted are the last ``rowcount`` rowids (SQLite numbers the rows
of one statement consecutively while it holds the write lock), read back
in one query.

SQLite copies its write-ahead log into the database (a checkpoint) once the
log passes 1,000 pages, inside the commit that passed it: about 2,000
system calls for 4 kB pages, 10 to 20 ms, 60% of the writer's time under
load. SQLite's documentation on WAL (sqlite.org/wal.html, "Checkpointing")
describes the remedy: run checkpoints in a separate thread, so the thread
doing the updates never blocks on them. After each batch a background
thread runs a PASSIVE checkpoint (which neither waits for nor blocks the
writer), one at a time. The writer's own automatic checkpoint stays, at
10,000 pages, so the log stays bounded even if the background falls behind;
as the background keeps up, that one copies only the last pages. Measured:
2,270 against 1,940 deliveries/s, p99 20 against 31 ms, a log of 15 to 22 MB
after a 6 s burst, and the same CPU per delivery (the copying is done, in
parallel rather than in the way).

Errors come back per delivery, as the receiver answers them: a database that
cannot be reached is SQLAlchemy's ``OperationalError`` (503, deliver again);
a kept connection that died while idle is replaced and the batch written
once more (rows a lost commit stored are then found, answered as
duplicates, never stored twice); any other error, once the batch is
written row by row, fails only its own delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from govbot.store.inbox import (
    BATCH_ROWS,
    Item,
    bound_time,
    insert_params,
    insert_sql,
    which_new,
)
from govbot.store.tables import deliveries as T

log = logging.getLogger("govbot.inbox")

UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
Outcome = bool | BaseException  # stored / already there, or why it could not be stored

# SQLite: the writer checkpoints itself only past this many log pages (the default is
# 1,000): below it, the copying happens in the background (see the module's docstring).
WRITER_CHECKPOINT_PAGES = 10_000
_OWN_CHECKPOINTS = "govbot_wal_autocheckpoint"  # the pool's setting, restored on return
_checkpoints: ThreadPoolExecutor | None = None  # one thread for every writer's checkpoints

_RANGE = f"SELECT source, delivery_id FROM {T.name} WHERE id > ? AND id <= ?"


class BatchWriter:
    """Writes batches of deliveries; one thread at a time per kept connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.sqlite = engine.dialect.name == "sqlite"
        dbapi = engine.dialect.loaded_dbapi
        self._down = (dbapi.OperationalError, dbapi.InterfaceError)
        self._kept: list[PoolProxiedConnection] = []  # list.pop/append are atomic
        self._checkpointing = False

    def write(self, items: Sequence[Item], now: datetime) -> list[Outcome]:
        """Each delivery's outcome, in order."""
        at = bound_time(self.dialect, now)
        for last in (False, True):
            try:
                raw = self._kept.pop()
            except IndexError:
                try:
                    raw = self._connect()
                except UNAVAILABLE as e:
                    return [e] * len(items)
                except self._down as e:  # raw_connection() does not wrap the driver's errors
                    return [OperationalError(None, None, e)] * len(items)
            try:
                outcomes = self._store(raw, items, at)
            except self._down as e:
                gone = not self.sqlite and bool(_driver(raw).closed)
                if gone:
                    self._discard(raw)
                else:
                    self._kept.append(raw)
                if last or not gone:
                    return [OperationalError(None, None, e)] * len(items)
                continue  # the kept connection died while idle: once more, on a new one
            except BaseException:
                self._discard(raw)
                raise
            self._kept.append(raw)
            if self.sqlite:
                self._checkpoint_soon()
            return outcomes
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give the kept connections back to the pool as it lent them (when no delivery
        waits, and at exit)."""
        while True:
            try:
                raw = self._kept.pop()
            except IndexError:
                return
            try:
                if self.sqlite:
                    pages = raw.info.pop(_OWN_CHECKPOINTS, None)
                    if pages is not None:
                        _driver(raw).execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
                else:
                    _driver(raw).autocommit = False  # the pool's connections are not
                raw.close()
            except Exception:
                self._discard(raw)

    def _connect(self) -> PoolProxiedConnection:
        raw = self.engine.raw_connection()
        if self.sqlite:  # in autocommit already (store.db); checkpoints mostly moved away
            driver = _driver(raw)
            raw.info[_OWN_CHECKPOINTS] = driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            driver.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
        else:
            _driver(raw).autocommit = True
        return raw

    def _checkpoint_soon(self) -> None:
        """SQLite: copy the log's new pages into the database in the background thread,
        unless a copy is under way (the next batch asks again)."""
        if self._checkpointing:
            return
        self._checkpointing = True
        global _checkpoints
        if _checkpoints is None:
            _checkpoints = ThreadPoolExecutor(1, thread_name_prefix="govbot-checkpoint")
        _checkpoints.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            with closing(self.engine.raw_connection()) as raw:
                _driver(raw).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception as e:  # the writer's own checkpoints still bound the log
            log.warning("background checkpoint failed: %s", e)
        finally:
            self._checkpointing = False

    def _discard(self, raw: PoolProxiedConnection) -> None:
        try:
            raw.invalidate()
            raw.close()
        except Exception:  # already gone
            log.debug("discarding a broken inbox connection", exc_info=True)

    def _store(self, raw: PoolProxiedConnection, items: Sequence[Item], at: Any) -> list[Outcome]:
        try:
            return list(self._insert(raw, items, at))
        except self._down:
            raise
        except Exception as e:
            if len(items) == 1:  # the error's text, not the statement's (it holds the body)
                log.error("%s delivery %s not stored: %s", items[0][0], items[0][1], e)
                return [e]
        # One bad delivery must not fail the others: store them one by one.
        return [outcome for item in items for outcome in self._store(raw, [item], at)]

    def _insert(self, raw: PoolProxiedConnection, items: Sequence[Item], at: Any) -> list[bool]:
        stored: set[tuple[str, str]] = set()
        cursor = raw.cursor()
        try:
            for start in range(0, len(items), BATCH_ROWS):
                chunk = items[start : start + BATCH_ROWS]
                params = insert_params(chunk, at)
                if not self.sqlite:
                    cursor.execute(insert_sql(self.dialect.paramstyle, len(chunk)), params)
                    stored.update((r[0], r[1]) for r in cursor.fetchall())
                    continue
                cursor.execute(insert_sql("qmark", len(chunk), returning=False), params)
                inserted = cursor.rowcount
                if inserted == len(chunk):
                    stored.update((i[0], i[1]) for i in chunk)
                elif inserted > 0:
                    last = cursor.lastrowid
                    cursor.execute(_RANGE, (last - inserted, last))
                    stored.update((r[0], r[1]) for r in cursor.fetchall())
        finally:
            cursor.close()
        return which_new(items, stored)


def _driver(raw: PoolProxiedConnection) -> Any:
    """The driver's own connection (psycopg's: ``autocommit``, ``closed``)."""
    return raw.driver_connection
