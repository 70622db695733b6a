"""Who may post a delivery: GitHub's HMAC signature, Gerrit's shared secret.

Every comparison is constant-time (``hmac.compare_digest``) so a caller cannot
learn a secret byte by byte from response times. An empty or missing secret
never verifies anything: the receiver fails closed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache
from typing import Protocol

_PREFIX = "sha256="


class Digest(Protocol):
    """A running digest of a body (GitHub's HMAC, Gerrit's SHA-256), fed as it arrives."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


@lru_cache(maxsize=8)
def _keyed(secret: bytes) -> hmac.HMAC:
    """An HMAC with the key already mixed in; copying it skips that work per delivery."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _digest(secret: bytes, body: bytes) -> str:
    mac = _keyed(secret).copy()
    mac.update(body)
    return mac.hexdigest()


def sign_github(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return _PREFIX + _digest(secret, body)


def well_formed_github(header: str | None) -> bool:
    """Whether ``header`` can be a signature at all: checked before reading a body."""
    return header is not None and _SIGNATURE.fullmatch(header.strip()) is not None


def github_mac(secret: bytes) -> hmac.HMAC:
    """A fresh HMAC to feed the body into as it arrives (no second pass over it)."""
    return _keyed(secret).copy()


def github_matches(mac: Digest, header: str | None) -> bool:
    """True when ``header`` is ``mac``'s signature (constant-time)."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(mac.hexdigest(), header[len(_PREFIX) :].strip().lower())


def verify_github(secret: bytes | None, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC-SHA256 of the raw ``body`` under ``secret``.

    The raw bytes are what GitHub signed; re-serialised JSON would not match.
    """
    if not secret:
        return False
    mac = github_mac(secret)
    mac.update(body)
    return github_matches(mac, header)


def _basic_password(authorization: str | None) -> bytes | None:
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    _user, sep, password = decoded.partition(b":")
    return password if sep else None


def verify_gerrit(secret: bytes | None, authorization: str | None, token: str | None) -> bool:
    """True when the request carries ``secret`` as a Basic password or an ``X-Govbot-Token``.

    Gerrit's webhooks plugin signs nothing; it can only send credentials put in
    the remote URL (``https://govbot:SECRET@host/webhooks/gerrit``), which
    arrive as Basic auth. The user name is not checked: the secret is the key.
    """
    if not secret:
        return False
    ok = False
    password = _basic_password(authorization)
    if password is not None:
        ok |= hmac.compare_digest(password, secret)
    if token:
        ok |= hmac.compare_digest(token.strip().encode("utf-8"), secret)
    return ok
