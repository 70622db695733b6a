"""A content-addressed findings cache on disk (one small JSON file per key).

Keys come from :func:`govbot.core.validate.cache_key` and already cover the
file's bytes, path, schemas, policy and engine version, so entries never go
stale; they are only ever added. Writes are atomic (rename), so concurrent
runs at worst compute the same entry twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import astuple
from pathlib import Path

from govbot.core.findings import Finding, Severity
from govbot.core.settings import Settings


def default_dir() -> Path:
    configured = Settings.from_environ(os.environ).cache_dir
    if configured is not None:
        return configured
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "govbot" / "findings"


class DiskCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_dir()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Finding] | None:
        try:
            raw = self._path(key).read_bytes()
            return [
                Finding(file, rule, message, Severity(severity), line, column, tuple(path))
                for file, rule, message, severity, line, column, path in json.loads(raw)
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable entries are simply recomputed

    def put(self, key: str, findings: list[Finding]) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump([astuple(x) for x in findings], f)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache dir costs speed, never correctness
