"""Reconciliation: find on the forge what its webhooks or stream never brought.

GitHub does not redeliver a failed webhook by itself and Gerrit's
stream-events has no replay, so after any downtime govbot reads the forge
back. What it finds enters the same inbox as a delivery would, as a
*synthesized delivery*: its id is derived from the forge's own ids
(``gh-comment-<id>``, ``gh-review-<id>``, ``gh-pr-…-<head sha>``,
``gerrit-msg-<message id>``, ``gerrit-ps-<change>-<ps>``) and its body is the
payload the forge's webhook or stream would have carried, so the event
parsers and the worker's path are unchanged. It carries the forge object's
``event_key`` too, the same one the receiver derives from the real webhook,
so a late webhook of the same comment, review or patch set is a duplicate in
the inbox, not a second effect. A pull request's head has no lasting key (a
head can come back); ``proposals.on_revision`` does nothing for a head it has
already checked in the same state.

Times are the forge's own, read back through its API (issue 11 property 7,
"the forge's authoritative record read back through its API"): a reconciled
vote is dated when the comment was made, not when govbot found it; the review
period of a pull request found only now starts at govbot's receipt, as ever
(a downtime can delay a decision, never hasten it).

GitHub (per governed repository): the open pull requests, most recently
updated first, asked with the ETag of the last answer (an unchanged
repository answers 304, which GitHub does not count against the rate limit)
and read only down to the watermark; for each changed one its reviews (also
conditional); the repository's issue comments since the watermark (one
conditional listing). Where GitHub App auth is configured, failed webhook
deliveries are redelivered through the App's deliveries API.

Gerrit (per project, or every visible change): ``GET /changes/`` with
``-age:<seconds since the watermark>s`` (``status:open`` on the first sweep)
and ``CURRENT_REVISION``, ``CURRENT_COMMIT``, ``MESSAGES``,
``DETAILED_ACCOUNTS``, ``DETAILED_LABELS``: a ``patchset-created`` for a
current patch set govbot has not seen, a ``comment-added`` for each review
message since the watermark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from govbot import metrics
from govbot.core.events import ReviewRef
from govbot.forges import registry
from govbot.forges.base import Forge, ForgeError
from govbot.store import inbox, reviews
from govbot.store import reconcile as marks
from govbot.store.models import utcnow
from govbot.store.reviews import ReviewState

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0
SLACK = timedelta(minutes=5)
"""Re-read this far behind the watermark: forge listings are eventually consistent and
clocks differ. What is read twice is a duplicate in the inbox, so the margin costs nothing."""
FIRST_LOOKBACK = timedelta(days=30)
"""Comments read on a repository's first sweep (open changes are read whatever their age)."""
MAX_REDELIVERIES = 100  # per sweep: GitHub keeps deliveries for three days
_ID_LIMIT = 128  # deliveries.delivery_id
_VOTE_HEADER = re.compile(r"^Patch Set (\d+):(.*)$")
_LABEL_VOTE = re.compile(r"^(-?)([A-Za-z0-9][A-Za-z0-9_-]*?)([+-]\d+)?$")


@dataclass
class Sweep:
    """What one sweep of one repository (project) did."""

    forge: str
    scope: str
    found: int = 0  # synthesized deliveries
    stored: int = 0  # of which new in the inbox (the rest: already there)
    requests: int = 0  # sent to the forge
    not_modified: int = 0  # of which answered 304 (GitHub: not counted against the limit)
    redelivered: int = 0  # failed webhook deliveries GitHub was asked to send again
    seconds: float = 0.0

    @property
    def counted(self) -> int:
        """Requests GitHub counts against the rate limit (a 304 is not)."""
        return self.requests - self.not_modified

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counted": self.counted}


Item = tuple[str, str, str, str | None, bytes, str | None]


@dataclass
class _Found:
    items: list[Item] = field(default_factory=list)

    def add(self, source: str, delivery: str, event: str, payload: dict[str, Any]) -> None:
        action = payload.get("action") if isinstance(payload.get("action"), str) else None
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        key = registry.event_key(source, event, payload)
        self.items.append((source, _bounded(delivery), event, action, body, key))


def configured_scopes(forge: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The governed repositories (GitHub) or projects (Gerrit) named in the environment."""
    name = (
        "GOVBOT_RECONCILE_GITHUB_REPOS" if forge == "github" else "GOVBOT_RECONCILE_GERRIT_PROJECTS"
    )
    listed = [s.strip() for s in environ.get(name, "").split(",") if s.strip()]
    if not listed and forge == "github" and environ.get("GOVBOT_READY_REPO", "").strip():
        listed = [environ["GOVBOT_READY_REPO"].strip()]
    return listed


def reconcile(
    engine: Engine,
    forge_name: str,
    forge: Forge,
    *,
    scopes: Sequence[str] | None = None,
    since: datetime | None = None,
    now: Callable[[], datetime] = utcnow,
    environ: Mapping[str, str] = os.environ,
) -> list[Sweep]:
    """Sweep each governed repository (project) of one forge; the new deliveries are queued.

    ``scopes`` defaults to the configured list, else every repository govbot has
    reviews of (on Gerrit, with none at all, every change the account can see).
    ``since`` overrides the stored watermark (and sends no ETags: a full read).
    """
    if scopes is None:
        scopes = configured_scopes(forge_name, environ)
        if not scopes:
            with engine.connect() as conn:
                scopes = marks.known_scopes(conn, forge_name)
    started = now()
    held = inbox.forge_holds(engine, started).get(forge_name)
    if held is not None:  # a rate limit: no request to the forge before it ends
        log.info("reconciliation of %s waits for its rate limit (until %s)", forge_name, held)
        return []
    try:
        sweeps = _sweeps(engine, forge_name, forge, scopes, since, now, environ)
    except ForgeError as e:
        if e.rate_limited:  # every worker and the next sweep keep off it until it ends
            until = now() + timedelta(seconds=max(e.retry_after or 0.0, 1.0))
            key = str(getattr(forge, "rate_limit_key", "") or forge_name)
            inbox.hold_forge(engine, forge_name, key, until)
        raise
    metrics.set_reconciliation_lag(forge_name, (now() - started).total_seconds())
    return sweeps


def _sweeps(
    engine: Engine,
    forge_name: str,
    forge: Forge,
    scopes: Sequence[str],
    since: datetime | None,
    now: Callable[[], datetime],
    environ: Mapping[str, str],
) -> list[Sweep]:
    sweeps: list[Sweep] = []
    if forge_name == "github":
        from govbot.forges import github_sweep
        from govbot.forges.github_client import GitHubClient

        if not isinstance(forge, GitHubClient):
            raise ValueError("GitHub reconciliation needs the GitHub adapter (not dry-run)")
        for repo in scopes:
            sweeps.append(_github(engine, forge, repo, since, now))
        if github_sweep.is_app(forge):
            sweeps.append(_redeliver(engine, forge, since, now))
    elif forge_name == "gerrit":
        from govbot.forges.gerrit import GerritForge

        if not isinstance(forge, GerritForge):
            raise ValueError("Gerrit reconciliation needs the Gerrit adapter (not dry-run)")
        for project in scopes or [""]:
            sweeps.append(_gerrit(engine, forge, project, since, now, environ))
    else:
        raise ValueError(f"unknown forge {forge_name!r}")
    return sweeps


def _store(engine: Engine, sweep: Sweep, found: _Found, mark: marks.Mark, at: datetime) -> None:
    """The deliveries and the advanced mark, in one transaction: a failed write moves
    nothing, and the next sweep reads the same again."""
    mark.swept_at = at
    with engine.begin() as conn:
        stored = inbox.record_many(conn, found.items, at)
        marks.save(conn, mark)
    sweep.found, sweep.stored = len(found.items), sum(stored)


# -- GitHub ---------------------------------------------------------------------------


def _github(
    engine: Engine, client: Any, repo: str, since: datetime | None, now: Callable[[], datetime]
) -> Sweep:
    from govbot.forges import github_sweep

    clock = time.perf_counter()
    sweep = Sweep("github", repo)
    with engine.connect() as conn:
        mark = marks.get(conn, "github", repo)
    start = since or mark.watermark
    floor = start - SLACK if start is not None else None
    sent = {} if since is not None else dict(mark.etags)

    def fetch(url: str, params: dict[str, Any] | None = None, key: str | None = None) -> Any:
        answer = github_sweep.get(client, url, params, sent.get(key) if key else None)
        sweep.requests += 1
        if answer.not_modified:
            sweep.not_modified += 1
        elif key and answer.etag:
            mark.etags[key] = answer.etag
        return answer

    def pages(url: str, params: dict[str, Any], key: str | None) -> Iterator[list[Any]]:
        """Each page's items; the first page is conditional (nothing when not modified)."""
        answer = fetch(url, params, key)
        if answer.not_modified:
            return
        while True:
            yield answer.data or []
            if not answer.next_url:
                return
            answer = fetch(answer.next_url)

    found, newest = _Found(), mark.watermark
    # Every pull request, most recently updated first (a close or a merge updates it too),
    # read down to the watermark and no further; the first sweep also lists every open
    # one, however old.
    by_number: dict[int, dict[str, Any]] = {}
    listing = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
    pull_floor = floor or (now() - FIRST_LOOKBACK)
    for page in pages(f"/repos/{repo}/pulls", listing, "pulls" if since is None else None):
        fresh = [p for p in page if _gh_time(p.get("updated_at")) >= pull_floor]
        for p in fresh:
            by_number.setdefault(p["number"], p)
        if len(fresh) < len(page):
            break
    if start is None:
        for page in pages(f"/repos/{repo}/pulls", {"state": "open", "per_page": 100}, None):
            for p in page:
                by_number.setdefault(p["number"], p)
    with engine.connect() as conn:
        known = {n: reviews.get(conn, _gh_key(repo, n)) for n in by_number}
    for p in by_number.values():
        newest = _later(newest, _gh_time(p.get("updated_at")))
    pulls = [p for p in by_number.values() if p.get("state") == "open"]
    # a closed one matters while govbot has it open: it closes after its votes and comments
    still_open = {n for n, state in known.items() if state is not None and state.state == "open"}
    closing = [p for n, p in by_number.items() if p.get("state") != "open" and n in still_open]
    default_branch: list[str] = []

    def repository(pull: dict[str, Any] | None = None) -> dict[str, Any]:
        base_repo = ((pull or {}).get("base") or {}).get("repo")
        if isinstance(base_repo, dict) and base_repo.get("default_branch"):
            return {"full_name": repo, "default_branch": base_repo["default_branch"]}
        if not default_branch:
            default_branch.append(client.default_branch(repo))
        return {"full_name": repo, "default_branch": default_branch[0]}

    for pull in [*pulls, *closing]:
        number = pull["number"]
        action = _pull_action(known[number], pull) if pull.get("state") == "open" else None
        head = (pull.get("head") or {}).get("sha", "")
        if action is not None:
            payload = {"action": action, "number": number, "pull_request": pull,
                       "repository": repository(pull), "sender": pull.get("user")}  # fmt: skip
            draft = "draft" if pull.get("draft") else "ready"
            stamp = int(_gh_time(pull.get("updated_at")).timestamp())
            delivery = f"gh-pr-{repo}#{number}-{head}-{draft}-{stamp}"
            found.add("github", delivery, "pull_request", payload)
        reviews_url = f"/repos/{repo}/pulls/{number}/reviews"
        for page in pages(reviews_url, {"per_page": 100}, f"reviews:{number}"):
            for review in page:
                if str(review.get("state", "")).upper() not in ("APPROVED", "CHANGES_REQUESTED"):
                    continue  # a comment-only review casts nothing; a dismissed one: see below
                link = {k: pull[k] for k in ("url", "html_url") if k in pull}
                payload = {"action": "submitted", "review": review,
                           "pull_request": {"number": number, **link},
                           "repository": repository(pull), "sender": review.get("user")}  # fmt: skip
                found.add("github", f"gh-review-{review['id']}", "pull_request_review", payload)
    # A dismissed review says who wrote it, not who dismissed it (only the webhook's
    # sender does), so its withdrawal cannot be judged here and is not synthesized.
    on_review = {p["number"] for p in [*pulls, *closing]}
    # The comments' ``since`` stays put while the listing fits one page, so an unchanged
    # listing is the same URL and its ETag answers 304; it moves up once the listing grows.
    if since is not None:
        since_comments = _gh_iso(since - SLACK)
    else:
        since_comments = mark.etags.get("comments:since") or _gh_iso(
            floor or (now() - FIRST_LOOKBACK)
        )
    listing = {"since": since_comments, "sort": "updated", "direction": "asc", "per_page": 100}
    read = 0
    for page in pages(
        f"/repos/{repo}/issues/comments", listing, "comments" if since is None else None
    ):
        read += 1
        for comment in page:
            number = _issue_number(comment)
            if number is None:
                continue
            newest = _later(newest, _gh_time(comment.get("updated_at")))
            on_pr = number in on_review or _known(engine, repo, number)
            found.add("github", *_comment_delivery(repo, number, comment, on_pr, repository()))
    for pull in closing:  # after the votes and comments, as it happened
        found.add("github", *_closed_delivery(repo, pull, repository(pull)))
    for number, pull in by_number.items():
        if pull.get("state") != "open":  # its reviews are never asked again
            mark.etags.pop(f"reviews:{number}", None)
    if since is None:
        mark.etags["comments:since"] = since_comments
        if read > 1 and newest is not None:
            mark.etags["comments:since"] = _gh_iso(newest - SLACK)
            mark.etags.pop("comments", None)  # another URL from now on
    mark.watermark = newest
    _store(engine, sweep, found, mark, now())
    sweep.seconds = time.perf_counter() - clock
    return sweep


def _closed_delivery(
    repo: str, pull: dict[str, Any], repository: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """A ``pull_request.closed`` delivery of a pull request closed while govbot was away.

    The list endpoint gives ``merged_at``, not the single pull request's ``merged``;
    who closed it is not in the record, so the delivery names no ``sender`` (the
    closed event's handler reads none).
    """
    merged = pull.get("merged")
    if not isinstance(merged, bool):
        merged = pull.get("merged_at") is not None
    number = pull["number"]
    payload = {"action": "closed", "number": number,
               "pull_request": {**pull, "merged": merged}, "repository": repository}  # fmt: skip
    stamp = int(_gh_time(pull.get("closed_at") or pull.get("updated_at")).timestamp())
    return f"gh-pr-closed-{repo}#{number}-{stamp}", "pull_request", payload


def _comment_delivery(
    repo: str, number: int, comment: dict[str, Any], on_pr: bool, repository: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """An ``issue_comment`` delivery of a comment as the API shows it now.

    Its ``sender`` is the comment's author: the API's record of the comment is
    authoritative, and only the author can have written what it says now (an edit
    by someone else would have come as a webhook naming them; the API does not
    keep who edited). An edited comment is delivered as "edited" without the
    previous body, which the API does not keep either.
    """
    issue: dict[str, Any] = {"number": number}
    if on_pr:
        issue["pull_request"] = {"url": f"/repos/{repo}/pulls/{number}"}
    edited = comment.get("updated_at") != comment.get("created_at")
    payload = {"action": "edited" if edited else "created", "issue": issue, "comment": comment,
               "repository": repository, "sender": comment.get("user")}  # fmt: skip
    delivery = f"gh-comment-{comment['id']}"
    if edited:
        delivery += f"-{int(_gh_time(comment.get('updated_at')).timestamp())}"
    return delivery, "issue_comment", payload


def _pull_action(state: ReviewState | None, pull: dict[str, Any]) -> str | None:
    """The pull_request action that brings govbot's record up to the forge's, or None."""
    head = (pull.get("head") or {}).get("sha")
    draft = bool(pull.get("draft"))
    if state is None or state.state != "open":
        return "opened"
    if state.head_sha != head:
        return "synchronize"
    if state.draft != draft:
        return "converted_to_draft" if draft else "ready_for_review"
    return None


def _redeliver(
    engine: Engine, client: Any, since: datetime | None, now: Callable[[], datetime]
) -> Sweep:
    """Ask GitHub to redeliver the App's webhook deliveries that never got an answer.

    A delivery (``guid``) failed when none of its attempts was answered below 500:
    a 4xx is govbot's considered refusal (a bad signature, a payload it cannot
    use), not a gap. Newest first, down to the watermark.
    """
    from govbot.forges import github_sweep

    clock = time.perf_counter()
    sweep = Sweep("github", "app-deliveries")
    with engine.connect() as conn:
        mark = marks.get(conn, "github", "app-deliveries")
    start = since or mark.watermark
    floor = start - SLACK if start is not None else now() - timedelta(days=3)
    attempts: dict[str, list[dict[str, Any]]] = {}
    newest = mark.watermark
    answer = github_sweep.get(client, "/app/hook/deliveries", {"per_page": 100}, app=True)
    sweep.requests += 1
    while True:
        page = answer.data or []
        for d in page:
            at = _gh_time(d.get("delivered_at"))
            if at < floor:
                continue
            newest = _later(newest, at)
            attempts.setdefault(str(d.get("guid")), []).append(d)
        old = any(_gh_time(d.get("delivered_at")) < floor for d in page)
        if old or not answer.next_url:
            break
        answer = github_sweep.get(client, answer.next_url, app=True)
        sweep.requests += 1
    failed = [
        max(tries, key=lambda d: _gh_time(d.get("delivered_at")))
        for tries in attempts.values()
        if all(_failed(d) for d in tries)
    ]
    for d in sorted(failed, key=lambda d: _gh_time(d.get("delivered_at")))[:MAX_REDELIVERIES]:
        github_sweep.redeliver(client, int(d["id"]))
        sweep.requests += 1
        sweep.redelivered += 1
    mark.watermark = newest
    _store(engine, sweep, _Found(), mark, now())
    sweep.seconds = time.perf_counter() - clock
    return sweep


def _failed(delivery: dict[str, Any]) -> bool:
    code = delivery.get("status_code")
    return not isinstance(code, int) or code == 0 or code >= 500


def _known(engine: Engine, repo: str, number: int) -> bool:
    with engine.connect() as conn:
        return reviews.get(conn, _gh_key(repo, number)) is not None


def _gh_key(repo: str, number: int | str) -> str:
    return ReviewRef("github", repo, str(number)).key


def _issue_number(comment: dict[str, Any]) -> int | None:
    url = comment.get("issue_url")
    tail = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else ""
    return int(tail) if tail.isdigit() else None


def _gh_time(value: Any) -> datetime:
    """GitHub's ISO 8601 time ("…Z"); the epoch when absent (sorts first, never skipped wrongly)."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _gh_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- Gerrit ---------------------------------------------------------------------------

GERRIT_OPTIONS = (
    "CURRENT_REVISION",
    "CURRENT_COMMIT",
    "MESSAGES",
    "DETAILED_ACCOUNTS",
    "DETAILED_LABELS",
)


def _gerrit(
    engine: Engine,
    forge: Any,
    project: str,
    since: datetime | None,
    now: Callable[[], datetime],
    environ: Mapping[str, str],
) -> Sweep:
    """One query of the changes updated since the watermark (all open ones the first time).

    rest-api-changes.txt, "Query Changes": ``GET /changes/?q=…&o=…``, the last
    change of a page carries ``_more_changes: true`` and the next page starts at
    ``S=<count so far>``. user-search.txt: ``age:'AGE'`` is the "amount of time
    that has expired since the change was last updated with a review comment or
    new patch set", so ``-age:<N>s`` is "updated within the last N seconds".
    """
    _, vote_label, bot_user = registry.gerrit_labels(environ)
    clock = time.perf_counter()
    sweep = Sweep("gerrit", project or "*")
    with engine.connect() as conn:
        mark = marks.get(conn, "gerrit", sweep.scope)
    start = since or mark.watermark
    terms = [f'project:"{project}"'] if project else []
    if start is None:
        terms.append("status:open")
    else:
        age = max(1, int((now() - (start - SLACK)).total_seconds()))
        terms.append(f"-age:{age}s")
    query = " ".join(terms)
    changes: list[dict[str, Any]] = []
    while True:
        page = forge.rest.query_changes(query, *GERRIT_OPTIONS, start=len(changes))
        sweep.requests += 1
        changes += page
        if not page or not page[-1].get("_more_changes"):
            break
    found, newest = _Found(), mark.watermark
    floor = start - SLACK if start is not None else None
    for change in changes:
        newest = _later(newest, _gerrit_time(change.get("updated")))
        _gerrit_change(engine, change, floor, vote_label, bot_user, found)
    mark.watermark = newest
    _store(engine, sweep, found, mark, now())
    sweep.seconds = time.perf_counter() - clock
    return sweep


def _gerrit_change(
    engine: Engine,
    change: dict[str, Any],
    floor: datetime | None,
    vote_label: str,
    bot_user: str,
    found: _Found,
) -> None:
    project, number = str(change.get("project")), int(change.get("_number", 0))
    current = change.get("current_revision")
    revisions = change.get("revisions") or {}
    revision = revisions.get(current) or {}
    ps = revision.get("_number")
    attribute = {
        "project": project,
        "branch": change.get("branch"),
        "id": change.get("change_id"),
        "number": number,
        "subject": change.get("subject", ""),
        "owner": _account(change.get("owner")),
        "status": change.get("status"),
    }
    if change.get("work_in_progress"):
        attribute["wip"] = True
    with engine.connect() as conn:
        state = reviews.get(conn, ReviewRef("gerrit", project, str(number)).key)
    if change.get("status") == "NEW" and isinstance(current, str) and isinstance(ps, int):
        kind = None
        if state is None or state.head_sha != current:
            kind = "patchset-created"
        elif state.state != "open":
            kind = "change-restored"
        if kind is not None:
            commit = revision.get("commit") or {}
            parents = [p.get("commit") for p in commit.get("parents") or [] if isinstance(p, dict)]
            uploader = _account(revision.get("uploader") or change.get("owner"))
            event = {
                "type": kind,
                "change": attribute,
                "patchSet": {"number": ps, "revision": current, "uploader": uploader,
                             "parents": [p for p in parents if p], "kind": revision.get("kind"),
                             "ref": revision.get("ref")},
                "uploader": uploader,
                "eventCreatedOn": int(_gerrit_time(revision.get("created")).timestamp()),
            }  # fmt: skip
            delivery = f"gerrit-ps-{project}~{number}-{ps}"
            if kind == "change-restored":
                delivery = f"gerrit-restored-{project}~{number}-{ps}-{event['eventCreatedOn']}"
            found.add("gerrit", delivery, kind, event)
    elif change.get("status") in CLOSED and state is not None and state.state == "open":
        found.add("gerrit", *_gerrit_closed(change, attribute, current, ps))
    shas = {r.get("_number"): sha for sha, r in revisions.items()}
    for message in change.get("messages") or []:
        at = _gerrit_time(message.get("date"))
        if floor is not None and at < floor:
            continue
        tag = message.get("tag") or ""
        author = message.get("author") or message.get("real_author")
        if tag.startswith("autogenerated:") or not isinstance(author, dict):
            continue  # Gerrit's own messages (a new patch set, a merge): no comment-added
        if author.get("username") == bot_user:
            continue  # govbot's own results
        event = _comment_added(attribute, message, at, shas, vote_label)
        found.add("gerrit", f"gerrit-msg-{message.get('id')}", "comment-added", event)


CLOSED = {"MERGED": "change-merged", "ABANDONED": "change-abandoned"}


def _gerrit_closed(
    change: dict[str, Any], attribute: dict[str, Any], current: Any, ps: Any
) -> tuple[str, str, dict[str, Any]]:
    """The ``change-merged`` / ``change-abandoned`` event of a change govbot still has
    open (cmd-stream-events.txt), from ChangeInfo: ``submitted`` and ``submitter`` for a
    merge, ``updated`` for an abandon. ChangeInfo names no merge commit, so the event
    has no ``newRev``: the review is closed, but no release is tagged at a guessed
    commit (the real event, if it comes, carries it). The event's identity differs
    from the real one's (no ``newRev``), so a late real event is processed too; closing
    a closed review is idempotent."""
    kind = CLOSED[str(change["status"])]
    merged = kind == "change-merged"
    at = _gerrit_time(change.get("submitted") if merged else change.get("updated"))
    event: dict[str, Any] = {
        "type": kind,
        "change": attribute,
        "patchSet": {"number": ps, "revision": current},
        "eventCreatedOn": int(at.timestamp()),
    }
    if merged:
        event["submitter"] = _account(change.get("submitter"))
    number = f"{attribute['project']}~{attribute['number']}"
    return f"gerrit-{kind}-{number}-{event['eventCreatedOn']}", kind, event


def _comment_added(
    attribute: dict[str, Any],
    message: dict[str, Any],
    at: datetime,
    shas: dict[Any, str],
    vote_label: str,
) -> dict[str, Any]:
    """The ``comment-added`` event Gerrit sent for a review message (cmd-stream-events.txt).

    The vote is read from the message's own first line, which Gerrit writes for
    every label a review changes ("Patch Set 2: Code-Review+1", "-Code-Review"
    when removed). The stream's ``oldValue`` (present only when the value
    changed) is not in the REST record: a changed label gets one that differs
    from the new value ("0", or for a removal "1"), which is all the parser reads.
    """
    ps = message.get("_revision_number")
    text = str(message.get("message") or "")
    approvals = []
    header = _VOTE_HEADER.match(text.split("\n", 1)[0])
    for token in header.group(2).split() if header else []:
        vote = _LABEL_VOTE.match(token)
        if vote is None or vote.group(2) != vote_label:
            continue
        removed, value = vote.group(1) == "-", vote.group(3)
        if removed or value is None:
            approvals.append({"type": vote_label, "value": "0", "oldValue": "1"})
        else:
            number = int(value)
            approvals.append({"type": vote_label, "value": f"{number:+d}" if number else "0",
                              "oldValue": "0" if number else "1"})  # fmt: skip
    patch_set: dict[str, Any] = {"number": ps}
    if ps in shas:
        patch_set["revision"] = shas[ps]
    return {
        "type": "comment-added",
        "change": attribute,
        "patchSet": patch_set,
        "author": _account(message.get("author")),
        "approvals": approvals,
        "comment": text,
        "eventCreatedOn": int(at.timestamp()),
    }


def _account(info: Any) -> dict[str, Any]:
    """A REST AccountInfo as the stream's account attribute (name, email, username)."""
    if not isinstance(info, dict):
        return {}
    return {k: info[k] for k in ("name", "email", "username") if info.get(k)}


def _gerrit_time(value: Any) -> datetime:
    """Gerrit's timestamps: "2013-02-21 11:16:36.000000000", always UTC (rest-api.txt)."""
    if not isinstance(value, str):
        return datetime(1970, 1, 1, tzinfo=UTC)
    try:
        return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)


# -- shared ---------------------------------------------------------------------------


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _bounded(delivery: str) -> str:
    if len(delivery) <= _ID_LIMIT:
        return delivery
    return delivery.split("-", 1)[0] + "-" + hashlib.sha256(delivery.encode()).hexdigest()
