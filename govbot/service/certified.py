"""A product submission merged: the product enters the registry, and that is recorded.

The registry is data in Git: the products tree of the governed branch, so a
merge *is* the entry (2017A C2.2: the Foundation approves by merging). What
Git cannot say is recorded here: which review brought the product in, when,
and whether the Foundation's vote had passed on the merged head (tallied
afresh from the stored ballots, as a release is). A product merged without
it stays in the registry, since it is on the branch, and the reviewers are
told on the review. The reminders before expiry go to that review.

With ``GOVBOT_REGISTRY_DIR`` set, the registry's published records
(``products/``: JSON, the passes of each program, 2017A C4) are written there
after every such merge, for a web server to serve; the HTML pages come from
``govbot site build`` (the same templates as the live site).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from govbot.core import registry, registry_site, submission
from govbot.core.certification import VOTE_CLASS
from govbot.core.events import ChangeMerged
from govbot.core.layout import PRODUCTS_DIR
from govbot.core.policies import PolicyUnusable
from govbot.service import voting
from govbot.service.context import Context
from govbot.service.governed import pinned_policies
from govbot.service.registry import handles
from govbot.store import certified as stored
from govbot.store import checks, reviews
from govbot.store.certified import Certification
from govbot.store.effects import Effects
from govbot.store.reviews import ReviewState

MARKER = "<!-- govbot:certified -->"
PAGES_DIR = "GOVBOT_REGISTRY_DIR"


@handles(ChangeMerged)
def on_merged(event: ChangeMerged, ctx: Context, conn: Connection, effects: Effects) -> None:
    """Record each product the merged submission added or changed, and say so on it."""
    ref = event.review
    review = reviews.get(conn, ref.key)
    checked = checks.latest(conn, ref.key)
    if review is None or checked is None or checked.base_sha is None:
        return  # never checked: not a change govbot judged
    if checked.vote_class != VOTE_CLASS:
        return  # not a product submission
    merged_at = event.merge_sha or event.base_ref
    governed = review.governed_branch or event.base_ref
    if event.base_ref != governed:
        effects.audit.append(
            ("merge-not-governed", ref.key, {"branch": event.base_ref, "sha": merged_at})
        )
        return
    after = ctx.forge.read_files(ref.repo, merged_at)
    own = submission.changed_products(
        ctx.forge.read_files(ref.repo, checked.base_sha),
        ctx.forge.read_files(ref.repo, checked.head_sha),
    )
    when = ctx.when(event.at)
    vote = _vote(ctx, conn, review, event.head_sha or review.head_sha, checked.head_sha, when)
    dates = approval_dates(conn, ref.forge, ref.repo)
    dates.update({path: when.date() for path in own})
    certified = registry.build(after, when.date(), dates)
    entered = [e for e in certified.entries if e.path in own]
    for path in own:
        if path in after:
            effects.certified.append(
                Certification(ref.forge, ref.repo, path, ref.key, governed, merged_at, when, vote)
            )
    for e in entered:
        detail = {
            "product": e.product,
            "program": e.program,
            "guideline": e.guideline,
            "release": e.release,
            "expires": e.expires.isoformat() if e.expires else None,
            "qualified": e.qualified,
            "vote": vote,
            "sha": merged_at,
        }
        effects.audit.append(("product-certified", ref.key, detail))
    ctx.forge.upsert_comment(
        ref,
        MARKER,
        _comment(entered, [(p, why) for p, why in certified.unreadable if p in own], vote),
        head_sha=merged_at,
        notify=tuple(_reviewers(ctx, review)) if vote != "passed" else (),
    )
    written = publish_pages(certified)
    if written is not None:
        effects.audit.append(("registry-published", ref.key, {"dir": written, "sha": merged_at}))


def _vote(
    ctx: Context,
    conn: Connection,
    review: ReviewState,
    merged: str | None,
    checked: str,
    merged_on: datetime,
) -> str:
    """The Foundation's vote as it stood on the merged head when it merged: ``passed``,
    else its state (``stale`` when it passed on another head than the one merged)."""
    result = voting.judge_merged(ctx, conn, review, merged_on)
    if merged != result.head_sha or merged != checked:
        return "stale"
    return result.state


def approval_dates(conn: Connection, forge: str, repo: str) -> dict[str, date]:
    """When each product of ``repo`` last entered the registry, as govbot saw it merge."""
    return {
        c.product: c.approved_at.date()
        for c in stored.latest(conn)
        if (c.forge, c.repo) == (forge, repo)
    }


def _comment(
    entered: list[registry.Certified], unreadable: list[tuple[str, str]], vote: str
) -> str:
    lines = []
    if vote != "passed":
        lines.append(
            f"**Merged without a passed Foundation review** (the vote is {vote}): the product "
            "is in the registry, since the governed branch is the registry (2017A C2.2). "
            "Foundation reviewers, please confirm it or revert the merge.\n"
        )
    if entered:
        lines.append("**In the registry of certified products** (2017A C4):\n")
        lines.append("| Product | Program | Guideline | Release | Status | Expires |")
        lines.append("|---|---|---|---|---|---|")
        for e in entered:
            expires = (
                e.expires.isoformat() if e.expires else "when two newer guidelines are approved"
            )
            lines.append(
                f"| `{e.product}` | {e.program_name} | {e.guideline} | {e.release or '?'} | "
                f"{e.status}{'' if e.qualified else ' (accepted with missing tests)'} | {expires} |"
            )
        lines.append(
            "\nOnly the passed tests are published, with the system description (C4.3-C4.5). "
            "govbot reminds the vendor's contact and the Foundation before the certification "
            "expires, here."
        )
    for path, why in unreadable:
        lines.append(f"- `{path}` is not listed: {why}")
    return "\n".join(lines) or "No product entered the registry with this change."


def _reviewers(ctx: Context, review: ReviewState) -> list[str]:
    """The Foundation reviewers' logins (the pinned certification policy), to tell them."""
    if not review.policy_sha:
        return []
    try:
        cert = pinned_policies(ctx, review.repo, review.policy_sha).certification
    except PolicyUnusable:
        return []
    return cert.deciders(review.forge, ctx.now())


def publish_pages(
    certified: registry.Registry, environ: Mapping[str, str] = os.environ
) -> str | None:
    """Write the registry's records under ``GOVBOT_REGISTRY_DIR``; the directory, or None when
    none is configured. Each file is replaced whole (a reader never sees half a page), and
    pages of products no longer listed are removed."""
    root = environ.get(PAGES_DIR, "").strip()
    if not root:
        return None
    out = Path(root)
    pages = registry_site.records(certified)
    for rel, data in pages.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
    listed = {out / rel for rel in pages}
    for old in (out / PRODUCTS_DIR).rglob("*"):
        if old.is_file() and old not in listed:
            old.unlink()
    return str(out)
