"""Logging for govbot's processes: human lines on a terminal, JSON lines otherwise.

A log line is for whoever reads it: a person watching ``govbot up`` in a
terminal wants ``12:03:04 INFO govbot.voting github:org/repo#12 passed``; a
log collector wants one JSON object per line with the same fields as keys.
Every decision is logged with its review key (``review``), so one grep (or
one query) follows a review through receiver, worker and clock.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

# The attributes every LogRecord has: anything else was passed through ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
HANDLER = "govbot"
CONTEXT = ("review", "delivery")
"""Extra fields shown first on a human line."""


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class HumanLines(logging.Formatter):
    """``HH:MM:SS LEVEL logger [review] message key=value``: short enough to read live."""

    def format(self, record: logging.LogRecord) -> str:
        extras = _extras(record)
        context = " ".join(str(extras.pop(k)) for k in CONTEXT if k in extras)
        rest = " ".join(f"{k}={v}" for k, v in extras.items())
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        parts = [when, f"{record.levelname:<7}", record.name]
        parts += [p for p in (context, record.getMessage(), rest) if p]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted: a process (or a test
    run) may replace it after logging was configured, and the old one may be closed."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


def configure(fmt: str = "auto", level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Install one handler on the root logger (uvicorn's loggers included)."""
    human = fmt == "text" or (fmt == "auto" and (stream or sys.stderr).isatty())
    handler: logging.StreamHandler[IO[str]] = (
        logging.StreamHandler(stream) if stream is not None else _Stderr()
    )
    handler.setFormatter(HumanLines() if human else JsonLines())
    handler.set_name(HANDLER)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == HANDLER:  # ours from an earlier call; others' stay (pytest's)
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))  # chatty at INFO
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def uvicorn_config() -> dict[str, Any]:
    """uvicorn's ``log_config``: keep ours (it would install its own handlers otherwise)."""
    return {"version": 1, "disable_existing_loggers": False}
