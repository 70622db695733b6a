"""The forges govbot knows, by name: the one place that switches on "github" or "gerrit".

Each forge contributes a normaliser (payload -> govbot events) and a
constructor from the environment. Credentials only ever come from the
environment (or files it names), and nothing here logs them. With no
credentials for a forge, govbot runs in dry-run mode against a local clone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from govbot.core.events import Event
from govbot.forges.base import Forge, PayloadError
from govbot.forges.dryrun import DryRunForge
from govbot.repo.bundled import local_repo

FORGES = ("github", "gerrit")


def gerrit_labels(environ: Mapping[str, str] = os.environ) -> tuple[str, str, str]:
    """(the check's label, the label whose votes are ballots, govbot's own username).

    They come from configuration because every Gerrit site names its labels
    and its bot account: a message from govbot's account is never read as a
    command, and the check's label is never counted as a vote.
    """
    return (
        environ.get("GOVBOT_GERRIT_LABEL", "").strip() or "Verified",
        environ.get("GOVBOT_GERRIT_VOTE_LABEL", "").strip() or "Code-Review",
        environ.get("GOVBOT_GERRIT_USER", "").strip() or "govbot",
    )


def normalise(source: str, event: str, payload: Any) -> list[Event] | None:
    """govbot's events for one delivery; None when govbot does not handle it.

    PayloadError when a handled delivery lacks what govbot needs. Imports are
    lazy: the receiver and the worker load only the forge they are handed.
    """
    if source == "github":
        from govbot.forges import github_events

        return github_events.normalise(event, payload)
    if source == "gerrit":
        from govbot.forges import gerrit_events

        label, vote_label, bot_user = gerrit_labels()
        return gerrit_events.normalise(payload, label, vote_label, bot_user)
    raise PayloadError(f"unknown source {source!r}")


def event_key(source: str, event: str, payload: Any, body_digest: str | None = None) -> str | None:
    """The identity of the event a delivery carries, beside its delivery id.

    First the forge object it reports, when that has a lasting identity
    (``github_events.event_key``, ``gerrit_events.event_key``): reconciliation's
    synthesized delivery and the late real webhook of the same thing share it.
    Otherwise, GitHub: the event type and a digest of the signed body (the
    delivery id header is not covered by the HMAC, so a captured body replayed
    under a new id is the same event). The receiver passes the HMAC it has just
    checked: equal bodies have equal HMACs under the webhook secret, and a replay
    must carry a valid one (hashing the body again was a twentieth of the time
    to acknowledge a delivery). Gerrit: the event's own fields
    (``gerrit_events.identity``), so a byte that does not change the event does
    not make a new one. Synthesized deliveries pass no digest: a pull request's
    head has no lasting key (a head can come back), its handler is idempotent.
    """
    if source == "github":
        from govbot.forges import github_events

        key = github_events.event_key(event, payload)
        if key is None and body_digest is not None:
            key = f"{event}:{body_digest}"
        return key
    if source == "gerrit" and isinstance(payload, dict):
        from govbot.forges import gerrit_events

        return gerrit_events.event_key(payload) or gerrit_events.identity(payload)
    return None


def events_of(source: str, event: str, body: bytes) -> list[Event] | None:
    """:func:`normalise` of a stored raw body."""
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise PayloadError(f"body is not JSON: {e}") from e
    return normalise(source, event, payload)


def _from_env(source: str, environ: Mapping[str, str]) -> Forge | None:
    if source == "github":
        from govbot.forges.github import GitHubForge

        return GitHubForge.from_env(environ)
    if source == "gerrit":
        from govbot.forges.gerrit import GerritForge

        return GerritForge.from_env(environ)
    return None


def forge_factory(environ: Mapping[str, str] = os.environ) -> Callable[[str], tuple[Forge, bool]]:
    """source -> (forge, dry_run). Real forges are built once and reused."""
    forges: dict[str, tuple[Forge, bool]] = {}

    def forge_for(source: str) -> tuple[Forge, bool]:
        if source not in forges:
            real = _from_env(source, environ)
            forges[source] = (
                (real, False) if real is not None else (DryRunForge(local_repo(environ)), True)
            )
        return forges[source]

    return forge_for
