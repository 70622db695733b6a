"""What reconciliation reads from GitHub: listings by conditional request, and the App's
webhook deliveries.

GitHub REST, "Best practices for using the REST API", *Use conditional requests
if appropriate*: "Most endpoints return an ``etag`` header ... If the data has
not changed, you will receive a ``304 Not Modified`` response. Making a
conditional request does not count against your primary rate limit if a 304
response is returned and the request was made while correctly authorized with
an ``Authorization`` header." So every listing is asked with the ETag of its
last answer, and an unchanged repository costs (almost) nothing.

The webhook deliveries of a GitHub App ("REST API endpoints for GitHub App
webhooks"): ``GET /app/hook/deliveries`` lists recent deliveries (newest
first, ``cursor`` pagination through the ``Link`` header) with ``guid``,
``delivered_at``, ``redelivery``, ``status`` and ``status_code``;
``POST /app/hook/deliveries/{delivery_id}/attempts`` redelivers one (202).
Both authenticate as the App (a JWT), not as an installation.

Every call goes through the client's ``_call``: the same retries, rate-limit
handling and redaction as the rest of the adapter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from github import Auth
from github.Requester import Requester

from govbot.forges.github_client import GitHubClient, GitHubError

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@dataclass(frozen=True)
class Answer:
    status: int  # 200, or 304 (not modified: ``data`` is None)
    etag: str | None
    data: Any
    next_url: str | None  # the Link header's next page

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def get(
    client: GitHubClient,
    url: str,
    params: dict[str, Any] | None = None,
    etag: str | None = None,
    *,
    app: bool = False,
) -> Answer:
    """GET ``url`` (a path under the API, or a next-page URL), conditional on ``etag``."""
    requester = _app_requester(client) if app else client._gh.requester
    headers = {"If-None-Match": etag} if etag else None

    def fetch() -> Answer:
        status, raw_headers, body = requester.requestJson("GET", url, params, headers)
        lower = {str(k).lower(): str(v) for k, v in (raw_headers or {}).items()}
        data = json.loads(body) if body else None
        if status >= 400:
            raise requester.createException(status, lower, data if isinstance(data, dict) else {})
        found = _NEXT.search(lower.get("link", ""))
        return Answer(status, lower.get("etag"), data, found.group(1) if found else None)

    return client._call(f"GET {url.split('?')[0]}", fetch)


def redeliver(client: GitHubClient, delivery_id: int) -> None:
    """Ask GitHub to send an App webhook delivery again (202 Accepted)."""
    requester = _app_requester(client)
    url = f"/app/hook/deliveries/{int(delivery_id)}/attempts"

    def post() -> None:
        status, raw_headers, body = requester.requestJson("POST", url)
        if status >= 400:
            lower = {str(k).lower(): str(v) for k, v in (raw_headers or {}).items()}
            data = json.loads(body) if body else {}
            raise requester.createException(status, lower, data if isinstance(data, dict) else {})

    client._call(f"POST {url}", post)


def is_app(client: GitHubClient) -> bool:
    """Whether the client authenticates as a GitHub App installation."""
    return isinstance(client._gh.requester.auth, Auth.AppInstallationAuth)


def _app_requester(client: GitHubClient) -> Requester:
    auth = client._gh.requester.auth
    if not isinstance(auth, Auth.AppInstallationAuth):
        raise GitHubError("the App's webhook deliveries need GitHub App auth", permanent=True)
    return client._gh.requester.withAuth(auth._app_auth)
