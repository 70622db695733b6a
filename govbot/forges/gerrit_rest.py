"""Gerrit's REST API: a small httpx client with retries, and the helpers it needs.

gerritlib speaks Gerrit's SSH commands, which cannot read file contents or set
a review tag, so reads and answers go through the documented REST API
(``/a/`` paths, HTTP basic auth with the account's HTTP password, JSON
answers behind the ``)]}'`` XSSI prefix). This module is that transport;
``gerrit.py`` maps the Forge protocol onto it.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from govbot import metrics
from govbot.forges.base import ForgeError

log = logging.getLogger(__name__)

XSSI_PREFIX = ")]}'"
RETRYABLE = frozenset({429, 500, 502, 503, 504})
_SHA = re.compile(r"[0-9a-f]{40}")
# 409s Gerrit answers when an edit is already as asked (e.g. redone after a lost answer).
_UNCHANGED = re.compile(
    r"no changes were made|cannot be same as existing commit message|identical tree and message"
)


class GerritError(ForgeError):
    """A Gerrit call failed; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status


class GerritRest:
    """A small Gerrit REST client with retries; it never logs or raises its password."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        gitiles_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_wait: float = 1.0,
        timeout: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_wait``: the longest wait slept here; a longer one (a Retry-After, a 429,
        a longer backoff) is raised as a GerritError with ``retry_after`` for the worker
        to reschedule, so no worker sleeps through it. ``timeout``: seconds without an
        answer before a request is abandoned (not retried here: it would hang as long)."""
        self.url, self.user = url.rstrip("/"), user
        self.gitiles_url = self._authenticated(gitiles_url) if gitiles_url else None
        self._password = password
        self._auth = httpx.BasicAuth(user, password)
        self._client = httpx.Client(timeout=timeout)
        self.sleep, self.attempts = sleep, attempts
        self.backoff, self.max_backoff, self.max_wait = backoff, max_backoff, max_wait
        self._clock = clock
        self._held_until = 0.0  # a 429's end on self._clock: no request before it
        self.rate_limit_key = f"user:{user}"

    def __repr__(self) -> str:
        return f"GerritRest({self.url!r}, user={self.user!r})"

    def close(self) -> None:
        self._client.close()

    # -- transport ---------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        content: bytes | None = None,
        missing_ok: bool = False,
        attempts: int | None = None,
    ) -> httpx.Response | None:
        """One request, retried on 429/5xx/transport errors; None for a 404 if missing_ok.

        ``content`` sends raw bytes instead of JSON ``body``; ``attempts=1`` is for
        calls that are not safe to repeat blindly (the caller looks before retrying).
        """
        what = f"{method} {urlsplit(url).path}"
        attempts = attempts or self.attempts
        headers = {"Content-Type": "application/octet-stream"} if content is not None else None
        for attempt in range(1, attempts + 1):
            held = self._held_until - self._clock()
            if held > 0:
                raise GerritError(
                    f"gerrit {what}: not sent, rate-limited for {held:.0f}s more",
                    retry_after=held,
                    rate_limited=True,
                )
            status: int | None = None
            limited = False
            try:
                resp = self._client.request(
                    method,
                    url,
                    json=body,
                    content=content,
                    headers=headers,
                    auth=self._auth_for(url),
                )
            except httpx.TimeoutException as e:
                metrics.forge_call("gerrit", ok=False)
                raise GerritError(
                    f"gerrit {what}: {type(e).__name__} (no answer within the timeout)",
                    retry_after=max(self._backoff(attempt), 2 * self.max_wait),
                ) from None
            except httpx.TransportError as e:
                metrics.forge_call("gerrit", ok=False)
                reason, wait = type(e).__name__, self._backoff(attempt)
            else:
                status = resp.status_code
                metrics.forge_call("gerrit", ok=resp.is_success or status == 404)
                if resp.is_success:
                    return resp
                if status == 404 and missing_ok:
                    return None
                if status not in RETRYABLE:
                    raise self._refused(what, resp)
                reason = f"HTTP {status}"
                asked = _retry_after(resp.headers.get("Retry-After"))
                wait = self._backoff(attempt) if asked is None else asked
                limited = status == 429  # the account's quota (Gerrit's quota plugin)
            if attempt == attempts or wait > self.max_wait:
                if limited and wait > self.max_wait:
                    self._held_until = max(self._held_until, self._clock() + wait)
                raise GerritError(
                    f"gerrit {what}: {reason} after {attempt} attempt(s)",
                    status=status,
                    retry_after=wait,
                    rate_limited=limited,
                )
            log.warning("gerrit %s: %s, retry %d in %.1fs", what, reason, attempt, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _authenticated(self, gitiles_url: str) -> str:
        """The gitiles plugin's URL on the authenticated ``/a/`` path of its Gerrit.

        Gerrit's rest-api.txt: "By default all REST endpoints assume anonymous
        access and filter results to correspond to what anonymous users can
        read (which may be nothing at all). [...] To authenticate, prefix the
        endpoint URL with /a/". Plugins are served the same way
        (``/a/plugins/gitiles/``). A gitiles on another origin (a standalone
        server) is left as configured and never gets the Gerrit password.
        """
        url = gitiles_url.rstrip("/")
        base = urlsplit(self.url).path.rstrip("/")
        path = urlsplit(url).path
        if _origin(url) == _origin(self.url) and path.startswith(f"{base}/plugins/"):
            prefix = url[: len(url) - len(path)]
            return f"{prefix}{base}/a{path[len(base) :]}"
        return url

    def _auth_for(self, url: str) -> httpx.Auth | None:
        """Credentials go to the Gerrit origin only, never to a gitiles on another host."""
        return self._auth if _origin(url) == _origin(self.url) else None

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))

    def _refused(self, what: str, resp: httpx.Response) -> GerritError:
        body = " ".join(resp.text.split())[:200]
        if self._password:
            body = body.replace(self._password, "***")
        why = {
            401: "authentication failed (check GOVBOT_GERRIT_USER and the HTTP password)",
            403: "forbidden: the account lacks the permission",
            404: "not found",
            409: "conflict",
        }.get(resp.status_code, f"HTTP {resp.status_code}")
        message = f"gerrit {what}: {why}" + (f": {body}" if body else "")
        return GerritError(message, status=resp.status_code, permanent=True)

    def _api(self, path: str) -> str:
        return f"{self.url}/a{path}"

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.call(method, self._api(path), body=body)
        assert resp is not None
        return parse_json(resp.text)

    # -- endpoints -----------------------------------------------------------

    def resolve(self, project: str, rev: str) -> str:
        """A commit sha for a sha or a branch name (GET projects/{p}/branches/{b})."""
        if _SHA.fullmatch(rev):
            return rev
        branch = rev.removeprefix("refs/heads/")
        info = self._json("GET", f"/projects/{_q(project)}/branches/{_q(branch)}")
        return str(info["revision"])

    def head(self, project: str) -> str:
        """The project's HEAD branch (GET projects/{p}/HEAD: "refs/heads/master")."""
        return str(self._json("GET", f"/projects/{_q(project)}/HEAD")).removeprefix("refs/heads/")

    def account(self, username: str) -> dict[str, Any] | None:
        """GET accounts/{username}: the AccountInfo (``_account_id``), None if no such account."""
        resp = self.call("GET", self._api(f"/accounts/{_q(username)}"), missing_ok=True)
        return None if resp is None else parse_json(resp.text)

    def account_by_username(self, username: str) -> dict[str, Any] | None:
        """The AccountInfo of the account whose username is exactly ``username``, else None.

        rest-api-accounts.txt, {account-id}: the identifier of "Get Account" can be
        "a bare account ID", an email, "a full name" or "a user name", and "callers
        should not rely on the particular priorities of any of the identifiers in the
        account resolution algorithm [...] If callers require specific searching
        semantics, they should use the Query Account endpoint". So a name that is
        another account's id ("1000001"), email or full name must not resolve to that
        account: the answer counts only when its ``username`` is the one asked for
        (asked again through ``Query Account``, ``q=username:...&o=DETAILS``, when
        Get Account leaves the username out).
        """
        info = self.account(username)
        if not isinstance(info, dict):
            return None
        shown = info.get("username")
        if shown is None:
            params = urlencode([("q", _term("username", username)), ("o", "DETAILS")])
            found = self._json("GET", f"/accounts/?{params}")
            same = (
                [a for a in found if isinstance(a, dict) and a.get("username") == username]
                if isinstance(found, list)
                else []
            )
            return same[0] if len(same) == 1 else None
        return info if shown == username else None

    def get_file(self, project: str, commit: str, path: str) -> bytes:
        content = self.file_at(project, commit, path, missing_ok=False)
        assert content is not None
        return content

    def file_at(
        self, project: str, commit: str, path: str, *, missing_ok: bool = True
    ) -> bytes | None:
        """A file's bytes at ``commit``; None when it has no such file (and missing_ok)."""
        url = self._api(f"/projects/{_q(project)}/commits/{_q(commit)}/files/{_q(path)}/content")
        resp = self.call("GET", url, missing_ok=missing_ok)
        if resp is None:
            return None
        try:
            return base64.b64decode(resp.content, validate=False)
        except binascii.Error as e:
            raise GerritError(f"gerrit: content of {path} is not base64", permanent=True) from e

    def list_tree(self, project: str, commit: str, directory: str) -> list[dict[str, Any]]:
        """The entries of one directory through gitiles (``?format=JSON``).

        A 404 is an error, never "empty": the gitiles plugin answers it alike
        for a project that does not exist and one the account may not read
        ("Avoid leaking information by not distinguishing between project not
        existing and no access rights", its Resolver), and for a missing
        commit or path. Callers list a directory only once its parent's
        listing shows it, so a 404 always means something is wrong.
        """
        if not self.gitiles_url:
            raise GerritError(
                "gerrit: reading a tree needs a listing, which Gerrit's REST API lacks; "
                "set GOVBOT_GERRIT_GITILES_URL",
                permanent=True,
            )
        url = f"{self.gitiles_url}/{quote(project)}/+/{quote(commit)}/{quote(directory)}"
        resp = self.call("GET", f"{url}?format=JSON", missing_ok=True)
        where = f"{project}@{commit}:{directory or '/'}"
        if resp is None:
            raise GerritError(
                f"gitiles: {where} not found: the project is not readable by {self.user}, "
                "or the commit is not in it",
                status=404,
                permanent=True,
            )
        data = parse_json(resp.text)
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise GerritError(f"gitiles: {where}: the answer has no entries", permanent=True)
        return entries

    def revision_files(self, change: str, revision: str) -> list[str]:
        """Paths a patch set touches (renames give both names), without /COMMIT_MSG & co."""
        files = self._json("GET", f"/changes/{change}/revisions/{_q(revision)}/files/")
        paths = set(files)
        paths.update(
            i["old_path"] for i in files.values() if isinstance(i, dict) and "old_path" in i
        )
        return sorted(p for p in paths if not p.startswith("/"))

    def set_review(
        self,
        change: str,
        revision: str,
        message: str,
        labels: Mapping[str, int] | None = None,
        *,
        tag: str = "autogenerated:govbot",
        notify: str = "OWNER",
        notify_to: Sequence[str] = (),
    ) -> dict[str, Any]:
        """rest-api-changes.txt "Set Review" with a ReviewInput; ``notify_to`` fills its
        ``notify_details`` ("Additional information about whom to notify about the update
        as a map of recipient type to NotifyInfo entity"): TO these accounts."""
        body: dict[str, Any] = {"message": message, "tag": tag, "notify": notify}
        if notify_to:
            body["notify_details"] = {"TO": {"accounts": list(notify_to)}}
        if labels:
            body["labels"] = dict(labels)
        result: dict[str, Any] = self._json(
            "POST", f"/changes/{change}/revisions/{_q(revision)}/review", body
        )
        return result

    def hashtags(self, change: str) -> list[str]:
        """rest-api-changes.txt, "Get Hashtags": "the change's hashtags are returned as a list
        of strings" (GET /changes/{id}/hashtags)."""
        return [str(h) for h in self._json("GET", f"/changes/{change}/hashtags")]

    def set_hashtags(self, change: str, add: list[str], remove: list[str]) -> list[str]:
        """ "Set Hashtags": "Adds and/or removes hashtags from a change", given a HashtagsInput
        (``add``, ``remove``: both optional lists); answers the hashtags it now has."""
        body: dict[str, list[str]] = {}
        if add:
            body["add"] = add
        if remove:
            body["remove"] = remove
        return [str(h) for h in self._json("POST", f"/changes/{change}/hashtags", body)]

    def query_changes(self, query: str, *options: str, start: int = 0) -> list[dict[str, Any]]:
        """One page of "Query Changes"; ``start`` is ``S=`` (skip), and the page's last
        change carries ``_more_changes: true`` when there are more."""
        pairs = [("q", query), *(("o", o) for o in options)]
        params = urlencode([*pairs, ("S", str(start))] if start else pairs)
        return list(self._json("GET", f"/changes/?{params}"))

    def find_open_change(self, project: str, branch: str, topic: str) -> dict[str, Any] | None:
        """The open change of ``project``/``branch`` with exactly ``topic`` (the oldest one)."""
        query = " ".join(
            [
                _term("project", project),
                _term("branch", branch),
                _term("topic", topic),
                "status:open",
            ]
        )
        found = [
            c
            for c in self.query_changes(query)
            if (c.get("project"), c.get("branch"), c.get("topic")) == (project, branch, topic)
        ]
        return min(found, key=lambda c: int(c["_number"])) if found else None

    def get_change(self, change: str, *options: str) -> dict[str, Any]:
        params = urlencode([("o", o) for o in options])
        info: dict[str, Any] = self._json(
            "GET", f"/changes/{change}" + (f"?{params}" if params else "")
        )
        return info

    def create_change(self, project: str, branch: str, subject: str, topic: str) -> dict[str, Any]:
        """POST /changes/ (an empty commit on ``branch``), never twice for one topic.

        A create is not safe to repeat: its answer can be lost after the change
        was made. So each attempt is made once, and before the next one the
        change is looked for by topic.
        """
        body = {"project": project, "branch": branch, "subject": subject, "topic": topic}
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                found = self.find_open_change(project, branch, topic)
                if found is not None:
                    return found
            try:
                resp = self.call("POST", self._api("/changes/"), body=body, attempts=1)
            except GerritError as e:
                wait = max(e.retry_after or 0.0, self._backoff(attempt))
                if e.permanent or attempt == self.attempts or wait > self.max_wait:
                    raise
                log.warning("gerrit POST /changes/ failed (%s), looking before retrying", e)
                self.sleep(wait)
                continue
            assert resp is not None
            created: dict[str, Any] = parse_json(resp.text)
            return created
        raise AssertionError("unreachable")

    def edit_file(self, change: str, path: str, content: bytes | None) -> None:
        """Put ``content`` at ``path`` in the change edit (None deletes it); made if needed."""
        url = self._api(f"/changes/{change}/edit/{_q(path)}")
        try:
            if content is None:
                self.call("DELETE", url)
            else:
                self.call("PUT", url, content=content)
        except GerritError as e:
            if not _unchanged(e):
                raise

    def edit_message(self, change: str, message: str) -> None:
        try:
            self.call(
                "PUT", self._api(f"/changes/{change}/edit:message"), body={"message": message}
            )
        except GerritError as e:
            if not _unchanged(e):
                raise

    def delete_edit(self, change: str) -> None:
        """Drop a pending edit (a crashed attempt's), so no stale file survives into the next."""
        self.call("DELETE", self._api(f"/changes/{change}/edit"), missing_ok=True)

    def publish_edit(self, change: str) -> None:
        """Make the edit the change's new patch set; "no edit" after a lost answer means done."""
        try:
            self.call("POST", self._api(f"/changes/{change}/edit:publish"))
        except GerritError as e:
            if not (_unchanged(e) or (e.status == 409 and "no edit" in str(e))):
                raise

    def get_tag(self, project: str, tag: str) -> dict[str, Any] | None:
        resp = self.call(
            "GET", self._api(f"/projects/{_q(project)}/tags/{_q(tag)}"), missing_ok=True
        )
        return None if resp is None else dict(parse_json(resp.text))

    def create_tag(self, project: str, tag: str, revision: str, message: str = "") -> str:
        """Create ``tag`` on ``revision``; an existing tag on it is success, elsewhere an error.

        Never overwrites: a tag names a release, and moving one is a decision for humans.
        """
        existing = self.get_tag(project, tag)
        if existing is None:
            body = {"revision": revision, **({"message": message} if message else {})}
            try:
                created = self._json("PUT", f"/projects/{_q(project)}/tags/{_q(tag)}", body)
                return str(created.get("ref", f"refs/tags/{tag}"))
            except GerritError as e:
                existing = self.get_tag(project, tag) if e.status == 409 else None
                if existing is None:
                    raise
        # "object" is the tagged commit of an annotated tag, "revision" a lightweight one's.
        if revision in (existing.get("object"), existing.get("revision")):
            return str(existing.get("ref", f"refs/tags/{tag}"))
        raise GerritError(
            f"gerrit: tag {tag} already exists in {project} on another revision; not moving it",
            status=409,
            permanent=True,
        )


def parse_json(text: str) -> Any:
    """Gerrit's JSON without its ``)]}'`` anti-XSSI first line."""
    if text.startswith(XSSI_PREFIX):
        text = text[len(XSSI_PREFIX) :]
    try:
        return json.loads(text)
    except ValueError as e:
        raise GerritError("gerrit: the answer is not JSON", permanent=True) from e


def _unchanged(e: GerritError) -> bool:
    return e.status == 409 and bool(_UNCHANGED.search(str(e)))


def _term(operator: str, value: str) -> str:
    """One quoted search term; Gerrit's query syntax has no escape for a quote inside."""
    if '"' in value:
        raise GerritError(f"gerrit: cannot search for {operator} {value!r}", permanent=True)
    return f'{operator}:"{value}"'


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
