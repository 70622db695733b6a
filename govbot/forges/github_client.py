"""How govbot talks to GitHub: one PyGithub connection, one retry policy, no leaked secrets.

Every GitHub call goes through ``_call``, which owns retrying: a 5xx is
retried here only while the wait is short (at most ``MAX_WAIT``, one second,
through an injected ``sleep``, so tests never wait); a longer wait (a rate
limit until X-RateLimit-Reset, a Retry-After, a longer backoff) becomes a
``ForgeError`` the worker reschedules (``retry_after``), so no worker sleeps
through it. A rate limit belongs to the token or installation: once one is
answered, this client sends no request before it ends (and the worker holds
every other worker off the forge through the database). A request that
hangs is abandoned after ``timeout`` seconds and not retried here. A write
that is not safe to repeat (``idempotent=False``: creating a check run or a
comment) is never retried blindly: after an ambiguous failure (a timeout, a
5xx) the caller looks the object up first. PyGithub's own retrying is
switched off so there is exactly one policy. Secrets (the token, the App's private key, installation
tokens) are kept out of reprs, exception messages and PyGithub's debug logs.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Repository import Repository

from govbot import metrics
from govbot.forges.base import DEFAULT_TIMEOUT, ForgeError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
MAX_WAIT = 1.0  # never sleep longer than this in one go; beyond it the worker reschedules
SECONDARY_WAIT = (
    60.0  # GitHub: after a secondary limit without headers, "wait for at least one minute"
)
MAX_SECONDARY_WAIT = 30 * 60.0  # the increasing waits stop growing here
PER_PAGE = 100  # GitHub's maximum page size: a long list costs a third of the default's requests


class GitHubError(ForgeError):
    """A ForgeError that remembers the HTTP status (None for a network failure)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        rate_limited: bool = False,
        **kwargs: Any,
    ) -> None:
        # A 403 can mean "no permission" or "slow down": only the first is about the token.
        super().__init__(message, rate_limited=rate_limited, **kwargs)
        self.status = status


class AmbiguousWrite(GitHubError):
    """A write whose effect is unknown (a timeout or a 5xx after it was sent): look first."""


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
        timeout: int = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``throttle=False`` drops PyGithub's pause between requests (for tests against a local fake);
        ``clock`` (monotonic seconds) times the rate limits this client has been answered."""
        self._secrets = tuple(s for s in (token, private_key) if s)
        _REDACT.secrets.update(self._secrets)
        self._base_url = base_url
        self._app_id = app_id if token is None else None
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._held_until = 0.0  # on self._clock: a rate limit's end; no request before it
        self.rate_limit_key = (
            f"token:{hashlib.sha256(token.encode()).hexdigest()[:16]}"
            if token
            else f"app:{app_id}:installation:{installation_id}"
        )
        # what the forge learns as it goes: blobs by sha, and whether check runs are allowed
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._default_branches: dict[str, str] = {}
        self._checks_forbidden_until = 0.0  # monotonic; till then check runs are refused: statuses
        self._secondary_strikes = 0  # secondary rate limits in a row, for GitHub's increasing wait
        self._gh = Github(
            base_url=base_url,
            auth=_auth(token, app_id, private_key, installation_id),
            retry=None,
            per_page=PER_PAGE,
            lazy=True,  # objects are fetched when read, so every fetch happens inside _call
            seconds_between_requests=0.25 if throttle else None,
            seconds_between_writes=1.0 if throttle else None,
            timeout=timeout,
        )

    # -- plumbing ------------------------------------------------------------

    def _repo(self, full_name: str) -> Repository:
        return self._gh.get_repo(full_name)  # lazy: no request until something is read

    def _call(self, what: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """``fn()``, retrying short transient failures; any failure becomes a GitHubError.

        ``idempotent=False`` (a create): a timeout or 5xx raises AmbiguousWrite
        at once, since the object may exist now; the caller looks it up before
        creating again.
        """
        attempt = 0
        while True:
            held = self._held_until - self._clock()
            if held > 0:  # rate-limited: GitHub asks for no request before the reset
                raise GitHubError(
                    f"GitHub {what}: not sent, rate-limited for {held:.0f}s more",
                    rate_limited=True,
                    retry_after=held,
                )
            try:
                result = fn()
            except GithubException as e:
                status: int | None = e.status
                verdict = _classify(e, self._secondary_strikes)
                message = f"GitHub {what}: HTTP {e.status} {_message(e)}".rstrip()
            except requests.Timeout as e:
                # hung: waiting for it again here would hold this worker as long again
                status, verdict = None, _Verdict(retry=True, wait=MAX_WAIT * 2)
                message = f"GitHub {what}: {type(e).__name__} (no answer within the timeout)"
            except requests.RequestException as e:
                status, verdict = None, _Verdict(retry=True)
                message = f"GitHub {what}: {type(e).__name__}"
            else:
                self._secondary_strikes = 0
                metrics.forge_call("github", True, self._gh.requester.rate_limiting[0])
                return result
            metrics.forge_call("github", False, self._gh.requester.rate_limiting[0])
            message = _redact(message, self._secrets)
            if verdict.limit == "secondary" and verdict.wait is not None:
                self._secondary_strikes += 1  # the next one without a header waits longer
            if not verdict.retry:
                raise GitHubError(
                    message, status=status, permanent=status is not None and status < 500
                )
            limited = verdict.limit is not None
            delay = verdict.wait if verdict.wait is not None else self._backoff * 2**attempt
            if limited and delay > MAX_WAIT:
                self._held_until = max(self._held_until, self._clock() + delay)
            if not idempotent and not limited:
                raise AmbiguousWrite(
                    f"{message} (the write may have taken effect)",
                    status=status,
                    retry_after=max(delay, 1.0),
                )
            if attempt >= self._retries or delay > MAX_WAIT:
                raise GitHubError(
                    f"{message} (gave up)" if attempt else message,
                    status=status,
                    rate_limited=limited,
                    retry_after=max(delay, 1.0),
                )
            attempt += 1
            log.warning("%s; retry %d/%d in %.1fs", message, attempt, self._retries, delay)
            self._sleep(delay)


@dataclass(frozen=True)
class _Verdict:
    """What a failed call means: retry or not, after how long, and which rate limit if any."""

    retry: bool
    wait: float | None = None  # None: the client's own backoff
    limit: Literal["primary", "secondary"] | None = None


def _classify(e: GithubException, secondary_strikes: int = 0) -> _Verdict:
    """GitHub's documented answer to a failed call ("Rate limits for the REST API").

    A primary limit (403 or 429 with ``x-ratelimit-remaining: 0``) lasts until
    ``x-ratelimit-reset``. A secondary limit (403 or 429 whose message says
    so, or any other 429) lasts ``retry-after`` seconds when the header is
    there, else until the reset when the remaining count is 0, else "at least
    one minute", and "an exponentially increasing amount of time" when it
    keeps failing. Any other 403 is a permission the token lacks: final.
    """
    headers = {k.lower(): str(v) for k, v in (e.headers or {}).items()}
    status = e.status
    if status >= 500:
        return _Verdict(retry=True, wait=_retry_after(headers.get("retry-after")))
    if status not in (403, 429):
        return _Verdict(retry=False)
    retry_after = _retry_after(headers.get("retry-after"))
    until_reset = _until_reset(headers)
    if headers.get("x-ratelimit-remaining") == "0" and until_reset is not None:
        return _Verdict(True, retry_after if retry_after is not None else until_reset, "primary")
    if status == 429 or retry_after is not None or isinstance(e, RateLimitExceededException):
        if retry_after is not None:
            return _Verdict(True, retry_after, "secondary")
        wait = min(SECONDARY_WAIT * 2**secondary_strikes, MAX_SECONDARY_WAIT)
        return _Verdict(True, wait, "secondary")
    return _Verdict(retry=False)


def _until_reset(headers: dict[str, str]) -> float | None:
    """Seconds until ``x-ratelimit-reset`` (UTC epoch seconds), +1 for rounding.

    Measured against the answer's own ``Date`` when it has one, so a local
    clock that is off does not make the wait too short or too long.
    """
    reset = headers.get("x-ratelimit-reset", "")
    if not reset.isdigit():
        return None
    now = time.time()
    with suppress(TypeError, ValueError, IndexError):
        now = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
    return max(0.0, int(reset) - now) + 1.0


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


# What a secret looks like in a log line, whoever minted it:
# - a PEM private key;
# - GitHub's prefixed tokens, including the stateless installation tokens
#   (``ghs_<app id>_<JWT>``, ~520 characters with dots and dashes, rolled out
#   from April 2026): the whole token, not just its first JWT segment;
# - any JWT (the App's own, or one inside another format): three base64url parts;
# - the value of a "token" field in a JSON body (compact or spaced).
_PATTERNS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_.\-]{16,}"
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
    r'|(?<="token":)\s*"[^"]+"'
    r'|(?<="token": )"[^"]+"',
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
