"""Every post to a forge, dry or real, goes through here: made inert, then remembered.

Inert: no @mention in what govbot posts notifies anyone (see
:mod:`govbot.core.mentions`). It is applied here, to every text a person reads
on the forge (check titles and summaries, annotations, comments, release
names and notes, a proposed change's message), because all of govbot's posts
pass here, whatever text they were built from; tag messages (which carry the
manifest) and file contents are never changed. The reports table records
what was actually sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from govbot.core.events import ReviewRef
from govbot.core.mentions import inert
from govbot.forges.base import CheckReport, Forge, OpenedChange, ProposedChange, Published

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


@dataclass(frozen=True)
class Posted:
    kind: str  # "check" | "vote" | "comment" | "labels" | "tag" | "release" | "change"
    review_key: str
    head_sha: str
    title: str
    body: str
    external_id: str


@dataclass
class RecordingForge:
    """Wraps a forge; ``posted`` lists what went out (or would have, in dry-run)."""

    forge: Forge
    dry_run: bool
    posted: list[Posted] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.forge.name

    def read_files(self, repo: str, rev: str) -> dict[str, bytes]:
        return self.forge.read_files(repo, rev)

    def changed_files(self, review: ReviewRef) -> list[str]:
        return self.forge.changed_files(review)

    def default_branch(self, repo: str) -> str:
        return self.forge.default_branch(repo)

    def resolve(self, repo: str, rev: str) -> str:
        return self.forge.resolve(repo, rev)

    def account_id(self, login: str) -> str | None:
        return self.forge.account_id(login)

    def tag_commit(self, repo: str, tag: str, pushed: str) -> str:
        return self.forge.tag_commit(repo, tag, pushed)

    def post_check(self, report: CheckReport) -> str:
        report = replace(
            report,
            title=inert(report.title),
            summary=inert(report.summary),
            annotations=tuple(
                replace(a, title=inert(a.title), message=inert(a.message))
                for a in report.annotations
            ),
        )
        ident = self.forge.post_check(report)
        kind = report.name.rsplit("/", 1)[-1]  # "govbot/check" -> check, "govbot/vote" -> vote
        self.posted.append(
            Posted(kind, report.review.key, report.head_sha, report.title, report.summary, ident)
        )
        return ident

    def upsert_comment(
        self,
        review: ReviewRef,
        marker: str,
        body: str,
        head_sha: str = "",
        notify: Sequence[str] = (),
    ) -> str:
        """``notify``: the one deliberate exception to inert text, logins govbot itself chose
        to alert (the chairs, from the governed branch's roster, when a vote was tampered
        with); only plain login names pass, appended after the inert body."""
        body = inert(body)
        logins = [n for n in notify if _LOGIN.fullmatch(n)]
        if logins:
            body += "\n\ncc " + " ".join(f"@{n}" for n in logins)
        ident = (
            self.forge.upsert_comment(review, marker, body, notify=tuple(logins))
            if logins
            else self.forge.upsert_comment(review, marker, body)
        )
        self.posted.append(Posted("comment", review.key, head_sha, marker, body, ident))
        return ident

    def labels(self, review: ReviewRef) -> frozenset[str]:
        return self.forge.labels(review)

    def edit_labels(
        self, review: ReviewRef, add: Sequence[str], remove: Sequence[str], head_sha: str = ""
    ) -> None:
        """Labels are names, not prose: nothing to make inert; recorded as +added -removed."""
        if not add and not remove:
            return
        self.forge.edit_labels(review, add, remove)
        body = " ".join([*(f"+{a}" for a in add), *(f"-{r}" for r in remove)])
        self.posted.append(Posted("labels", review.key, head_sha, "labels", body, review.key))

    def create_tag(self, repo: str, tag: str, sha: str, message: str) -> str:
        ident = self.forge.create_tag(repo, tag, sha, message)
        self.posted.append(Posted("tag", repo, sha, tag, message, ident))
        return ident

    def publish_release(
        self, repo: str, tag: str, name: str, body: str, assets: Mapping[str, bytes]
    ) -> str:
        name, body = inert(name), inert(body)
        ident = self.forge.publish_release(repo, tag, name, body, assets)
        listing = "\n".join(f"- {n} ({len(b)} bytes)" for n, b in sorted(assets.items()))
        self.posted.append(
            Posted("release", repo, tag, name, f"{body}\n\nAssets:\n{listing}", ident)
        )
        return ident

    def open_change(self, change: ProposedChange) -> OpenedChange:
        change = replace(change, message=inert(change.message))
        opened = self.forge.open_change(change)
        listing = "\n".join(
            f"- {path}" + (" (removed)" if data is None else f" ({len(data)} bytes)")
            for path, data in sorted(change.files.items())
        )
        body = f"{change.message}\n\nOnto {change.base} from {change.branch}:\n{listing}"
        self.posted.append(
            Posted("change", change.repo, change.branch, change.title, body, opened.url)
        )
        return opened

    def published(self, repo: str, tag: str) -> Published:
        return self.forge.published(repo, tag)
