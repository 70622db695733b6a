"""The receiver's configuration, read once from the environment.

Secrets are kept as bytes (what HMAC wants) and never appear in a repr, so a
``Settings`` can be logged or shown in a traceback without leaking them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub.
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024


def _secret(environ: Mapping[str, str], name: str) -> bytes | None:
    value = environ.get(name, "")
    return value.encode("utf-8") if value else None


@dataclass(frozen=True)
class Settings:
    github_secret: bytes | None = field(default=None, repr=False)
    gerrit_secret: bytes | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        raw_limit = environ.get("GOVBOT_MAX_BODY_BYTES", "")
        try:
            limit = int(raw_limit) if raw_limit else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            raise ValueError(
                f"GOVBOT_MAX_BODY_BYTES must be an integer, not {raw_limit!r}"
            ) from None
        if limit <= 0:
            raise ValueError(f"GOVBOT_MAX_BODY_BYTES must be positive, not {limit}")
        return cls(
            github_secret=_secret(environ, "GOVBOT_GITHUB_WEBHOOK_SECRET"),
            gerrit_secret=_secret(environ, "GOVBOT_GERRIT_WEBHOOK_SECRET"),
            max_body_bytes=limit,
        )

    def __repr__(self) -> str:
        def shown(secret: bytes | None) -> str:
            return "'<set>'" if secret else "None"

        return (
            f"Settings(github_secret={shown(self.github_secret)}, "
            f"gerrit_secret={shown(self.gerrit_secret)}, max_body_bytes={self.max_body_bytes})"
        )
