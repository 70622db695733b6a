"""How govbot talks to GitHub: one PyGithub connection, one retry policy, no leaked secrets.

Every GitHub call goes through ``_call``, which owns retrying: 5xx and rate
limits are retried with backoff (honouring Retry-After and X-RateLimit-Reset)
through an injected ``sleep``, so tests never wait; anything still failing
becomes a ``ForgeError`` the worker can reschedule (``retry_after``) or give
up on (``permanent``). PyGithub's own retrying is switched off so there is
exactly one policy. Secrets (the token, the App's private key, installation
tokens) are kept out of reprs, exception messages and PyGithub's debug logs.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Repository import Repository

from govbot.forges.base import ForgeError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 60.0  # never sleep longer than this in one go; beyond it the worker reschedules


class GitHubError(ForgeError):
    """A ForgeError that remembers the HTTP status (None for a network failure)."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


class GitHubClient:
    """The connection behind GitHubForge: a token or a GitHub App installation, and ``_call``."""

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        token: str | None = None,
        app_id: int | None = None,
        private_key: str | None = None,
        installation_id: int | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], object] = time.sleep,
        *,
        throttle: bool = True,
    ) -> None:
        """``throttle=False`` drops PyGithub's pause between requests (for tests against a local fake)."""
        self._secrets = tuple(s for s in (token, private_key) if s)
        _REDACT.secrets.update(self._secrets)
        self._base_url = base_url
        self._app_id = app_id if token is None else None
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        # what the forge learns as it goes: blobs by sha, and whether check runs are allowed
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._default_branches: dict[str, str] = {}
        self._checks_forbidden = False  # a plain token cannot create check runs: use statuses
        self._gh = Github(
            base_url=base_url,
            auth=_auth(token, app_id, private_key, installation_id),
            retry=None,
            lazy=True,  # objects are fetched when read, so every fetch happens inside _call
            seconds_between_requests=0.25 if throttle else None,
            seconds_between_writes=1.0 if throttle else None,
        )

    # -- plumbing ------------------------------------------------------------

    def _repo(self, full_name: str) -> Repository:
        return self._gh.get_repo(full_name)  # lazy: no request until something is read

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retrying transient failures; any failure becomes a GitHubError.

        Writes are retried too. A 5xx rarely hides a write that succeeded; if
        one did, a retried comment or check run could appear twice (a tag
        cannot: its ref answers 422 and is looked up again).
        """
        attempt = 0
        while True:
            try:
                return fn()
            except GithubException as e:
                status: int | None = e.status
                transient, wait = _transient(e)
                message = f"GitHub {what}: HTTP {e.status} {_message(e)}".rstrip()
            except requests.RequestException as e:
                status, transient, wait = None, True, None
                message = f"GitHub {what}: {type(e).__name__}"
            message = _redact(message, self._secrets)
            if not transient:
                raise GitHubError(
                    message, status=status, permanent=status is not None and status < 500
                )
            delay = wait if wait is not None else min(self._backoff * 2**attempt, MAX_WAIT)
            if attempt >= self._retries or delay > MAX_WAIT:
                raise GitHubError(
                    f"{message} (gave up)", status=status, retry_after=max(delay, 1.0)
                )
            attempt += 1
            log.warning("%s; retry %d/%d in %.1fs", message, attempt, self._retries, delay)
            self._sleep(delay)


def _transient(e: GithubException) -> tuple[bool, float | None]:
    """Whether to retry, and the wait the server asked for (None: use backoff)."""
    headers = {k.lower(): str(v) for k, v in (e.headers or {}).items()}
    retry_after = _retry_after(headers.get("retry-after"))
    if e.status >= 500 or e.status == 429:
        return True, retry_after
    if e.status == 403:
        if retry_after is not None:
            return True, retry_after
        reset = headers.get("x-ratelimit-reset", "")
        if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            return True, max(0.0, int(reset) - time.time()) + 1.0  # +1: the clocks may disagree
        if isinstance(e, RateLimitExceededException):
            return True, MAX_WAIT  # a secondary limit without a header: GitHub says wait a minute
    return False, None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(e: GithubException) -> str:
    data = e.data if isinstance(e.data, dict) else {}
    return str(e.message or data.get("message") or "")


def _auth(
    token: str | None, app_id: int | None, private_key: str | None, installation_id: int | None
) -> Auth.Auth:
    app = (app_id, private_key, installation_id)
    if token and any(v is not None for v in app):
        raise ValueError("configure GitHub with a token or with a GitHub App, not both")
    if token:
        return Auth.Token(token)
    if app_id is None or private_key is None or installation_id is None:
        raise ValueError("GitHub needs a token, or an App id, private key and installation id")
    app_auth = Auth.AppAuth(app_id, private_key)
    try:
        app_auth.create_jwt()  # fail at start-up, not on the first event
    except Exception:
        raise ValueError(
            "the GitHub App private key cannot sign a JWT (expected a PEM RSA key)"
        ) from None
    return app_auth.get_installation_auth(installation_id)


_PATTERNS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{16,}"
    r'|(?<="token": ")[^"]+',
    re.DOTALL,
)


def _redact(text: str, secrets: tuple[str, ...] | set[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return _PATTERNS.sub("***", text)


class _Redact(logging.Filter):
    """PyGithub's DEBUG log prints response bodies, installation tokens included: scrub them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REDACT = _Redact()
# PyGithub's loggers and the adapter's own (a logger's filter sees only its own records)
for _name in ("github", "github.Requester", "github.GithubRetry", __name__, "govbot.forges.github"):
    logging.getLogger(_name).addFilter(_REDACT)
