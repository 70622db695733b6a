"""The receiver's configuration, read once from the environment.

Secrets are kept as bytes (what HMAC wants) and never appear in a repr, so a
``Settings`` can be logged or shown in a traceback without leaking them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from webhooks.intake import Limits

# GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub.
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024
# What the bodies being read may hold together: two of GitHub's largest, and room
# for the ordinary ones (see webhooks/intake.py). A process serving the receiver
# stays well under 250 MB whatever is sent to it.
DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BODIES = 64
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_BODY_DEADLINE = 60.0


def _secret(environ: Mapping[str, str], name: str) -> bytes | None:
    value = environ.get(name, "")
    return value.encode("utf-8") if value else None


def _positive(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = environ.get(name, "")
    try:
        value = kind(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a {kind.__name__}, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    github_secret: bytes | None = field(default=None, repr=False)
    gerrit_secret: bytes | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES
    max_bodies: int = DEFAULT_MAX_BODIES
    read_timeout: float = DEFAULT_READ_TIMEOUT
    body_deadline: float = DEFAULT_BODY_DEADLINE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            github_secret=_secret(environ, "GOVBOT_GITHUB_WEBHOOK_SECRET"),
            gerrit_secret=_secret(environ, "GOVBOT_GERRIT_WEBHOOK_SECRET"),
            max_body_bytes=int(
                _positive(environ, "GOVBOT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int)
            ),
            max_buffered_bytes=int(
                _positive(environ, "GOVBOT_RECEIVER_BUFFER_BYTES", DEFAULT_MAX_BUFFERED_BYTES, int)
            ),
            max_bodies=int(_positive(environ, "GOVBOT_RECEIVER_BODIES", DEFAULT_MAX_BODIES, int)),
            read_timeout=_positive(
                environ, "GOVBOT_RECEIVER_READ_TIMEOUT", DEFAULT_READ_TIMEOUT, float
            ),
            body_deadline=_positive(
                environ, "GOVBOT_RECEIVER_BODY_DEADLINE", DEFAULT_BODY_DEADLINE, float
            ),
        )

    def limits(self) -> Limits:
        return Limits(
            max_body_bytes=self.max_body_bytes,
            max_bodies=self.max_bodies,
            max_buffered_bytes=max(self.max_buffered_bytes, self.max_body_bytes),
            read_timeout=self.read_timeout,
            body_deadline=self.body_deadline,
        )

    def __repr__(self) -> str:
        def shown(secret: bytes | None) -> str:
            return "'<set>'" if secret else "None"

        return (
            f"Settings(github_secret={shown(self.github_secret)}, "
            f"gerrit_secret={shown(self.gerrit_secret)}, max_body_bytes={self.max_body_bytes}, "
            f"max_buffered_bytes={self.max_buffered_bytes}, max_bodies={self.max_bodies}, "
            f"read_timeout={self.read_timeout}, body_deadline={self.body_deadline})"
        )
